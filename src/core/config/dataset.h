/* dataset.h: list-valued settings (exclusions, InternalHosts,
 * ReportRecipients). A value is either an inline comma separated list
 * ("a, b, c") or "file:/path" naming a file with one entry per line and
 * `#` comments (a `#` that begins the line or follows a blank, as in
 * kvfile.h: a URL fragment is part of its entry). Every entry remembers where it was written so that a bad
 * entry is reported as "file:line: message". */
#ifndef TM_DATASET_H
#define TM_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct dataset_entry {
	char *value;	/* trimmed, never empty */
	char *file;	/* file the entry was read from */
	unsigned line;
};

/* `file`/`line` locate the setting itself (the location of inline
 * entries). A relative "file:" path is taken from `base_dir` (the
 * configuration file's directory; NULL = the working directory). Returns
 * a GPtrArray of struct dataset_entry* (freed with g_ptr_array_unref), or
 * NULL with err set; err does not repeat file:line, the caller has it. */
GPtrArray *dataset_load(const char *value, const char *base_dir, const char *file,
			unsigned line, char *err, size_t errlen);

#endif
