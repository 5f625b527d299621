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

/* "Key<tab>value" lines of every key the type uses and every key set away
 * from its default, in schema order, secrets as "****last4"
 * (secret_mask()); unset keys are left out. For `integration show`. */
void integration_print(const struct integration *in, FILE *out);

#endif
