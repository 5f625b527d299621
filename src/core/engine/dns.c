/* dns.c: DNS queries on c-ares, one channel per DNS integration (its
 * DNSServers and Timeout), driven by the engine loop.
 *
 * A reload that changes an integration's DNSServers (or Timeout) gives
 * it a new channel; the old one is retired: its queries finish there
 * (answer or timeout) and reach their callers like any other, then the
 * channel is destroyed. Destroying it at once would drop them without
 * an answer, and with them the MaxInFlight slot, the breaker's probe and
 * the queue behind them (defect 2). */
#include <autoconfig.h>

#include <arpa/nameser.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <glib.h>

#include "engine/loop.h"
#include "engine/transport.h"
#include "util/log.h"

struct dns_channel {
	struct dns_transport *owner;
	char *name;		/* the integration's */
	char *servers;		/* its DNSServers, NULL: system */
	int64_t timeout_ms;
	ares_channel ares;
	unsigned pending;	/* queries not called back yet */
	bool retired;
	uint64_t timer;		/* c-ares' next timeout */
};

struct dns_transport {
	struct loop *loop;
	GHashTable *current;	/* integration name -> struct dns_channel * */
	GPtrArray *retired;	/* struct dns_channel *, draining */
	bool freeing;
};

struct dns_call {
	struct transport_call base;
	struct dns_channel *channel;
	transport_cb cb;
	void *ctx;
	bool cancelled;
};

void dns_retry_plan(int64_t timeout_ms, int nservers, int *try_ms, int *tries)
{
	/* tries rounds over n servers, the timeout doubling each round:
	 * n * T * (1 + 2) for two rounds must fit in timeout_ms */
	int64_t n = MAX(nservers, 1);
	int64_t t = timeout_ms / (3 * n);

	*tries = 2;
	if (t < 50) {		/* too short to be worth a second round */
		*tries = 1;
		t = timeout_ms / n;
	}
	*try_ms = (int)CLAMP(t, 1, 30000);
}

static void channel_destroy(struct dns_channel *c)
{
	loop_timer_cancel(c->owner->loop, c->timer);
	if (c->ares != NULL)
		ares_destroy(c->ares);	/* its callbacks see ARES_EDESTRUCTION */
	g_free(c->name);
	g_free(c->servers);
	g_free(c);
}

static void on_timeout(void *data);

