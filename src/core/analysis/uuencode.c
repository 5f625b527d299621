/* uuencode.c: uuencoded blocks (POSIX uuencode historical format). */
#include "analysis/uuencode.h"

#include <string.h>

static void uu_file_free(gpointer data)
{
	struct uu_file *file = data;

	g_free(file->name);
	g_byte_array_unref(file->data);
	g_free(file);
}

/* "begin 644 name": the name, or NULL if the line is no begin line. */
static char *begin_line_name(const char *line, size_t len)
{
	size_t i = 6, digits = 0;

	if (len < 8 || memcmp(line, "begin ", 6) != 0)
		return NULL;
	while (i < len && line[i] >= '0' && line[i] <= '7') {
		i++;
		digits++;
	}
	if (digits < 3 || digits > 4 || i >= len || line[i] != ' ')
		return NULL;
	i++;
	while (len > i && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == i)
		return NULL;
	return g_strndup(line + i, len - i);
}

static unsigned uu_value(const char *line, size_t len, size_t i)
{
	/* a line cut short (trailing blanks stripped) reads as zeros */
	return i < len ? (unsigned)(line[i] - ' ') & 63 : 0;
}

/* One encoded line: its length character, then 4 characters per 3 bytes. */
static void decode_line(const char *line, size_t len, GByteArray *out)
{
	size_t n, pos = 1;

	if (len == 0)
		return;
	n = uu_value(line, len, 0);
	for (size_t done = 0; done < n; done += 3, pos += 4) {
		unsigned v = uu_value(line, len, pos) << 18 | uu_value(line, len, pos + 1) << 12 |
			     uu_value(line, len, pos + 2) << 6 | uu_value(line, len, pos + 3);
		guint8 bytes[3] = { (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v };

		g_byte_array_append(out, bytes, (guint)MIN(3, n - done));
	}
}

/* The line at p: its length without CR LF, and where the next one starts. */
static size_t line_at(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *line_end = nl ? nl : end;

	*next = nl ? nl + 1 : end;
	if (line_end > p && line_end[-1] == '\r')
		line_end--;
	return (size_t)(line_end - p);
}

GPtrArray *uu_extract(const char *text, size_t len, GString **rest)
{
	GPtrArray *files = NULL;

	*rest = NULL;
	if (text == NULL || len == 0)
		return NULL;	/* an empty part has no data pointer at all */

	const char *p = text, *end = text + len, *kept = text;

	if (memmem(text, len, "begin ", 6) == NULL)
		return NULL;	/* the common case, at memmem speed */
	while (p < end) {
		const char *next;
		size_t n = line_at(p, end, &next);
		char *name = begin_line_name(p, n);

		if (name == NULL) {
			p = next;
			continue;
		}
		struct uu_file *file = g_new0(struct uu_file, 1);

		file->name = name;
		file->data = g_byte_array_new();
		if (files == NULL) {
			files = g_ptr_array_new_with_free_func(uu_file_free);
			*rest = g_string_sized_new(len);
		}
		g_string_append_len(*rest, kept, p - kept);
		g_string_append_c(*rest, '\n');
		for (p = next; p < end; p = next) {
			n = line_at(p, end, &next);
			if (n == 3 && memcmp(p, "end", 3) == 0) {
				p = next;
				break;
			}
			decode_line(p, n, file->data);
		}
		kept = p;
		g_ptr_array_add(files, file);
	}
	if (files != NULL)
		g_string_append_len(*rest, kept, end - kept);
	return files;
}
