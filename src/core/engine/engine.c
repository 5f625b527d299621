/* engine.c: the lookup engine (see engine.h for what it promises).
 *
 * Threads: callers run engine_run(); the engine thread runs the loop.
 * Everything shared between them (the in-flight table, the submission
 * queue, the integrations' state, the batches callers wait on) is guarded
 * by engine->lock. curl and c-ares handles are touched only by the engine
 * thread, so provider code needs no locking.
 *
 * Objects:
 *   flight   one (integration, kind, indicator) being asked; callers that
 *            ask the same thing meanwhile join it as extra waiters.
 *   request  one HTTP transfer or DNS query, serving one flight (or up to
 *            max_batch flights of a batching provider).
 *   istate   per integration name: cache, rate limiter, breaker, the
 *            count of requests in flight and the flights queued behind
 *            MaxInFlight. Kept across configuration reloads, so the cache
 *            survives a SIGHUP.
 */
#include <autoconfig.h>
#include "engine/engine.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <curl/curl.h>
#include <glib.h>

#include "engine/breaker.h"
#include "cache/cache.h"
#include "config/config.h"
#include "config/integrations.h"
#include "util/log.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "engine/ratelimit.h"
#include "engine/watchset.h"

/* An "unknown" answer (the provider never saw it) is worth asking again
 * sooner than a verdict: the provider may have analysed it meanwhile. */
#define UNKNOWN_MAX_TTL_MS (3600 * 1000LL)
/* How long a refused key or an exhausted quota keeps an integration off
 * when the provider gives no Retry-After. */
#define AUTH_BACKOFF_MS (300 * 1000LL)
#define QUOTA_BACKOFF_MS (60 * 1000LL)
#define MAX_COOLDOWN_MS (600 * 1000LL)

struct batch {
	pthread_cond_t done;
	size_t pending;
};

struct waiter {
	struct batch *batch;	/* NULL once the caller gave up */
	struct lookup *lookup;	/* the caller's lookup, filled on completion */
};

struct istate;

struct flight {
	char *key;
	struct tm_config *cfg;	/* reference: keeps the integration alive */
	const struct integration *integration;
	struct istate *state;
	struct lookup work;	/* what the provider fills */
	GPtrArray *waiters;	/* struct waiter * */
	int64_t started_ms;
};

struct request {
	struct engine *engine;
	struct istate *state;
	GPtrArray *flights;	/* struct flight * */
	struct lookup **batch;	/* &flight->work of each flight */
	int attempts;
	int64_t started_ms;
	/* HTTP */
	CURL *easy;
	struct curl_slist *headers;
	bool headers_expect_added;	/* "Expect:" appended once (retries reuse the list) */
	struct http_request http;
	GString *body;
	char errbuf[CURL_ERROR_SIZE];
};

struct istate {
	char *name;
	char *rate_spec;
	struct cache *cache;
	size_t cache_max_entries;
	struct ratelimit *ratelimit;
	struct breaker breaker;
	unsigned in_flight;	/* requests */
	GQueue waiting;		/* flights held back by MaxInFlight */
	GPtrArray *to_batch;	/* flights of a batching provider, this turn */
	/* DNS providers */
	ares_channel channel;
	char *dns_servers;
	struct engine *engine;
};

struct engine {
	pthread_mutex_t lock;
	pthread_t thread;
	bool stopping;
	int epoll_fd;
	int wake_fd;
	GQueue submitted;	/* struct flight *, from callers */
	GHashTable *flights;	/* key -> struct flight * */
	GHashTable *states;	/* name -> struct istate * */
	struct engine_stats stats;
	/* engine thread only */
	CURLM *multi;
	CURLSH *share;
	int64_t curl_timeout_at;	/* -1: none */
	struct watchset *watches;	/* the curl and c-ares sockets */
	GHashTable *transfers;	/* struct request * with a curl handle */
	char *ca_file;
	unsigned breaker_threshold;
	int64_t breaker_cooldown_ms;
};

int64_t engine_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct provider_ops *ops_of(const struct integration *in)
{
	return in->type ? in->type->ops : NULL;
}

static char *flight_key(const struct lookup *lookup)
{
	return g_strdup_printf("%s\x1f%s\x1f%s", lookup->integration->name,
			       indicator_kind_name(lookup->kind), lookup->indicator);
}

/* ---------------------------------------------------------------- state */

static void istate_free(gpointer data)
{
	struct istate *st = data;

	cache_free(st->cache);
	ratelimit_free(st->ratelimit);
	if (st->channel != NULL)
		ares_destroy(st->channel);
	g_ptr_array_unref(st->to_batch);
	g_free(st->rate_spec);
	g_free(st->dns_servers);
	g_free(st->name);
	g_free(st);
}

