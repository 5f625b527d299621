/* exclude.h: the administrator's exclusions (seed "Advanced Settings").
 *
 * URL rules: a domain excludes itself and its subdomains (example.com
 * excludes www.example.com, not badexample.com); an entry with a scheme
 * ("https://portal.example.com/safe/") is a prefix of the normalised URL
 * that matches only at a boundary: the entry ends with '/', '?' or '#',
 * or the URL continues with one of them or ends there.
 * IP rules: addresses and CIDR ranges, IPv4 and IPv6; an IP rule also
 * excludes URLs whose host is such an IP. Extension rules: file
 * extensions, case-insensitive, with or without the leading dot.
 *
 * Matching returns the rule as written ("domain example.com",
 * "ip 10.0.0.0/8", "extension pdf"); the string is owned by the
 * exclusions object. */
#ifndef TM_EXCLUDE_H
#define TM_EXCLUDE_H

#include <stdbool.h>
#include <stddef.h>

struct exclusions;

struct exclusions *exclusions_new(void);
void exclusions_free(struct exclusions *excl);

bool exclusions_add_url(struct exclusions *excl, const char *entry,
			char *err, size_t errlen);
bool exclusions_add_ip(struct exclusions *excl, const char *entry,
		       char *err, size_t errlen);
bool exclusions_add_extension(struct exclusions *excl, const char *entry,
			      char *err, size_t errlen);

/* The configuration's exclusion lists, one row each: the threatmilter.conf
 * key, the word `threatmilterctl exclude` names the list by, and the
 * function above that checks and adds one entry (false with err set).
 * The daemon's loader and the ctl's editor read this one table. */
struct exclusion_list {
	const char *key;	/* "ExcludeURLs" */
	const char *word;	/* "urls" */
	bool (*add)(struct exclusions *excl, const char *entry, char *err, size_t errlen);
};

#define EXCLUSION_LISTS 3
extern const struct exclusion_list exclusion_lists[EXCLUSION_LISTS];

/* The list whose key or word is name (ASCII case ignored), or NULL. */
const struct exclusion_list *exclusion_list_find(const char *name);

/* url must be normalised (url_normalize()). */
const char *exclusions_match_url(const struct exclusions *excl,
				 const char *url);
const char *exclusions_match_ip(const struct exclusions *excl,
				const char *ip);
const char *exclusions_match_extension(const struct exclusions *excl,
				       const char *extension);

#endif
