/* uuencode.h: uuencoded files in a text/plain body ("begin MODE NAME",
 * encoded lines, "end"), which Outlook and Thunderbird show as
 * attachments (../shared/corpus/README.md, "attachments"). */
#ifndef TM_UUENCODE_H
#define TM_UUENCODE_H

#include <stddef.h>
#include <glib.h>

struct uu_file {
	char *name;		/* from the begin line, as written */
	GByteArray *data;	/* decoded bytes */
};

/* Finds the uuencoded blocks of text[0..len) (transfer-decoded bytes).
 * Returns the files (struct uu_file *, freed with the array) in order,
 * or NULL when there is none; *rest is then set to a new GString holding
 * the text with every block removed (for the URL search), else to NULL.
 * A block without "end" runs to the end of the text. */
GPtrArray *uu_extract(const char *text, size_t len, GString **rest);

#endif