/* The state of an integration, created on first use and refreshed when a
 * reload changed its limits. Caller holds the lock. */
static struct istate *istate_get(struct engine *engine, const struct integration *in)
{
	struct istate *st = g_hash_table_lookup(engine->states, in->name);

	if (st == NULL) {
		st = g_new0(struct istate, 1);
		st->name = g_strdup(in->name);
		st->engine = engine;
		st->to_batch = g_ptr_array_new();
		g_queue_init(&st->waiting);
		breaker_init(&st->breaker, engine->breaker_threshold,
			     engine->breaker_cooldown_ms, MAX_COOLDOWN_MS);
		g_hash_table_insert(engine->states, st->name, st);
	}
	if (st->cache == NULL || st->cache_max_entries != in->cache_max_entries) {
		cache_free(st->cache);
		st->cache = cache_memory_new(in->cache_max_entries);
		st->cache_max_entries = in->cache_max_entries;
	}
	return st;
}

/* The rate limiter follows the integration's RateLimit, also after a
 * reload. Engine thread only: it alone uses the limiter. */
static void istate_refresh_limits(struct istate *st, const struct integration *in)
{
	char err[256];

	if (st->ratelimit != NULL && g_strcmp0(st->rate_spec, in->rate_limit) == 0)
		return;
	ratelimit_free(st->ratelimit);
	/* validated by the configuration loader already */
	st->ratelimit = ratelimit_new(in->rate_limit, err, sizeof(err));
	if (st->ratelimit == NULL)
		st->ratelimit = ratelimit_new(NULL, err, sizeof(err));
	g_free(st->rate_spec);
	st->rate_spec = g_strdup(in->rate_limit);
}

/* ---------------------------------------------------------- completion */

static bool cacheable(enum lookup_status status)
{
	return status == LOOKUP_MALICIOUS || status == LOOKUP_SUSPICIOUS ||
	       status == LOOKUP_CLEAN || status == LOOKUP_UNKNOWN;
}

/* Hands the flight's result to every waiter still there, caches it and
 * frees the flight. Takes the lock. */
static void flight_finish(struct engine *engine, struct flight *flight)
{
	const struct integration *in = flight->integration;
	struct lookup_result *res = &flight->work.result;
	int64_t now = engine_now_ms();

	res->latency_ms = (unsigned)(now - flight->started_ms);
	pthread_mutex_lock(&engine->lock);
	if (in->cache && cacheable(res->status)) {
		int64_t ttl = (int64_t)in->cache_hours * 3600 * 1000;

		if (res->ttl_s > 0 && (int64_t)res->ttl_s * 1000 < ttl)
			ttl = (int64_t)res->ttl_s * 1000;
		if (res->status == LOOKUP_UNKNOWN && ttl > UNKNOWN_MAX_TTL_MS)
			ttl = UNKNOWN_MAX_TTL_MS;
		char *key = flight_key(&flight->work);
		cache_put(flight->state->cache, key, res->status, res->details,
			  now + ttl, in->cache_max_hits);
		g_free(key);
	}
	for (guint i = 0; i < flight->waiters->len; i++) {
		struct waiter *w = g_ptr_array_index(flight->waiters, i);

		if (w->batch != NULL) {
			w->lookup->result = *res;
			w->lookup->result.details = g_strdup(res->details);
			if (--w->batch->pending == 0)
				pthread_cond_broadcast(&w->batch->done);
		}
		g_free(w);
	}
	g_hash_table_remove(engine->flights, flight->key);
	pthread_mutex_unlock(&engine->lock);

	g_ptr_array_unref(flight->waiters);
	g_free(flight->work.indicator);
	g_free(flight->work.result.details);
	g_free(flight->key);
	config_unref(flight->cfg);
	g_free(flight);
}

static void flight_fail(struct engine *engine, struct flight *flight,
			enum lookup_status status, const char *details)
{
	g_free(flight->work.result.details);
	flight->work.result.status = status;
	flight->work.result.details = g_strdup(details);
	flight_finish(engine, flight);
}

/* ------------------------------------------------------------ requests */

