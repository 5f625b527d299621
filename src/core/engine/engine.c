/* engine.c: the public face of the engine (engine.h): its thread, the
 * hand-over of a caller's batch, and the cache fast path on the
 * caller's thread. The work is in loop.c, http.c, dns.c, flights.c,
 * admission.c, request.c and jobs.c. */
#include <autoconfig.h>
#include "engine/engine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <glib.h>

#include "cache/cache.h"
#include "config/config.h"
#include "config/integrations.h"
#include "engine/engine_internal.h"
#include "engine/engine_test.h"
#include "providers/registry.h"

/* How long after its deadline a caller waits for the engine thread's own
 * answer before it gives up by itself (the engine answers at the
 * deadline; this only guards against a stuck engine thread). */
#define CALLER_GRACE_MS 500

int64_t engine_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const struct provider_ops *engine_ops_of(const struct integration *in)
{
	return in->type ? &in->type->ops : NULL;
}

void engine_count(struct engine *engine, uint64_t *counter)
{
	(void)engine;
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

void engine_flight_key_into(GString *key, const struct lookup *lookup)
{
	const char *part[3] = { lookup->integration->name, indicator_kind_name(lookup->kind),
				lookup->indicator };
	size_t len[3] = { strlen(part[0]), strlen(part[1]), strlen(part[2]) };

	/* "name\x1fkind\x1findicator", copied in place: built for every
	 * lookup of every message (issue 19) */
	g_string_set_size(key, len[0] + len[1] + len[2] + 2);
	char *p = key->str;
	for (int i = 0; i < 3; i++) {
		memcpy(p, part[i], len[i]);
		p += len[i];
		*p++ = i < 2 ? '\x1f' : '\0';
	}
}

char *engine_flight_key(const struct lookup *lookup)
{
	GString *key = g_string_sized_new(64);

	engine_flight_key_into(key, lookup);
	return g_string_free(key, FALSE);
}

/* Engine thread: batches handed over since the last wake-up. */
static void on_wake(void *data)
{
	struct engine *engine = data;
	struct batch *b;
	GQueue taken;

	pthread_mutex_lock(&engine->lock);
	taken = engine->submitted;
	g_queue_init(&engine->submitted);
	pthread_mutex_unlock(&engine->lock);
	while ((b = g_queue_pop_head(&taken)) != NULL)
		flights_take_batch(engine, b);
}

static void *engine_thread(void *arg)
{
	struct engine *engine = arg;

	for (;;) {
		pthread_mutex_lock(&engine->lock);
		bool stopping = engine->stopping;
		pthread_mutex_unlock(&engine->lock);
		if (stopping)
			break;
		loop_turn(engine->loop, 1000);
	}
	return NULL;
}

struct engine *engine_new_custom(const struct engine_options *options,
				 const struct engine_custom *custom,
				 char *err, size_t errlen)
{
	struct engine *engine = g_new0(struct engine, 1);

	pthread_mutex_init(&engine->lock, NULL);
	g_rw_lock_init(&engine->caches_lock);
	g_queue_init(&engine->submitted);
	engine->caches = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cache_slot_free);
	engine->flights = g_hash_table_new(g_str_hash, g_str_equal);
	engine->orphans = job_orphans_new();
	engine->undelivered = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	engine->states = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, istate_free);
	engine->requests = g_hash_table_new(g_direct_hash, g_direct_equal);
	engine->breaker_threshold = options && options->breaker_threshold
				    ? options->breaker_threshold : 5;
	engine->breaker_cooldown_ms = options && options->breaker_cooldown_ms
				      ? options->breaker_cooldown_ms : 30000;
	if (options != NULL) {
		engine->options = *options;
		engine->options.ca_file = NULL;	/* the caller's: read here only */
	}
	engine->loop = loop_new(custom ? custom->clock : NULL, on_wake, engine);
	if (engine->loop == NULL) {
		snprintf(err, errlen, "engine: %s", strerror(errno));
		engine_free(engine);
		return NULL;
	}
	if (custom != NULL && custom->transport_new != NULL)
		engine->transport = custom->transport_new(engine->loop, custom->data);
	else if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		engine->transport = transport_net_new(engine->loop, options ? options->ca_file : NULL,
						      err, errlen);
	else
		snprintf(err, errlen, "engine: libcurl initialisation failed");
	if (engine->transport == NULL) {
		engine_free(engine);
		return NULL;
	}
	if (custom == NULL || !custom->manual) {
		if (pthread_create(&engine->thread, NULL, engine_thread, engine) != 0) {
			snprintf(err, errlen, "engine: cannot start thread");
			engine_free(engine);
			return NULL;
		}
		engine->threaded = true;
	}
	return engine;
}

