/* ctl_print.h: text from a provider (or quoting it) on the
 * administrator's terminal. A provider's answer is not trusted: a hostile
 * PTR record or error text could carry escape sequences that retitle,
 * clear or rewrite the terminal. Used by the provider actions
 * (ctl_apivoid.c, ctl_ironscales.c) for every line they print. */
#ifndef TM_CTL_PRINT_H
#define TM_CTL_PRINT_H

#include <stdio.h>
#include <cjson/cJSON.h>

/* `text` fit for a terminal: valid UTF-8 kept except control and format
 * characters (C0, DEL, C1, bidi overrides, line separators), each one a
 * space; text that is not UTF-8 has every byte outside printable ASCII
 * as a space (provider_printable()). The password of a URL's
 * user:password@ is masked (url_mask_passwords()): a message may quote
 * a Proxy or APIURL. Newly allocated (g_free); "" for NULL. */
char *ctl_printable(const char *text);

/* ctl_printable(text) and a newline on `out`. */
void ctl_print_line(FILE *out, const char *text);

/* cJSON_Print(item) with DEL, the C1 controls and the format characters
 * (which cJSON prints as raw UTF-8) escaped as \uXXXX too: JSON that
 * reads the same, safe on a terminal. cJSON prints valid UTF-8 (the
 * parser took it so). Newly allocated (g_free). */
char *ctl_json_text(const cJSON *item);

#endif