static void request_free(struct request *req)
{
	if (req->easy != NULL) {
		g_hash_table_remove(req->engine->transfers, req);
		curl_multi_remove_handle(req->engine->multi, req->easy);
		curl_easy_cleanup(req->easy);
	}
	curl_slist_free_all(req->headers);
	if (req->http.url != NULL)
		g_string_free(req->http.url, TRUE);
	if (req->http.headers != NULL)
		g_ptr_array_unref(req->http.headers);
	if (req->http.body != NULL)
		g_string_free(req->http.body, TRUE);
	if (req->http.basic_auth != NULL) {
		memset(req->http.basic_auth, 0, strlen(req->http.basic_auth));
		g_free(req->http.basic_auth);
	}
	if (req->body != NULL)
		g_string_free(req->body, TRUE);
	g_ptr_array_unref(req->flights);
	g_free(req->batch);
	g_free(req);
}

static size_t collect_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct request *req = userdata;
	size_t len = size * nmemb;

	/* An answer larger than this is not a lookup answer. */
	if (req->body->len + len > 8u << 20)
		return 0;
	g_string_append_len(req->body, data, (gssize)len);
	return len;
}

static bool http_start(struct request *req, const struct integration *in,
		       int64_t timeout_ms)
{
	struct engine *engine = req->engine;

	req->easy = curl_easy_init();
	if (req->easy == NULL)
		return false;
	if (req->body != NULL)
		g_string_truncate(req->body, 0);
	else
		req->body = g_string_new(NULL);
	CURL *easy = req->easy;
	curl_easy_setopt(easy, CURLOPT_URL, req->http.url->str);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, req);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, req->errbuf);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(easy, CURLOPT_SHARE, engine->share);
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "threatmilter/" PACKAGE_VERSION);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, in->verify_ssl ? 1L : 0L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, in->verify_ssl ? 2L : 0L);
	if (engine->ca_file != NULL)
		curl_easy_setopt(easy, CURLOPT_CAINFO, engine->ca_file);
	/* "default" proxy means none, also none from the environment. */
	curl_easy_setopt(easy, CURLOPT_PROXY, in->proxy ? in->proxy : "");
	if (req->http.basic_auth != NULL) {
		curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(easy, CURLOPT_USERPWD, req->http.basic_auth);
	}
	if (req->headers == NULL && req->http.headers != NULL)
		for (guint i = 0; i < req->http.headers->len; i++)
			req->headers = curl_slist_append(req->headers,
							 g_ptr_array_index(req->http.headers, i));
	/* Without this, curl sends "Expect: 100-continue" with a POST body
	 * over 1 KiB and waits up to a second for the interim answer (a Safe
	 * Browsing batch of a few URLs is enough). */
	if (strcmp(req->http.method, "POST") == 0 && req->headers_expect_added == false) {
		req->headers = curl_slist_append(req->headers, "Expect:");
		req->headers_expect_added = true;
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers);
	if (strcmp(req->http.method, "POST") == 0) {
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->http.body ? req->http.body->str : "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE,
				 (long)(req->http.body ? req->http.body->len : 0));
	}
	if (curl_multi_add_handle(engine->multi, easy) != CURLM_OK)
		return false;
	g_hash_table_add(engine->transfers, req);
	pthread_mutex_lock(&engine->lock);
	engine->stats.requests++;
	pthread_mutex_unlock(&engine->lock);
	return true;
}

static void dns_callback(void *arg, int status, int timeouts, unsigned char *abuf, int alen);

static bool dns_start(struct request *req, const struct integration *in)
{
	struct flight *flight = g_ptr_array_index(req->flights, 0);
	char *name = ops_of(in)->dns_name(in, &flight->work);

	if (name == NULL)
		return false;
	pthread_mutex_lock(&req->engine->lock);
	req->engine->stats.requests++;
	pthread_mutex_unlock(&req->engine->lock);
	ares_query(req->state->channel, name, ns_c_in, ns_t_a, dns_callback, req);
	/* name may hold a DQS key: wipe it */
	memset(name, 0, strlen(name));
	g_free(name);
	return true;
}

static bool request_start(struct request *req)
{
	struct flight *first = g_ptr_array_index(req->flights, 0);
	const struct integration *in = first->integration;
	const struct provider_ops *ops = ops_of(in);
	int64_t elapsed = engine_now_ms() - req->started_ms;
	int64_t timeout = (int64_t)in->timeout_ms - elapsed;

	if (timeout < 1)
		timeout = 1;
	req->attempts++;
	if (ops->dns_name != NULL)
		return dns_start(req, in);
	if (req->http.url == NULL) {
		req->http.headers = g_ptr_array_new_with_free_func(g_free);
		req->http.url = g_string_new(NULL);
		req->http.method = "GET";
		ops->build_request(in, req->batch, req->flights->len, &req->http);
	}
	return http_start(req, in, timeout);
}

static void dispatch_queued(struct engine *engine, struct istate *st);