struct engine *engine_new(const struct engine_options *options, char *err, size_t errlen)
{
	return engine_new_custom(options, NULL, err, errlen);
}

void engine_free(struct engine *engine)
{
	if (engine == NULL)
		return;
	pthread_mutex_lock(&engine->lock);
	engine->stopping = true;
	pthread_mutex_unlock(&engine->lock);
	if (engine->threaded) {
		loop_wake(engine->loop);
		pthread_join(engine->thread, NULL);
	}
	/* The engine thread is gone: this thread owns everything now.
	 * Abandon what still runs (callers have returned before the daemon
	 * frees the engine): the transport forgets its calls without
	 * calling back, the requests and flights go. */
	if (engine->transport != NULL) {
		GList *reqs = g_hash_table_get_keys(engine->requests);

		for (GList *l = reqs; l != NULL; l = l->next)
			((struct request *)l->data)->call = NULL;
		engine->transport->ops->free(engine->transport);
		for (GList *l = reqs; l != NULL; l = l->next)
			request_free(l->data);
		g_list_free(reqs);
	}
	struct batch *b;
	while ((b = g_queue_pop_head(&engine->submitted)) != NULL)
		batch_unref_locked(b);	/* only the caller's reference is left */
	/* the shared job leases go back before their cache (shared.c) */
	shared_jobs_hand_back(engine);
	/* pending cache gets end as misses, which end their flights */
	g_hash_table_remove_all(engine->caches);
	flights_abandon_all(engine);
	g_hash_table_destroy(engine->states);
	g_hash_table_destroy(engine->flights);
	g_hash_table_destroy(engine->orphans);
	g_hash_table_destroy(engine->requests);
	g_hash_table_destroy(engine->caches);
	g_hash_table_destroy(engine->undelivered);
	g_queue_clear_full(&engine->undelivered_order, g_free);
	config_unref(engine->latest_cfg);
	loop_free(engine->loop);
	g_rw_lock_clear(&engine->caches_lock);
	pthread_mutex_destroy(&engine->lock);
	g_free(engine);
}

/* The cache fast path of a batch, on the caller's thread: no engine lock,
 * no wake-up (issue 19). The caller holds caches_lock for reading. */
struct fast_path {
	GString *key;				/* scratch */
	int64_t now_s;
	const struct integration *in;		/* the last lookup's ... */
	struct cache_slot *slot;		/* ... cache (lookups come by integration) */
};

static bool answer_from_cache(struct engine *engine, struct fast_path *fp, struct lookup *lookup)
{
	const struct integration *in = lookup->integration;
	struct cache_answer answer = { 0 };

	if (!in->cache)
		return false;
	if (in != fp->in) {
		fp->in = in;
		fp->slot = g_hash_table_lookup(engine->caches, in->name);
	}
	if (fp->slot == NULL || fp->slot->cache->ops->try_get == NULL)
		return false;
	engine_flight_key_into(fp->key, lookup);
	if (!cache_try_get(fp->slot->cache, fp->key->str, fp->now_s, &answer))
		return false;
	tm_metrics_cache(fp->slot->metrics, fp->slot->backend, true);
	lookup->result.status = answer.status;
	lookup->result.details = answer.details;
	lookup->result.cached = true;
	engine_count(engine, &engine->stats.cache_hits);
	return true;
}

struct batch *engine_submit(struct engine *engine, struct tm_config *cfg,
			    struct lookup *const *lookups, size_t n, int64_t deadline_ms)
{
	return engine_submit_message(engine, cfg, lookups, n, deadline_ms, NULL);
}

struct batch *engine_submit_message(struct engine *engine, struct tm_config *cfg,
				    struct lookup *const *lookups, size_t n, int64_t deadline_ms,
				    const struct engine_message *msg)
{
	struct batch *b = g_new0(struct batch, 1);
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&b->done, &attr);
	pthread_condattr_destroy(&attr);
	b->refs = 1;
	b->lookups = (struct lookup **)lookups;
	b->asked = g_new0(bool, n);
	b->n = n;
	b->deadline_ms = deadline_ms;
	if (msg != NULL) {
		b->report = msg->report;
		if (msg->queue_id != NULL && *msg->queue_id != '\0')
			b->queue_id = g_strdup(msg->queue_id);
		b->message_id = g_strdup(msg->message_id);
	}
	struct fast_path fp = { .key = g_string_sized_new(128), .now_s = loop_wall_s(engine->loop) };

	g_rw_lock_reader_lock(&engine->caches_lock);
	for (size_t i = 0; i < n; i++) {
		struct lookup *l = lookups[i];

		l->result = (struct lookup_result){ .status = LOOKUP_ERROR };
		if (engine_ops_of(l->integration) == NULL)
			provider_set_result(l, LOOKUP_SKIPPED, "provider type has no lookups yet");
		else if (!answer_from_cache(engine, &fp, l))
			b->asked[i] = true, b->pending++;
	}
	g_rw_lock_reader_unlock(&engine->caches_lock);
	g_string_free(fp.key, TRUE);
	if (b->pending == 0)
		return b;
	b->handed_over = true;
	b->cfg = config_ref(cfg);
	b->refs = 2;		/* the caller's and the engine's */
	pthread_mutex_lock(&engine->lock);
	g_queue_push_tail(&engine->submitted, b);
	pthread_mutex_unlock(&engine->lock);
	loop_wake(engine->loop);
	return b;
}

