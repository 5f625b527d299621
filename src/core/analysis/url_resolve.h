/* url_resolve.h: an href/src value made absolute the way a browser
 * resolves it against the document's base URL (WHATWG URL §4.4, the
 * relative states), before url_normalize() reads it. */
#ifndef TM_URL_RESOLVE_H
#define TM_URL_RESOLVE_H

#include <stdbool.h>

/* True when ref (leading/trailing blanks and controls ignored) starts
 * with an http, https or ftp scheme: usable as a <base href>. */
bool url_is_absolute_web(const char *ref);

/* ref: an attribute value, character references decoded. base: an
 * absolute http/https/ftp URL (url_is_absolute_web) or NULL. Returns a
 * g_malloc'd candidate for url_normalize(): ref itself when it has a
 * scheme, "//host" with the base's scheme (http without a base), other
 * relative references resolved against base; NULL for a relative
 * reference without a base. Dot segments are left to url_normalize. */
char *url_resolve(const char *ref, const char *base);

#endif
