/* transport.c: the real transport, HTTP (http.c) and DNS (dns.c) parts. */
#include <autoconfig.h>

#include <glib.h>

#include "engine/transport.h"

struct net_transport {
	struct transport base;
	struct http_transport *http;
	struct dns_transport *dns;
};

static struct transport_call *net_http(struct transport *t, const struct integration *in,
				       const struct http_request *req, int64_t timeout_ms,
				       transport_cb cb, void *ctx)
{
	return http_transport_send(((struct net_transport *)t)->http, in, req, timeout_ms, cb, ctx);
}

static struct transport_call *net_dns(struct transport *t, const struct integration *in,
				      const char *name, int64_t timeout_ms,
				      transport_cb cb, void *ctx)
{
	return dns_transport_query(((struct net_transport *)t)->dns, in, name, timeout_ms, cb, ctx);
}

static void net_cancel(struct transport *t, struct transport_call *call)
{
	struct net_transport *net = (struct net_transport *)t;

	if (call->part == TRANSPORT_PART_DNS)
		dns_transport_cancel(net->dns, call);
	else
		http_transport_cancel(net->http, call);
}

static void net_free(struct transport *t)
{
	struct net_transport *net = (struct net_transport *)t;

	dns_transport_free(net->dns);
	http_transport_free(net->http);
	g_free(net);
}

static const struct transport_ops net_ops = {
	.http = net_http,
	.dns = net_dns,
	.cancel = net_cancel,
	.free = net_free,
};

struct transport *transport_net_new(struct loop *loop, const char *ca_file,
				    char *err, size_t errlen)
{
	struct net_transport *net = g_new0(struct net_transport, 1);

	net->base.ops = &net_ops;
	net->http = http_transport_new(loop, ca_file, err, errlen);
	net->dns = net->http ? dns_transport_new(loop, err, errlen) : NULL;
	if (net->dns == NULL) {
		http_transport_free(net->http);
		g_free(net);
		return NULL;
	}
	return &net->base;
}
