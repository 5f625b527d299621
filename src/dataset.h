/* dataset.h: list-valued settings (exclusions, InternalHosts,
 * ReportRecipients). A value is either an inline comma separated list
 * ("a, b, c") or "file:/path" naming a file with one entry per line and
 * `#` comments. Every entry remembers where it was written so that a bad
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

/* `file`/`line` locate the setting itself (for inline lists and for an
 * unreadable list file). Returns a GPtrArray of struct dataset_entry*
 * (freed with g_ptr_array_unref), or NULL with err set. */
GPtrArray *dataset_load(const char *value, const char *file, unsigned line,
			char *err, size_t errlen);

#endif
