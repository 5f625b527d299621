/* url_normalize.h: turns one candidate URL, as found in a message, into
 * the form threatmilter looks up and reports (../shared/corpus/README.md):
 * TAB/CR/LF removed, spaces as %20, scheme and host lower-case, IDN hosts
 * in punycode, decimal/hex/octal IPv4 hosts as dotted quad, IPv6 hosts in
 * brackets and canonical form, default port removed, empty path "/";
 * credentials, port, query and fragment kept.
 *
 * A candidate that is no URL indicator (mailto:, tel:, data:,
 * javascript:, cid:, relative links, hosts without a dot, unparseable
 * text) gives NULL. */
#ifndef TM_URL_NORMALIZE_H
#define TM_URL_NORMALIZE_H

#include <stddef.h>

/* raw: UTF-8, not NUL terminated. "//host/x" counts as http; a candidate
 * starting with "www." (any case) gets "http://". Returns a g_malloc'd
 * string or NULL. */
char *url_normalize(const char *raw, size_t len);

/* The host part of a normalised URL (no credentials, no port, IPv6
 * without brackets), g_malloc'd; NULL if url has no host. Used by the
 * exclusions and by HideURLParameters. */
char *url_host(const char *normalized_url);

#endif
