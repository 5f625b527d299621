/* integration_write.h: an integration back into its file, and printed for
 * people with its secrets masked. The admin tool (threatmilterctl
 * integration add/edit/enable/disable/show) is the caller; every value
 * goes through the schema table (integration_schema.h). */
#ifndef TM_INTEGRATION_WRITE_H
#define TM_INTEGRATION_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/atomicfile.h"
#include "config/integration_schema.h"
#include "config/integrations.h"

/* The file text for `in`. With old_text (the current file, may be NULL):
 * each line of a schema key gets the key's new value in place, keeping
 * the line's indentation, spelling, separator and trailing comment; a
 * line of a key that is now unset is dropped (APIKey when the key moved
 * to APIKeyFile); comments, blank lines and order are kept. Keys not in
 * old_text are appended in schema order when the type uses them and they
 * are always written (Name, Type, APIURL, the toggles, Status) or differ
 * from the type's default. Secrets are written in clear: this is the
 * file, mode 0640. Returns a new string (g_free). */
char *integration_render(const struct integration *in, const char *old_text);

/* Renders `in` over the current content of `path` (none if it does not
 * exist) and replaces the file atomically with mode 0640
 * (atomic_replace(), `check` called on the temp file). Returns false with
 * "path: reason" in err; then the old file is untouched. */
bool integration_write_file(const struct integration *in, const char *path,
			    atomic_check_fn check, void *userdata,
			    char *err, size_t errlen);

/* Whether `text`, the rendered file of `in` (integration_render()),
 * reads back through the daemon's parser (integration_parse(), as if it
 * were the file `path`) with every value of the schema exactly as `in`
 * holds it: the round trip that catches a value the file cannot hold
 * (kvfile_write.h). Returns false with the loader's "path:line: message"
 * or "path: Key: reason" in err (never quoting a secret). */
bool integration_check_written(const struct integration *in, const char *text,
			       const char *path, char *err, size_t errlen);

/* The value of `key` for people: integration_display_value() (secrets
 * as "****last4") with the password of a URL's user:password@ as "****"
 * (Proxy, APIURL). Newly allocated (g_free), NULL when unset. */
char *integration_shown_value(const struct integration *in,
			      const struct integration_key *key);

/* `text` with the password of every "scheme://user:password@" in it
 * replaced by "****" ("http://u:****@host": no character of it): for
 * messages that may quote a URL. Newly allocated (g_free). */
char *url_mask_passwords(const char *text);

/* "Key<tab>value" lines of every key the type uses and every key set away
 * from its default, in schema order, secrets as "****last4"
 * (secret_mask()), URL passwords as "****" (integration_shown_value()); unset
 * keys are left out. For `integration show`. */
void integration_print(const struct integration *in, FILE *out);

#endif