/* The request is over: result per flight, breaker bookkeeping, retry. */
static void request_done(struct request *req, enum answer_class class, long retry_after_s)
{
	struct engine *engine = req->engine;
	struct istate *st = req->state;
	struct flight *first = g_ptr_array_index(req->flights, 0);
	const struct integration *in = first->integration;
	int64_t now = engine_now_ms();

	if (req->easy != NULL) {
		g_hash_table_remove(engine->transfers, req);
		curl_multi_remove_handle(engine->multi, req->easy);
		curl_easy_cleanup(req->easy);
		req->easy = NULL;
	}
	/* One retry of an idempotent lookup on a transient failure, when at
	 * least half of the integration's Timeout is left for it. */
	if (class == ANSWER_TRANSIENT && req->attempts < 2 &&
	    now - req->started_ms < (int64_t)in->timeout_ms / 2 &&
	    (retry_after_s < 0 || retry_after_s * 1000 < (int64_t)in->timeout_ms / 2)) {
		for (guint i = 0; i < req->flights->len; i++) {
			struct flight *f = g_ptr_array_index(req->flights, i);
			g_clear_pointer(&f->work.result.details, g_free);
		}
		if (request_start(req))
			return;
	}
	switch (class) {
	case ANSWER_DECIDED:
		breaker_success(&st->breaker);
		break;
	case ANSWER_TRANSIENT:
		breaker_failure(&st->breaker, now);
		log_msg(LOG_WARNING, "integration %s: %s", in->name,
			first->work.result.details ? first->work.result.details : "failed");
		break;
	case ANSWER_AUTH:
		breaker_open_for(&st->breaker, now, AUTH_BACKOFF_MS);
		log_msg(LOG_ERR, "integration %s: credentials refused (%s); pausing it for %lld s",
			in->name, first->work.result.details ? first->work.result.details : "",
			AUTH_BACKOFF_MS / 1000);
		break;
	case ANSWER_QUOTA: {
		int64_t pause_ms = retry_after_s > 0 ? retry_after_s * 1000LL : QUOTA_BACKOFF_MS;

		breaker_open_for(&st->breaker, now, pause_ms);
		log_msg(LOG_WARNING, "integration %s: provider quota or rate limit (%s); "
			"pausing it for %lld s", in->name,
			first->work.result.details ? first->work.result.details : "",
			(long long)(pause_ms / 1000));
		break;
	}
	case ANSWER_PERMANENT:
		break;
	}
	st->in_flight--;
	for (guint i = 0; i < req->flights->len; i++)
		flight_finish(engine, g_ptr_array_index(req->flights, i));
	g_ptr_array_set_size(req->flights, 0);
	request_free(req);
	dispatch_queued(engine, st);
}

static void http_done(struct engine *engine, CURL *easy, CURLcode code)
{
	struct request *req = NULL;
	struct http_response resp;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
	struct flight *first = g_ptr_array_index(req->flights, 0);
	const struct integration *in = first->integration;
	enum answer_class class;

	/* the rate-limit header, if any, is the type's (registry.h) */
	http_response_from_easy(easy, code, req->errbuf, req->body,
				in->type->rate_limit_reset_header, &resp);
	class = provider_parse_http(in, req->batch, req->flights->len, &resp);
	(void)engine;
	request_done(req, class, resp.retry_after_s);
}

static int parse_a_records(unsigned char *abuf, int alen, struct ares_addrttl *addrs, int *naddrs)
{
	return ares_parse_a_reply(abuf, alen, NULL, addrs, naddrs);
}

static void dns_callback(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct request *req = arg;
	struct flight *flight = g_ptr_array_index(req->flights, 0);
	const struct integration *in = flight->integration;
	struct ares_addrttl addrs[16];
	int naddrs = 0;
	enum answer_class class;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		/* The engine is shutting down: nobody waits any more. */
		flight_fail(req->engine, flight, LOOKUP_ERROR, "shutdown");
		g_ptr_array_set_size(req->flights, 0);
		request_free(req);
		return;
	}
	if (status == ARES_SUCCESS) {
		naddrs = G_N_ELEMENTS(addrs);
		status = parse_a_records(abuf, alen, addrs, &naddrs);
		if (status != ARES_SUCCESS)
			naddrs = 0;
	}
	class = ops_of(in)->parse_dns(in, &flight->work, status, addrs, naddrs);
	request_done(req, class, -1);
}

/* --------------------------------------------------------------- c-ares */

static void watch_update(struct engine *engine, int fd, bool is_ares,
			 struct istate *st, bool readable, bool writable)
{
	if (watchset_update(engine->watches, fd, is_ares, st, readable, writable) != 0)
		log_msg(LOG_ERR, "engine: cannot watch socket %d: %s", fd, strerror(errno));
}

