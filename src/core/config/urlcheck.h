/* urlcheck.h: whether a configured URL is one libcurl will use as meant
 * (APIURL of an HTTP(S) provider, Proxy), parsed by libcurl's own URL
 * parser (curl_url) rather than by ours. */
#ifndef TM_URLCHECK_H
#define TM_URLCHECK_H

#include <stdbool.h>
#include <stddef.h>

/* The schemes of an HTTP(S) API root, and of a proxy libcurl speaks
 * (CURLOPT_PROXY: http, https, socks4, socks4a, socks5, socks5h).
 * NULL-terminated. */
extern const char *const urlcheck_api_schemes[];
extern const char *const urlcheck_proxy_schemes[];

/* True when url parses as a URL with an explicit scheme, one of
 * `schemes` (case-insensitive), and a non-empty host. Otherwise false
 * with why = the reason, without the key name and never quoting the URL
 * (a proxy URL may hold a password): "not a URL (scheme://host...)",
 * "scheme 'file' is not one of http, https". */
bool urlcheck(const char *url, const char *const schemes[], char *why, size_t whylen);

#endif
