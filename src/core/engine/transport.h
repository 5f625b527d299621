/* transport.h: how the engine's requests reach the network.
 *
 * The engine asks a transport to send one HTTP request or one DNS query
 * and is called back once with the answer. The real transport is libcurl
 * (multi socket API, http.c) plus c-ares (one channel per DNS
 * integration, dns.c), both driven by the engine's loop; the unit tests
 * give the engine a fake one. Engine thread only. */
#ifndef TM_ENGINE_TRANSPORT_H
#define TM_ENGINE_TRANSPORT_H

#include <stdint.h>
#include <ares.h>

#include "providers/provider.h"

struct loop;
struct transport;
/* One request in flight; each part of a transport extends it. */
struct transport_call {
	int part;		/* which part of the transport made it: */
};
#define TRANSPORT_PART_HTTP 0
#define TRANSPORT_PART_DNS 2
#define TRANSPORT_PART_DNS_STARTING 3	/* inside ares_query (dns.c) */

struct transport_answer {
	struct http_response http;	/* HTTP: status, body, retry_after_s... */
	int ares_status;		/* DNS: ARES_SUCCESS, ARES_ENOTFOUND... */
	const struct ares_addrttl *addrs;	/* DNS: the A records */
	int naddrs;
};

/* Called once per call, on the loop, never from inside the call that
 * started it; answer is valid during the call only. */
typedef void (*transport_cb)(void *ctx, const struct transport_answer *answer);

struct transport_ops {
	/* Sends req for integration in (proxy, VerifySSL) with a total
	 * budget of timeout_ms. NULL when it cannot even start. */
	struct transport_call *(*http)(struct transport *t, const struct integration *in,
				       const struct http_request *req, int64_t timeout_ms,
				       transport_cb cb, void *ctx);
	/* Asks the A records of name from in's DNSServers (the system
	 * resolvers when none), giving up within timeout_ms. A change of
	 * DNSServers takes a new channel; queries on the old one finish
	 * there (answer or timeout), then it is destroyed. NULL when it
	 * cannot start. */
	struct transport_call *(*dns)(struct transport *t, const struct integration *in,
				      const char *name, int64_t timeout_ms,
				      transport_cb cb, void *ctx);
	/* The callback of call will never be called; its resources go. */
	void (*cancel)(struct transport *t, struct transport_call *call);
	/* Abandons every call without calling back. */
	void (*free)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
};

/* The real transport on loop: libcurl (ca_file: CA bundle, NULL = the
 * system's) and c-ares. NULL with err set when a library fails to start. */
struct transport *transport_net_new(struct loop *loop, const char *ca_file,
				    char *err, size_t errlen);

/* ---- parts of the real transport (http.c, dns.c) ---- */
struct http_transport;
struct dns_transport;
struct http_transport *http_transport_new(struct loop *loop, const char *ca_file,
					  char *err, size_t errlen);
void http_transport_free(struct http_transport *h);
struct transport_call *http_transport_send(struct http_transport *h,
					   const struct integration *in,
					   const struct http_request *req, int64_t timeout_ms,
					   transport_cb cb, void *ctx);
void http_transport_cancel(struct http_transport *h, struct transport_call *call);

struct dns_transport *dns_transport_new(struct loop *loop, char *err, size_t errlen);
void dns_transport_free(struct dns_transport *d);
struct transport_call *dns_transport_query(struct dns_transport *d,
					   const struct integration *in, const char *name,
					   int64_t timeout_ms, transport_cb cb, void *ctx);
void dns_transport_cancel(struct dns_transport *d, struct transport_call *call);
/* c-ares per-try timeout and tries for a total budget of timeout_ms with
 * nservers servers: c-ares doubles the timeout on the second round, so
 * the sum of all tries stays within the budget (defect 11). */
void dns_retry_plan(int64_t timeout_ms, int nservers, int *try_ms, int *tries);

#endif
