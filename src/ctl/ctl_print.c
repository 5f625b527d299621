/* ctl_print.c: provider text made safe for a terminal (ctl_print.h). */
#include "ctl/ctl_print.h"

#include <stdbool.h>
#include <string.h>
#include <glib.h>

#include "config/integration_write.h"
#include "providers/provider.h"

static bool unsafe(gunichar c)
{
	switch (g_unichar_type(c)) {
	case G_UNICODE_CONTROL:
	case G_UNICODE_FORMAT:
	case G_UNICODE_LINE_SEPARATOR:
	case G_UNICODE_PARAGRAPH_SEPARATOR:
		return true;
	default:
		return false;
	}
}

char *ctl_printable(const char *text)
{
	GString *out;
	char *masked;

	if (text == NULL || *text == '\0')
		return g_strdup("");
	masked = url_mask_passwords(text);
	if (!g_utf8_validate(masked, -1, NULL)) {
		char *shown = provider_printable(masked, strlen(masked));

		g_free(masked);
		return shown;
	}
	out = g_string_sized_new(strlen(masked));
	for (const char *p = masked; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (unsafe(c))
			g_string_append_c(out, ' ');
		else
			g_string_append_unichar(out, c);
	}
	g_free(masked);
	return g_string_free(out, FALSE);
}

void ctl_print_line(FILE *out, const char *text)
{
	char *shown = ctl_printable(text);

	fprintf(out, "%s\n", shown);
	g_free(shown);
}

char *ctl_json_text(const cJSON *item)
{
	char *text = cJSON_Print(item);
	GString *out = g_string_new(NULL);

	/* cJSON escapes C0 inside strings but writes DEL, C1 controls and
	 * format characters as they are; outside strings JSON has none of
	 * them, so each becomes \uXXXX (a surrogate pair above the BMP) */
	for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x7f || !unsafe(c)) {
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
		} else if (c < 0x10000) {
			g_string_append_printf(out, "\\u%04x", (unsigned)c);
		} else {
			c -= 0x10000;
			g_string_append_printf(out, "\\u%04x\\u%04x", (unsigned)(0xd800 + (c >> 10)),
					       (unsigned)(0xdc00 + (c & 0x3ff)));
		}
	}
	cJSON_free(text);
	return g_string_free(out, FALSE);
}