static void ares_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct istate *st = data;

	watch_update(st->engine, fd, true, st, readable, writable);
}

static bool dns_channel_ready(struct istate *st, const struct integration *in)
{
	if (st->channel != NULL && g_strcmp0(st->dns_servers, in->dns_servers) == 0)
		return true;
	if (st->channel != NULL) {
		ares_destroy(st->channel);
		st->channel = NULL;
	}
	struct ares_options opts = {
		.sock_state_cb = ares_sock_state,
		.sock_state_cb_data = st,
		.timeout = (int)(in->timeout_ms / 2 > 0 ? in->timeout_ms / 2 : 1),
		.tries = 2,
		/* Without NOCHECKRESP c-ares 1.18 turns SERVFAIL and REFUSED
		 * into ECONNREFUSED after trying the next server; we want the
		 * real rcode, to report it as the provider's error. */
		.flags = ARES_FLAG_NOCHECKRESP,
	};
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;

	if (ares_init_options(&st->channel, &opts, mask) != ARES_SUCCESS) {
		st->channel = NULL;
		return false;
	}
	if (in->dns_servers != NULL && *in->dns_servers != '\0' &&
	    ares_set_servers_ports_csv(st->channel, in->dns_servers) != ARES_SUCCESS) {
		log_msg(LOG_ERR, "integration %s: bad DNSServers", in->name);
		ares_destroy(st->channel);
		st->channel = NULL;
		return false;
	}
	g_free(st->dns_servers);
	st->dns_servers = g_strdup(in->dns_servers);
	return true;
}

/* ------------------------------------------------------------ dispatch */

static void start_request_for(struct engine *engine, struct istate *st,
			      struct flight **flights, size_t n)
{
	const struct integration *in = flights[0]->integration;
	struct request *req = g_new0(struct request, 1);

	req->engine = engine;
	req->state = st;
	req->flights = g_ptr_array_new();
	req->batch = g_new0(struct lookup *, n);
	req->started_ms = engine_now_ms();
	for (size_t i = 0; i < n; i++) {
		g_ptr_array_add(req->flights, flights[i]);
		req->batch[i] = &flights[i]->work;
	}
	st->in_flight++;
	if (ops_of(in)->dns_name != NULL && !dns_channel_ready(st, in)) {
		for (size_t i = 0; i < n; i++)
			provider_set_result(&flights[i]->work, LOOKUP_ERROR, "DNS resolver setup failed");
		request_done(req, ANSWER_PERMANENT, -1);
		return;
	}
	if (!request_start(req)) {
		for (size_t i = 0; i < n; i++)
			provider_set_result(&flights[i]->work, LOOKUP_ERROR, "request failed");
		request_done(req, ANSWER_PERMANENT, -1);
	}
}

/* May a request go out now? Breaker first, then the budget: a request
 * refused by either is answered at once, never queued past a deadline.
 * Refused: answers flights[0..n-1] and returns false. */
static bool admit(struct engine *engine, struct istate *st,
		  struct flight **flights, size_t n)
{
	int64_t now = engine_now_ms();
	enum lookup_status status;
	const char *why;

	istate_refresh_limits(st, flights[0]->integration);
	if (!breaker_allow(&st->breaker, now)) {
		status = LOOKUP_ERROR;
		why = "circuit open";
	} else if (!ratelimit_take(st->ratelimit, now)) {
		/* The breaker may have handed us its half-open probe. */
		if (st->breaker.state == BREAKER_HALF_OPEN)
			st->breaker.probe_in_flight = false;
		status = LOOKUP_RATE_LIMITED;
		why = "over RateLimit";
	} else {
		return true;
	}
	for (size_t i = 0; i < n; i++)
		flight_fail(engine, flights[i], status, why);
	return false;
}

static void dispatch_queued(struct engine *engine, struct istate *st)
{
	struct flight *flight;

	while (st->in_flight < G_MAXUINT &&
	       (flight = g_queue_peek_head(&st->waiting)) != NULL &&
	       st->in_flight < (flight->integration->max_in_flight
				? flight->integration->max_in_flight : 1)) {
		g_queue_pop_head(&st->waiting);
		if (admit(engine, st, &flight, 1))
			start_request_for(engine, st, &flight, 1);
	}
}

static void dispatch(struct engine *engine, struct flight *flight)
{
	struct istate *st = flight->state;
	const struct provider_ops *ops = ops_of(flight->integration);

	if (ops->max_batch > 1) {
		g_ptr_array_add(st->to_batch, flight);
		return;
	}
	g_queue_push_tail(&st->waiting, flight);
	dispatch_queued(engine, st);
}

