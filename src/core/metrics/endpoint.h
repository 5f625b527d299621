/* endpoint.h: the MetricsSocket listener: `GET /metrics` over HTTP/1.0,
 * served by one small thread of its own (issue 15, "Metrics"; README
 * "Metrics"; threatmilter.conf(5) MetricsSocket).
 *
 * Why our own thread and a plain socket rather than libmicrohttpd: the
 * endpoint answers one request, one path, for a scraper on loopback; a
 * strict server of it is ~300 lines with one poll() loop, no new library
 * to package, audit and configure (MHD brings its own thread pools, TLS
 * and request limits to get right). The thread never touches the milter
 * or the engine: it reads the registry, whose updates are lock-free
 * (registry.h), so a scrape, a slow client or garbage never delays a
 * message.
 *
 * The protocol, strictly (RFC 1945 / RFC 9112 request syntax):
 *   - request line "GET /metrics HTTP/1.x" ending in CRLF; header lines
 *     "Name: value" ending in CRLF; an empty line ends the request. The
 *     request (line and headers) is at most 8 KiB; a body is refused.
 *   - another method: 405 with "Allow: GET"; another path (a query
 *     string included): 404; a bad line, bare LF, control bytes, a
 *     folded header, Content-Length or Transfer-Encoding: 400; another
 *     version: 505; too long: 431.
 *   - the answer is HTTP/1.0 with Content-Length, then the connection
 *     closes (no keep-alive).
 *   - each connection has 5 s from accept to its last byte written, then
 *     it is closed; at most 32 at once (more wait in the listen queue).
 *
 * Threads: open before fork and privilege drop (it binds), start after
 * the fork (a thread does not survive fork), free from the thread that
 * started it. */
#ifndef TM_METRICS_ENDPOINT_H
#define TM_METRICS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/sockspec.h"

struct metrics;
struct metrics_endpoint;

/* Parses a MetricsSocket value: inet:PORT[@HOST] or inet6:PORT[@[HOST]]
 * as the Socket key (util/sockspec.h), the host being the loopback
 * address (127.0.0.1, ::1) when none is given; a unix socket is refused
 * (a scraper speaks TCP). false with a message naming MetricsSocket. */
bool metrics_endpoint_parse(const char *text, struct sock_spec *out, char *err, size_t errlen);

/* Reads the request bytes received so far, head[0..len-1]: 0 while
 * incomplete (no empty line yet, within 8 KiB), else the status of the
 * answer: 200 (GET /metrics), 400, 404, 405, 431 or 505 (see above). */
int metrics_request_status(const char *head, size_t len);

/* Binds and listens on spec (from metrics_endpoint_parse) for registry
 * m, which must outlive the endpoint. NULL with err set on failure. */
struct metrics_endpoint *metrics_endpoint_open(const struct sock_spec *spec, struct metrics *m,
					       char *err, size_t errlen);
/* The address really bound ("inet:9895@127.0.0.1"; the port chosen when
 * 0 was asked). Owned by the endpoint. */
const char *metrics_endpoint_address(const struct metrics_endpoint *ep);
/* Starts the serving thread. false with err set on failure. */
bool metrics_endpoint_start(struct metrics_endpoint *ep, char *err, size_t errlen);
/* Stops the thread (within one poll turn), closes every socket, frees;
 * NULL is fine. */
void metrics_endpoint_free(struct metrics_endpoint *ep);

#endif
