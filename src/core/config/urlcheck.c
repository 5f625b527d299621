/* urlcheck.c: configured URLs through curl_url() (urlcheck.h). The
 * reasons never quote the URL: a Proxy may carry a password. */
#include "config/urlcheck.h"

#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include <glib.h>

const char *const urlcheck_api_schemes[] = { "http", "https", NULL };
const char *const urlcheck_proxy_schemes[] = { "http", "https", "socks4", "socks4a", "socks5",
					       "socks5h", NULL };

static bool scheme_listed(const char *scheme, const char *const schemes[])
{
	for (size_t i = 0; schemes[i] != NULL; i++)
		if (g_ascii_strcasecmp(scheme, schemes[i]) == 0)
			return true;
	return false;
}

bool urlcheck(const char *url, const char *const schemes[], char *why, size_t whylen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	bool ok = false;

	if (u == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	/* no CURLU_GUESS_SCHEME / CURLU_DEFAULT_SCHEME: the scheme is written */
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		snprintf(why, whylen, "not a URL (scheme://host...)");
	} else if (!scheme_listed(scheme, schemes)) {
		gchar *list = g_strjoinv(", ", (gchar **)schemes);

		snprintf(why, whylen, "scheme '%s' is not one of %s", scheme, list);
		g_free(list);
	} else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host == NULL ||
		   *host == '\0') {
		snprintf(why, whylen, "the URL names no host");
	} else {
		ok = true;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}
