/* text_flowed.c: RFC 3676 §4.2 (interpreting format=flowed). */
#include "analysis/text_flowed.h"

#include <string.h>
#include <glib.h>

char *flowed_unwrap(const char *text, size_t len, bool delsp, size_t *out_len)
{
	GString *out = g_string_sized_new(len);
	const char *p = text, *end = text + len;
	bool in_paragraph = false;
	size_t paragraph_depth = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		size_t depth = 0;

		if (line_end > p && line_end[-1] == '\r')
			line_end--;
		while (p < line_end && *p == '>') {
			depth++;
			p++;
		}
		if (p < line_end && *p == ' ')
			p++;	/* space-stuffing */
		size_t n = (size_t)(line_end - p);
		bool signature = n == 3 && memcmp(p, "-- ", 3) == 0;
		bool flowed = n > 0 && p[n - 1] == ' ' && !signature;

		/* a quote depth change ends a paragraph (§4.5) */
		if (in_paragraph && depth != paragraph_depth)
			g_string_append_c(out, '\n');
		if (!in_paragraph || depth != paragraph_depth) {
			for (size_t i = 0; i < depth; i++)
				g_string_append_c(out, '>');
			if (depth > 0)
				g_string_append_c(out, ' ');
		}
		g_string_append_len(out, p, (gssize)(flowed && delsp ? n - 1 : n));
		if (flowed) {
			in_paragraph = true;
			paragraph_depth = depth;
		} else {
			g_string_append_c(out, '\n');
			in_paragraph = false;
		}
		p = nl ? nl + 1 : end;
	}
	*out_len = out->len;
	return g_string_free(out, FALSE);
}
