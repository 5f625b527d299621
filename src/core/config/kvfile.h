/* kvfile.h: reader for `Key value` files (threatmilter.conf and the
 * integration files), in the OpenDKIM / clamav-milter convention:
 * one key per line, the value is the rest of the line with surrounding
 * blanks removed, `#` starts a comment at the start of a line or after
 * a blank, blank lines are ignored. Errors read "file:line: message". */
#ifndef TM_KVFILE_H
#define TM_KVFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Called for each setting. Returning false aborts the read; the callback
 * writes its reason (without the file:line prefix, which the reader adds)
 * into err. */
typedef bool (*kv_setting_fn)(const char *key, const char *value,
			      const char *file, unsigned line,
			      void *userdata, char *err, size_t errlen);

/* Where the comment of `line` (len bytes) starts: the first '#' that
 * begins the line or follows a blank (space, tab, CR); NULL if none. A
 * '#' inside a value ("https://example.com/app#/admin") is not one. The
 * list files of dataset.h use the same rule. */
const char *kvfile_comment_start(const char *line, size_t len);

/* One line split as the reader splits it; pointers into the line. */
struct kv_line {
	const char *key;	/* NULL: blank or comment-only line */
	size_t key_len;
	const char *value;	/* after the blanks that follow the key */
	size_t value_len;	/* 0 for a key without a value */
	const char *comment;	/* the '#' starting the comment, or NULL */
};

/* Splits `line` (len bytes, no '\n') into key, value and comment. Used by
 * the reader and by the writer that edits files in place
 * (integration_write.h), so that both agree on what a line means. */
void kvfile_split_line(const char *line, size_t len, struct kv_line *out);

bool kvfile_read(const char *path, kv_setting_fn fn, void *userdata,
		 char *err, size_t errlen);
/* The same parser over a buffer; `name` stands for the file name in
 * messages. Used by the fuzz target and the unit tests. */
bool kvfile_parse(const char *name, const char *buf, size_t len,
		  kv_setting_fn fn, void *userdata, char *err, size_t errlen);

#endif