bool engine_batch_done(struct engine *engine, struct batch *b)
{
	if (!b->handed_over)
		return true;
	pthread_mutex_lock(&engine->lock);
	bool done = b->pending == 0;
	pthread_mutex_unlock(&engine->lock);
	return done;
}

void engine_batch_release(struct engine *engine, struct batch *b)
{
	if (!b->handed_over) {
		batch_unref_locked(b);	/* the caller's alone: no lock needed */
		return;
	}
	pthread_mutex_lock(&engine->lock);
	if (b->pending > 0) {
		b->caller_gone = true;
		for (size_t i = 0; i < b->n; i++)
			if (b->asked[i])
				provider_set_result(b->lookups[i], LOOKUP_ERROR, "deadline"),
				b->lookups[i]->result.error = LOOKUP_ERR_TIMEOUT;
	}
	batch_unref_locked(b);
	pthread_mutex_unlock(&engine->lock);
}

void engine_turn(struct engine *engine, int max_wait_ms)
{
	loop_turn(engine->loop, max_wait_ms);
}

void engine_run(struct engine *engine, struct tm_config *cfg,
		struct lookup *const *lookups, size_t n, int64_t deadline_ms)
{
	engine_run_message(engine, cfg, lookups, n, deadline_ms, NULL);
}

void engine_run_message(struct engine *engine, struct tm_config *cfg,
			struct lookup *const *lookups, size_t n, int64_t deadline_ms,
			const struct engine_message *msg)
{
	struct batch *b = engine_submit_message(engine, cfg, lookups, n, deadline_ms, msg);
	int64_t give_up = deadline_ms + CALLER_GRACE_MS;
	struct timespec ts = { .tv_sec = give_up / 1000, .tv_nsec = (give_up % 1000) * 1000000 };

	if (!b->handed_over) {		/* all answered from the cache */
		engine_batch_release(engine, b);
		return;
	}
	pthread_mutex_lock(&engine->lock);
	while (b->pending > 0)
		if (pthread_cond_timedwait(&b->done, &engine->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&engine->lock);
	engine_batch_release(engine, b);
}

struct tm_metrics *engine_metrics(const struct engine *engine)
{
	return engine != NULL ? engine->options.metrics : NULL;
}

void engine_message_not_delivered(struct engine *engine, const char *queue_id)
{
	if (queue_id == NULL || *queue_id == '\0')
		return;
	pthread_mutex_lock(&engine->lock);
	if (g_hash_table_add(engine->undelivered, g_strdup(queue_id))) {
		g_queue_push_tail(&engine->undelivered_order, g_strdup(queue_id));
		/* bounded: the oldest are forgotten (their jobs ended long ago) */
		while (g_queue_get_length(&engine->undelivered_order) > MAX_UNDELIVERED) {
			char *old = g_queue_pop_head(&engine->undelivered_order);

			g_hash_table_remove(engine->undelivered, old);
			g_free(old);
		}
	}
	pthread_mutex_unlock(&engine->lock);
}

bool engine_message_was_delivered(struct engine *engine, const char *queue_id)
{
	pthread_mutex_lock(&engine->lock);
	bool refused = g_hash_table_contains(engine->undelivered, queue_id);
	pthread_mutex_unlock(&engine->lock);
	return !refused;
}

void engine_get_stats(struct engine *engine, struct engine_stats *out)
{
	out->requests = __atomic_load_n(&engine->stats.requests, __ATOMIC_RELAXED);
	out->cache_hits = __atomic_load_n(&engine->stats.cache_hits, __ATOMIC_RELAXED);
	out->joined = __atomic_load_n(&engine->stats.joined, __ATOMIC_RELAXED);
}
