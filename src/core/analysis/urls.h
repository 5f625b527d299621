/* urls.h: finding URLs in decoded message text and collecting them.
 *
 * A url_set keeps normalised URLs unique, remembers how many distinct
 * URLs were dropped because of the cap (MaxURLs), and hands them out
 * sorted. */
#ifndef TM_URLS_H
#define TM_URLS_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct url_set;

/* max_urls == 0 means no cap. */
struct url_set *url_set_new(unsigned max_urls);
void url_set_free(struct url_set *set);
/* Takes a normalised URL (copied). Returns false if it was dropped
 * because the set is full; a duplicate is not a drop. */
bool url_set_add(struct url_set *set, const char *url);
/* Adds url_normalize(raw, len bytes) unless it is not a URL; the same
 * candidate seen again is not normalised again. */
void url_set_add_candidate(struct url_set *set, const char *raw, size_t len);
unsigned url_set_count(const struct url_set *set);
unsigned url_set_dropped(const struct url_set *set);
/* New array of the URLs (char *, owned by the set), byte-wise sorted. */
GPtrArray *url_set_sorted(const struct url_set *set);

/* Bare URLs in plain text (UTF-8, already transfer- and charset-decoded):
 * http://, https://, ftp:// in any case, or www., starting a word; they
 * end at whitespace, < > " ' `, control characters, Unicode quotes or
 * CJK/full-width punctuation (。 、 「 ） ...);
 * trailing . , ; : ! ? ' " * and unbalanced ) ] } are not part of them. */
void urls_from_text(const char *text, size_t len, struct url_set *out);

#endif