/* Batching providers: everything gathered this turn goes out in requests
 * of up to max_batch lookups; each request costs one token. */
static void flush_batches(struct engine *engine)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, engine->states);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		struct istate *st = value;
		GPtrArray *all = st->to_batch;

		if (all->len == 0)
			continue;
		st->to_batch = g_ptr_array_new();
		unsigned max = ops_of(((struct flight *)all->pdata[0])->integration)->max_batch;
		for (guint start = 0; start < all->len; start += max) {
			guint n = MIN(max, all->len - start);
			struct flight **group = (struct flight **)&all->pdata[start];

			if (admit(engine, st, group, n))
				start_request_for(engine, st, group, n);
		}
		g_ptr_array_unref(all);
	}
}

/* ---------------------------------------------------------------- curl */

static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct engine *engine = userp;

	(void)easy;
	(void)socketp;
	watch_update(engine, fd, false, NULL,
		     what == CURL_POLL_IN || what == CURL_POLL_INOUT,
		     what == CURL_POLL_OUT || what == CURL_POLL_INOUT);
	return 0;
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct engine *engine = userp;

	(void)multi;
	engine->curl_timeout_at = timeout_ms < 0 ? -1 : engine_now_ms() + timeout_ms;
	return 0;
}

static void curl_collect(struct engine *engine)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(engine->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE)
			http_done(engine, msg->easy_handle, msg->data.result);
}

/* ---------------------------------------------------------------- loop */

static int loop_timeout(struct engine *engine)
{
	int64_t now = engine_now_ms();
	int64_t timeout = 1000;
	GHashTableIter iter;
	gpointer value;

	if (engine->curl_timeout_at >= 0)
		timeout = MIN(timeout, MAX(0, engine->curl_timeout_at - now));
	g_hash_table_iter_init(&iter, engine->states);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		struct istate *st = value;
		struct timeval tv, *tvp;

		if (st->channel == NULL)
			continue;
		tvp = ares_timeout(st->channel, NULL, &tv);
		if (tvp != NULL)
			timeout = MIN(timeout, (int64_t)tvp->tv_sec * 1000 + tvp->tv_usec / 1000);
	}
	return (int)timeout;
}

static void take_submissions(struct engine *engine)
{
	GQueue batch = G_QUEUE_INIT;
	uint64_t count;
	struct flight *flight;

	if (read(engine->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "engine: wake read: %s", strerror(errno));
	pthread_mutex_lock(&engine->lock);
	batch = engine->submitted;
	g_queue_init(&engine->submitted);
	pthread_mutex_unlock(&engine->lock);
	while ((flight = g_queue_pop_head(&batch)) != NULL)
		dispatch(engine, flight);
	flush_batches(engine);
}

static void process_ares_timeouts(struct engine *engine)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, engine->states);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		struct istate *st = value;

		if (st->channel != NULL)
			ares_process_fd(st->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
}

static void *engine_loop(void *arg)
{
	struct engine *engine = arg;
	struct epoll_event events[64];
	int running;

	for (;;) {
		pthread_mutex_lock(&engine->lock);
		bool stopping = engine->stopping;
		pthread_mutex_unlock(&engine->lock);
		if (stopping)
			break;

		int n = epoll_wait(engine->epoll_fd, events, G_N_ELEMENTS(events),
				   loop_timeout(engine));
		if (n < 0 && errno != EINTR) {
			log_msg(LOG_ERR, "engine: epoll_wait: %s", strerror(errno));
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 == watchset_outside_event(engine->wake_fd)) {
				take_submissions(engine);
				continue;
			}
			/* an earlier event of this batch may have made curl or
			 * c-ares drop this socket, or replace it by a new one
			 * with the same number (see watchset.h) */
			const struct watch *w = watchset_lookup_event(engine->watches,
								      events[i].data.u64);
			if (w == NULL)
				continue;
			int fd = w->fd;
			if (w->is_ares) {
				ares_socket_t rfd = (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
						    ? fd : ARES_SOCKET_BAD;
				ares_socket_t wfd = (events[i].events & EPOLLOUT) ? fd : ARES_SOCKET_BAD;
				ares_process_fd(w->state->channel, rfd, wfd);
			} else {
				int mask = 0;
				if (events[i].events & EPOLLIN)
					mask |= CURL_CSELECT_IN;
				if (events[i].events & EPOLLOUT)
					mask |= CURL_CSELECT_OUT;
				if (events[i].events & (EPOLLERR | EPOLLHUP))
					mask |= CURL_CSELECT_ERR;
				curl_multi_socket_action(engine->multi, fd, mask, &running);
			}
			curl_collect(engine);
		}
		if (engine->curl_timeout_at >= 0 && engine_now_ms() >= engine->curl_timeout_at) {
			engine->curl_timeout_at = -1;
			curl_multi_socket_action(engine->multi, CURL_SOCKET_TIMEOUT, 0, &running);
			curl_collect(engine);
		}
		process_ares_timeouts(engine);
	}
	return NULL;
}