/* After every call into c-ares: when it wants to be called next. */
static void channel_rearm(struct dns_channel *c)
{
	struct timeval tv;

	loop_timer_cancel(c->owner->loop, c->timer);
	c->timer = 0;
	if (c->pending == 0 || ares_timeout(c->ares, NULL, &tv) == NULL)
		return;
	c->timer = loop_timer_add(c->owner->loop, loop_now_ms(c->owner->loop) +
				  (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, on_timeout, c);
}

static void on_timeout(void *data)
{
	struct dns_channel *c = data;

	c->timer = 0;
	ares_process_fd(c->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	channel_rearm(c);
}

static void reap_retired(void *data)
{
	struct dns_transport *d = data;

	for (guint i = 0; i < d->retired->len;) {
		struct dns_channel *c = g_ptr_array_index(d->retired, i);

		if (c->pending == 0) {
			g_ptr_array_remove_index_fast(d->retired, i);
			channel_destroy(c);
		} else {
			i++;
		}
	}
}

static void on_socket(void *data, int fd, uint32_t events)
{
	struct dns_channel *c = data;
	ares_socket_t rfd = (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD;
	ares_socket_t wfd = (events & EPOLLOUT) ? fd : ARES_SOCKET_BAD;

	ares_process_fd(c->ares, rfd, wfd);
	channel_rearm(c);
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_channel *c = data;

	if (loop_watch(c->owner->loop, fd, on_socket, c, readable, writable) != 0)
		log_msg(LOG_ERR, "engine: cannot watch DNS socket %d", fd);
}

static int count_servers(const char *csv)
{
	int n = 1;

	for (const char *p = csv; p && *p; p++)
		n += *p == ',';
	return n;
}

static struct dns_channel *channel_new(struct dns_transport *d, const struct integration *in)
{
	struct dns_channel *c = g_new0(struct dns_channel, 1);
	bool custom = in->dns_servers != NULL && *in->dns_servers != '\0';
	int try_ms, tries;

	dns_retry_plan(in->timeout_ms, custom ? count_servers(in->dns_servers) : 1,
		       &try_ms, &tries);
	struct ares_options opts = {
		.sock_state_cb = sock_state,
		.sock_state_cb_data = c,
		.timeout = try_ms,
		.tries = tries,
		/* Without NOCHECKRESP c-ares 1.18 turns SERVFAIL and REFUSED
		 * into ECONNREFUSED after trying the next server; we want the
		 * real rcode, to report it as the provider's error. */
		.flags = ARES_FLAG_NOCHECKRESP,
	};
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;

	c->owner = d;
	if (ares_init_options(&c->ares, &opts, mask) != ARES_SUCCESS) {
		g_free(c);
		return NULL;
	}
	if (custom && ares_set_servers_ports_csv(c->ares, in->dns_servers) != ARES_SUCCESS) {
		log_msg(LOG_ERR, "integration %s: bad DNSServers", in->name);
		ares_destroy(c->ares);
		g_free(c);
		return NULL;
	}
	c->name = g_strdup(in->name);
	c->servers = g_strdup(in->dns_servers);
	c->timeout_ms = in->timeout_ms;
	return c;
}

/* The integration's channel, a new one when its settings changed. */
static struct dns_channel *channel_for(struct dns_transport *d, const struct integration *in)
{
	struct dns_channel *c = g_hash_table_lookup(d->current, in->name);

	if (c != NULL && g_strcmp0(c->servers, in->dns_servers) == 0 &&
	    c->timeout_ms == in->timeout_ms)
		return c;
	struct dns_channel *fresh = channel_new(d, in);

	if (fresh == NULL)
		return NULL;
	if (c != NULL) {
		g_hash_table_steal(d->current, in->name);
		c->retired = true;
		g_ptr_array_add(d->retired, c);
		loop_timer_add(d->loop, loop_now_ms(d->loop), reap_retired, d);
	}
	g_hash_table_insert(d->current, fresh->name, fresh);
	return fresh;
}

static void query_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_call *call = arg;
	struct dns_channel *c = call->channel;
	struct ares_addrttl addrs[16];
	struct transport_answer a = { .ares_status = status, .addrs = addrs };

	(void)timeouts;
	c->pending--;
	if (status != ARES_EDESTRUCTION && !call->cancelled && !c->owner->freeing) {
		if (status == ARES_SUCCESS) {
			a.naddrs = G_N_ELEMENTS(addrs);
			a.ares_status = ares_parse_a_reply(abuf, alen, NULL, addrs, &a.naddrs);
			if (a.ares_status != ARES_SUCCESS)
				a.naddrs = 0;
		}
		call->cb(call->ctx, &a);
	}
	if (c->retired && c->pending == 0 && !c->owner->freeing)
		loop_timer_add(c->owner->loop, loop_now_ms(c->owner->loop), reap_retired, c->owner);
	g_free(call);
}

/* c-ares may call back from inside ares_query (a name it refuses at
 * once); the engine must never be called back from inside its own call,
 * so such an answer is delivered on the next turn. */
struct early_answer {
	struct dns_call *call;
	int status;
};

static void deliver_early(void *data)
{
	struct early_answer *e = data;

	query_done(e->call, e->status, 0, NULL, 0);
	g_free(e);
}

static void early_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_call *call = arg;

	(void)timeouts;
	(void)abuf;
	(void)alen;
	if (call->base.part != TRANSPORT_PART_DNS_STARTING) {	/* the query was already started */
		query_done(arg, status, timeouts, abuf, alen);
		return;
	}
	/* still pending (the channel stays) until delivered */
	struct early_answer *e = g_new0(struct early_answer, 1);
	e->call = call;
	e->status = status;
	loop_timer_add(call->channel->owner->loop, loop_now_ms(call->channel->owner->loop),
		       deliver_early, e);
}

struct transport_call *dns_transport_query(struct dns_transport *d,
					   const struct integration *in, const char *name,
					   int64_t timeout_ms, transport_cb cb, void *ctx)
{
	struct dns_channel *c = channel_for(d, in);

	(void)timeout_ms;	/* the channel has the integration's Timeout */
	if (c == NULL)
		return NULL;
	struct dns_call *call = g_new0(struct dns_call, 1);

	call->base.part = TRANSPORT_PART_DNS_STARTING;	/* "starting": see early_done */
	call->channel = c;
	call->cb = cb;
	call->ctx = ctx;
	c->pending++;
	ares_query(c->ares, name, ns_c_in, ns_t_a, early_done, call);
	call->base.part = TRANSPORT_PART_DNS;
	channel_rearm(c);
	return &call->base;
}

void dns_transport_cancel(struct dns_transport *d, struct transport_call *call)
{
	(void)d;
	/* c-ares cannot cancel one query: it ends on its own (answer or
	 * timeout), without calling back */
	((struct dns_call *)call)->cancelled = true;
}

struct dns_transport *dns_transport_new(struct loop *loop, char *err, size_t errlen)
{
	struct dns_transport *d;

	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		snprintf(err, errlen, "engine: c-ares initialisation failed");
		return NULL;
	}
	d = g_new0(struct dns_transport, 1);
	d->loop = loop;
	d->current = g_hash_table_new(g_str_hash, g_str_equal);
	d->retired = g_ptr_array_new();
	return d;
}

void dns_transport_free(struct dns_transport *d)
{
	GHashTableIter iter;
	gpointer value;

	if (d == NULL)
		return;
	d->freeing = true;
	g_hash_table_iter_init(&iter, d->current);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		channel_destroy(value);
	for (guint i = 0; i < d->retired->len; i++)
		channel_destroy(g_ptr_array_index(d->retired, i));
	g_hash_table_destroy(d->current);
	g_ptr_array_free(d->retired, TRUE);
	g_free(d);
}
