/* integration_schema.h: every key of an integration file, as ONE table.
 *
 * A row says the key's name, its value type, where it is stored in
 * struct integration, its default (per provider type where the seed's
 * "New integration" form differs: API URL, toggles, ANY.RUN Attachments
 * off, upload toggles off), whether it is a secret, and which provider
 * capabilities or types use it. The same rows read a file
 * (integrations.c), write it back (integration_write.c), print it with
 * masked secrets, fill in a new integration (threatmilterctl add), and
 * are checked against threatmilter.conf(5) by a unit test.
 *
 * Value syntax: config/values.h (a bare duration means seconds). */
#ifndef TM_INTEGRATION_SCHEMA_H
#define TM_INTEGRATION_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "config/integrations.h"

struct provider_type;

enum integration_key_kind {
	IKEY_NAME,		/* char *name, [A-Za-z0-9._-]{1,64} */
	IKEY_TYPE,		/* const struct provider_type *type */
	IKEY_TEXT,		/* char *, any text */
	IKEY_SECRET,		/* char *, never printed or quoted in clear */
	IKEY_KEY_FILE,		/* char *api_key_file; the key is read into api_key */
	IKEY_PROXY,		/* char *, "default" = NULL (no proxy) */
	IKEY_TAGS,		/* GPtrArray of char *, comma separated */
	IKEY_BOOL,		/* bool: yes/no */
	IKEY_STATUS,		/* bool active: active/inactive */
	IKEY_UINT,		/* unsigned in [min, max] */
	IKEY_DURATION,		/* unsigned milliseconds in [min, max] */
	IKEY_SIZE,		/* size_t bytes in [min, max] */
	IKEY_ENUM,		/* int index into names */
	IKEY_RATE_LIMIT,	/* char *, "N/period,..."; "none" = NULL */
	IKEY_DNS_SERVERS,	/* char *, "IP[:port], ..." */
};

/* flags */
#define IKEY_SECRET_VALUE	0x1u	/* masked by integration_display_value() */
#define IKEY_ALWAYS_WRITTEN	0x2u	/* written to a new file even at its default */
#define IKEY_TOGGLE		0x4u	/* a capability switch: "yes" needs `caps` */
#define IKEY_INSTANCE		0x8u	/* describes this instance (name, credentials,
					 * status, dates): an example file need not
					 * carry a default for it */
#define IKEY_REQUIRED		0x10u	/* must be in every file */

struct integration_key {
	const char *name;		/* as written: "CacheHours" */
	enum integration_key_kind kind;
	size_t offset;			/* in struct integration */
	const char *default_text;	/* NULL = unset; see integration_key_default() */
	unsigned long long min, max;	/* IKEY_UINT, IKEY_DURATION (ms), IKEY_SIZE (bytes) */
	const char *const *names;	/* IKEY_ENUM */
	unsigned name_count;
	unsigned caps;			/* CAP_* of providers/registry.h that use the key
					 * (any of them); 0 = every type */
	const char *types;		/* "apivoid,cyberxray": only these types; NULL = by caps */
	unsigned flags;
	const char *doc;		/* meaning, one sentence, for the man page */
};

/* The values of Privacy (enum integration_privacy order): "owner",
 * "byteam", "bylink", "public" — as ANY.RUN's opt_privacy_type spells
 * them (../shared/providers/anyrun.md §3.1). */
extern const char *const integration_privacy_names[];

/* The rows in file order: for (i = 0; (k = integration_schema_at(i)); i++). */
const struct integration_key *integration_schema_at(unsigned index);
/* The row of `name` (case-insensitive), or NULL. */
const struct integration_key *integration_schema_find(const char *name);

/* Whether `type` uses the key (its `types`, else one of its `caps`). */
bool integration_key_applies(const struct integration_key *key,
			     const struct provider_type *type);
/* The built-in default of the key for `type`, as a file would hold it
 * ("24", "5s", "https://www.virustotal.com/api/v3"); newly allocated
 * (g_free), NULL when the key is unset by default. */
char *integration_key_default(const struct integration_key *key,
			      const struct provider_type *type);

/* Parses `value` as the key's type, checks its range and that in->type
 * uses the key, and stores it in `in` (replacing, and for secrets wiping,
 * the old value). A relative APIKeyFile is taken from `base_dir` (NULL =
 * working directory). On error returns false, `in` unchanged, and err
 * reads "Key: reason" without ever quoting a secret. */
bool integration_set_value(struct integration *in, const struct integration_key *key,
			   const char *value, const char *base_dir,
			   char *err, size_t errlen);
/* Frees every value the keys of the schema store in `in` (secrets wiped
 * first) and leaves those fields NULL; what no key stores (file,
 * warnings) and the plain values (numbers, flags) are left alone. For
 * integration_free(): a new key of a text kind is freed without another
 * line there. */
void integration_clear_values(struct integration *in);
/* The value as the file holds it, secrets in clear (for writing); newly
 * allocated, NULL when unset (APIKey when the key comes from APIKeyFile,
 * Description never given...). */
char *integration_get_value(const struct integration *in,
			    const struct integration_key *key);
/* The same for people: secrets through secret_mask(). */
char *integration_display_value(const struct integration *in,
				const struct integration_key *key);
/* "****" followed by the last 4 characters of `secret` when it has at
 * least 12, else "****" alone (a short key would be half shown). Newly
 * allocated; NULL for NULL. */
char *secret_mask(const char *secret);
/* Overwrites `secret` with zeros, then g_free()s it, so that keys do not
 * stay in freed memory. NULL is fine. */
void secret_free(char *secret);
/* Whether `secret` is a placeholder left from an example ("your-...",
 * "YOUR-API-KEY", "changeme", "<key>", "xxxx..."). */
bool secret_is_placeholder(const char *secret);
/* Adds to in->warnings when the file at `path` (holding a secret; `what`
 * names it: "APIKeyFile", "file") is readable or writable by others or
 * writable by its group. Group-readable is the documented setup. */
void integration_warn_if_exposed(struct integration *in, const char *what,
				 const char *path);

#endif