/* --------------------------------------------------------------- public */

struct engine *engine_new(const struct engine_options *options, char *err, size_t errlen)
{
	struct engine *engine = g_new0(struct engine, 1);
	struct epoll_event ev = { .events = EPOLLIN };

	pthread_mutex_init(&engine->lock, NULL);
	g_queue_init(&engine->submitted);
	engine->flights = g_hash_table_new(g_str_hash, g_str_equal);
	engine->states = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, istate_free);
	engine->transfers = g_hash_table_new(g_direct_hash, g_direct_equal);
	engine->curl_timeout_at = -1;
	engine->ca_file = g_strdup(options ? options->ca_file : NULL);
	engine->breaker_threshold = options && options->breaker_threshold
				    ? options->breaker_threshold : 5;
	engine->breaker_cooldown_ms = options && options->breaker_cooldown_ms
				      ? options->breaker_cooldown_ms : 30000;
	engine->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	engine->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.u64 = watchset_outside_event(engine->wake_fd);
	engine->watches = watchset_new(engine->epoll_fd);
	if (engine->epoll_fd < 0 || engine->wake_fd < 0 ||
	    epoll_ctl(engine->epoll_fd, EPOLL_CTL_ADD, engine->wake_fd, &ev) < 0) {
		snprintf(err, errlen, "engine: %s", strerror(errno));
		goto fail;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		snprintf(err, errlen, "engine: libcurl or c-ares initialisation failed");
		goto fail;
	}
	engine->multi = curl_multi_init();
	engine->share = curl_share_init();
	curl_share_setopt(engine->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(engine->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_multi_setopt(engine->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(engine->multi, CURLMOPT_SOCKETDATA, engine);
	curl_multi_setopt(engine->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(engine->multi, CURLMOPT_TIMERDATA, engine);
	curl_multi_setopt(engine->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	if (pthread_create(&engine->thread, NULL, engine_loop, engine) != 0) {
		snprintf(err, errlen, "engine: cannot start thread");
		goto fail;
	}
	return engine;
fail:
	if (engine->multi)
		curl_multi_cleanup(engine->multi);
	if (engine->share)
		curl_share_cleanup(engine->share);
	if (engine->epoll_fd >= 0)
		close(engine->epoll_fd);
	if (engine->wake_fd >= 0)
		close(engine->wake_fd);
	g_hash_table_destroy(engine->flights);
	g_hash_table_destroy(engine->states);
	watchset_free(engine->watches);
	g_hash_table_destroy(engine->transfers);
	g_free(engine->ca_file);
	g_free(engine);
	return NULL;
}

static void wake(struct engine *engine)
{
	uint64_t one = 1;

	if (write(engine->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "engine: wake: %s", strerror(errno));
}

void engine_free(struct engine *engine)
{
	if (engine == NULL)
		return;
	pthread_mutex_lock(&engine->lock);
	engine->stopping = true;
	pthread_mutex_unlock(&engine->lock);
	wake(engine);
	pthread_join(engine->thread, NULL);

	/* Abandon what is still running: nobody waits for it (callers have
	 * returned before the daemon frees the engine). */
	GHashTableIter iter;
	gpointer value;
	g_hash_table_iter_init(&iter, engine->states);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		struct istate *st = value;
		if (st->channel != NULL) {
			ares_destroy(st->channel);	/* callbacks get ARES_EDESTRUCTION */
			st->channel = NULL;
		}
	}
	GList *transfers = g_hash_table_get_keys(engine->transfers);
	for (GList *l = transfers; l != NULL; l = l->next) {
		struct request *req = l->data;
		for (guint i = 0; i < req->flights->len; i++)
			flight_fail(engine, g_ptr_array_index(req->flights, i), LOOKUP_ERROR, "shutdown");
		g_ptr_array_set_size(req->flights, 0);
		request_free(req);
	}
	g_list_free(transfers);
	struct flight *flight;
	while ((flight = g_queue_pop_head(&engine->submitted)) != NULL)
		flight_fail(engine, flight, LOOKUP_ERROR, "shutdown");
	g_hash_table_iter_init(&iter, engine->states);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		struct istate *st = value;
		while ((flight = g_queue_pop_head(&st->waiting)) != NULL)
			flight_fail(engine, flight, LOOKUP_ERROR, "shutdown");
	}
	curl_multi_cleanup(engine->multi);
	curl_share_cleanup(engine->share);
	close(engine->epoll_fd);
	close(engine->wake_fd);
	g_hash_table_destroy(engine->flights);
	g_hash_table_destroy(engine->states);
	watchset_free(engine->watches);
	g_hash_table_destroy(engine->transfers);
	pthread_mutex_destroy(&engine->lock);
	g_free(engine->ca_file);
	g_free(engine);
}

/* Answers from the cache, or joins/creates a flight. Caller holds the lock.
 * Returns true when the lookup waits for a flight. */
static bool submit_one(struct engine *engine, struct tm_config *cfg,
		       struct lookup *lookup, struct batch *batch, bool *wake_needed)
{
	const struct integration *in = lookup->integration;
	struct istate *st = istate_get(engine, in);
	char *key = flight_key(lookup);
	int64_t now = engine_now_ms();

	if (ops_of(in) == NULL) {
		provider_set_result(lookup, LOOKUP_SKIPPED, "provider type has no lookups yet");
		g_free(key);
		return false;
	}
	if (in->cache && cache_get(st->cache, key, now, &lookup->result.status,
				   &lookup->result.details)) {
		lookup->result.cached = true;
		lookup->result.latency_ms = 0;
		engine->stats.cache_hits++;
		g_free(key);
		return false;
	}
	struct waiter *w = g_new0(struct waiter, 1);
	w->batch = batch;
	w->lookup = lookup;
	struct flight *flight = g_hash_table_lookup(engine->flights, key);
	if (flight != NULL) {
		engine->stats.joined++;
		g_ptr_array_add(flight->waiters, w);
		g_free(key);
		return true;
	}
	flight = g_new0(struct flight, 1);
	flight->key = key;
	flight->cfg = config_ref(cfg);
	flight->integration = in;
	flight->state = st;
	flight->work.integration = in;
	flight->work.kind = lookup->kind;
	flight->work.indicator = g_strdup(lookup->indicator);
	flight->work.result.status = LOOKUP_ERROR;
	flight->waiters = g_ptr_array_new();
	flight->started_ms = now;
	g_ptr_array_add(flight->waiters, w);
	g_hash_table_insert(engine->flights, flight->key, flight);
	g_queue_push_tail(&engine->submitted, flight);
	*wake_needed = true;
	return true;
}

/* The caller gives up: its waiters are detached so that the flights,
 * which go on, never touch its memory. Caller holds the lock. */
static void abandon(struct engine *engine, struct batch *batch)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, engine->flights);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		struct flight *flight = value;

		for (guint i = 0; i < flight->waiters->len; i++) {
			struct waiter *w = g_ptr_array_index(flight->waiters, i);

			if (w->batch == batch) {
				w->batch = NULL;
				provider_set_result(w->lookup, LOOKUP_ERROR, "deadline");
				w->lookup->result.latency_ms =
					(unsigned)(engine_now_ms() - flight->started_ms);
			}
		}
	}
}

