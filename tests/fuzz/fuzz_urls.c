/* fuzz_urls.c: libFuzzer target for the text-level parsers on their own
 * (faster than going through MIME): bare URLs in text, HTML, one URL's
 * normalisation and one Received header. */
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "analysis/html.h"
#include "analysis/received.h"
#include "analysis/url_normalize.h"
#include "analysis/urls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct url_set *set = url_set_new(100);

	urls_from_text(text, size, set);
	urls_from_html(text, size, set);
	url_set_free(set);

	g_free(url_normalize(text, size));

	char *header = g_strndup(text, size);	/* stops at a NUL, as headers do */
	struct net_addr addr;
	received_from_ip(header, &addr);
	g_free(header);
	return 0;
}
