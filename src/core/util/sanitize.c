/* sanitize.c: log-safe copies of untrusted text (see sanitize.h). */
#include "util/sanitize.h"

#include <stdbool.h>
#include <string.h>
#include <glib.h>

char *log_sanitize_len(const char *text, size_t len, size_t max)
{
	GString *out = g_string_sized_new(len + 8);
	size_t i = 0;
	bool cut = false;

	if (text == NULL)
		return g_string_free(out, FALSE);
	if (max != 0 && len > max) {
		len = max;
		cut = true;
	}
	while (i < len) {
		unsigned char c = (unsigned char)text[i];

		if (c >= 0x80) {
			gunichar ch = g_utf8_get_char_validated(text + i, (gssize)(len - i));
			size_t n = ch == (gunichar)-1 || ch == (gunichar)-2 ? 0
				   : (size_t)g_utf8_skip[c];

			/* C1 controls (U+0080..U+009F) act as escapes on some terminals */
			if (n > 0 && i + n <= len && !(ch >= 0x80 && ch <= 0x9f)) {
				g_string_append_len(out, text + i, (gssize)n);
				i += n;
				continue;
			}
			g_string_append_printf(out, "\\x%02x", c);
		} else if (c < 0x20 || c == 0x7f) {
			g_string_append_printf(out, "\\x%02x", c);
		} else {
			g_string_append_c(out, (char)c);
		}
		i++;
	}
	if (cut)
		g_string_append(out, "...");
	return g_string_free(out, FALSE);
}

char *log_sanitize(const char *text, size_t max)
{
	return log_sanitize_len(text, text != NULL ? strlen(text) : 0, max);
}