void engine_run(struct engine *engine, struct tm_config *cfg,
		struct lookup *const *lookups, size_t n, int64_t deadline_ms)
{
	struct batch batch = { .pending = 0 };
	pthread_condattr_t attr;
	bool wake_needed = false;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&batch.done, &attr);
	pthread_condattr_destroy(&attr);

	pthread_mutex_lock(&engine->lock);
	for (size_t i = 0; i < n; i++) {
		lookups[i]->result = (struct lookup_result){ .status = LOOKUP_ERROR };
		if (submit_one(engine, cfg, lookups[i], &batch, &wake_needed))
			batch.pending++;
	}
	if (wake_needed)
		wake(engine);
	while (batch.pending > 0) {
		struct timespec ts = {
			.tv_sec = deadline_ms / 1000,
			.tv_nsec = (deadline_ms % 1000) * 1000000,
		};
		int rc = pthread_cond_timedwait(&batch.done, &engine->lock, &ts);

		if (rc == ETIMEDOUT && batch.pending > 0) {
			abandon(engine, &batch);
			break;
		}
	}
	pthread_mutex_unlock(&engine->lock);
	pthread_cond_destroy(&batch.done);
}

void engine_get_stats(struct engine *engine, struct engine_stats *out)
{
	pthread_mutex_lock(&engine->lock);
	*out = engine->stats;
	pthread_mutex_unlock(&engine->lock);
}
