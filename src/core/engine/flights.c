/* flights.c: single-flight table, waiters and their deadlines, and the
 * cache stage of a flight. Engine thread only, except where a function
 * says it takes engine->lock to hand results to a caller. */
#include <autoconfig.h>

#include <string.h>
#include <glib.h>

#include "cache/cache.h"
#include "config/config.h"
#include "config/integrations.h"
#include "engine/engine_internal.h"
#include "lookup/sample.h"
#include "util/log.h"

/* An "unknown" answer (the provider never saw it) is worth asking again
 * sooner than a verdict: the provider may have analysed it meanwhile. */
#define UNKNOWN_MAX_TTL_S 3600

void cache_slot_free(gpointer data)
{
	struct cache_slot *slot = data;

	cache_free(slot->cache);
	g_free(slot);
}

/* Verdicts only: never an error, rate_limited or pending (the provider
 * still analysing it: provider.h "jobs"); a job that ends in error leaves
 * nothing (cache_put with 0 reads), so the next message asks again. */
static bool cacheable(enum lookup_status status)
{
	return status == LOOKUP_MALICIOUS || status == LOOKUP_SUSPICIOUS ||
	       status == LOOKUP_CLEAN || status == LOOKUP_UNKNOWN;
}

/* Drops the engine's reference to a batch; the last one frees it.
 * Caller holds engine->lock. */
void batch_unref_locked(struct batch *batch)
{
	if (--batch->refs > 0)
		return;
	if (batch->waiters != NULL)
		g_ptr_array_unref(batch->waiters);
	g_free(batch->queue_id);
	g_free(batch->message_id);
	pthread_cond_destroy(&batch->done);
	config_unref(batch->cfg);
	g_free(batch->asked);
	g_free(batch);
}

/* Hands res to the caller of w. Caller holds engine->lock. Returns true
 * when that was the batch's last lookup. */
static bool answer_locked(struct waiter *w, const struct lookup_result *res)
{
	struct batch *b = w->batch;

	if (!b->caller_gone && b->asked[w->index]) {
		struct lookup *l = b->lookups[w->index];

		g_free(l->result.details);
		l->result = *res;
		l->result.details = g_strdup(res->details);
		/* res->latency_ms is the flight's age; this message waited
		 * from when it joined (a shared lookup or a running job) */
		l->result.latency_ms = res->latency_ms > w->joined_after_ms
				       ? res->latency_ms - (unsigned)w->joined_after_ms : 0;
	}
	b->asked[w->index] = false;
	w->flight = NULL;
	if (--b->pending > 0)
		return false;
	pthread_cond_broadcast(&b->done);
	return true;
}

/* The batch's last lookup was answered: the engine lets go of it. */
static void batch_finished(struct engine *engine, struct batch *b)
{
	loop_timer_cancel(engine->loop, b->deadline_timer);
	b->deadline_timer = 0;
	pthread_mutex_lock(&engine->lock);
	batch_unref_locked(b);
	pthread_mutex_unlock(&engine->lock);
}

void flight_answer_waiter(struct engine *engine, struct waiter *w,
			  const struct lookup_result *res)
{
	struct batch *b = w->batch;

	if (res->status == LOOKUP_PENDING && w->flight->job != NULL)
		job_watch(w->flight, w);
	g_ptr_array_remove(w->flight->waiters, w);
	pthread_mutex_lock(&engine->lock);
	bool last = answer_locked(w, res);
	pthread_mutex_unlock(&engine->lock);
	if (last)
		batch_finished(engine, b);
}

static void cache_store(struct engine *engine, struct flight *flight)
{
	const struct integration *in = flight->integration;
	const struct lookup_result *res = &flight->work.result;
	struct cache_slot *slot;

	/* a cached answer is not stored again: that would renew its expiry
	 * and its CacheMaxHits (an asynchronous backend's hits come here);
	 * an answer not kept is put with 0 reads (cache.h) */
	if (!in->cache || res->cached)
		return;
	unsigned hits = cacheable(res->status) && in->cache_hours != 0 ? in->cache_max_hits : 0;
	int64_t ttl = (int64_t)in->cache_hours * 3600;

	if (res->ttl_s > 0 && (int64_t)res->ttl_s < ttl)
		ttl = res->ttl_s;
	if (res->status == LOOKUP_UNKNOWN && ttl > UNKNOWN_MAX_TTL_S)
		ttl = UNKNOWN_MAX_TTL_S;
	struct cache_answer answer = { .status = res->status, .details = res->details };

	g_rw_lock_reader_lock(&engine->caches_lock);
	slot = g_hash_table_lookup(engine->caches, in->name);
	if (slot != NULL)
		cache_put(slot->cache, flight->key, &answer, loop_wall_s(engine->loop) + ttl, hits);
	g_rw_lock_reader_unlock(&engine->caches_lock);
}

static void flight_free(struct engine *engine, struct flight *flight)
{
	g_hash_table_remove(engine->flights, flight->key);
	if (flight->job != NULL) {
		shared_job_release(engine, flight);
		job_free(engine, flight->job);
	}
	g_ptr_array_unref(flight->waiters);
	g_free(flight->work.indicator);
	sample_unref(flight->work.sample);
	g_free(flight->work.result.details);
	g_free(flight->key);
	config_unref(flight->cfg);
	g_free(flight);
}

/* Hands the flight's result to every waiter still there, caches it and
 * frees the flight. */
void flight_finish(struct engine *engine, struct flight *flight)
{
	struct lookup_result *res = &flight->work.result;
	GPtrArray *finished = g_ptr_array_new();

	res->latency_ms = (unsigned)(loop_now_ms(engine->loop) - flight->started_ms);
	cache_store(engine, flight);
	tm_metrics_lookup_end(flight->state->metrics, res);
	if (flight->job != NULL && flight->job->submitted)
		tm_metrics_job_finished(flight->state->metrics, res->status);
	if (flight->job != NULL && !engine->stopping) {
		if (flight->job->submitted && engine->options.job_finished != NULL)
			engine->options.job_finished(engine->options.job_finished_data,
						     &flight->work);
		/* watchers: messages that got pending from this job, or from
		 * an earlier one of the key that ended in error */
		job_alert_watchers(engine, flight);
		job_orphan_watchers(engine, flight);
	}
	pthread_mutex_lock(&engine->lock);
	for (guint i = 0; i < flight->waiters->len; i++) {
		struct waiter *w = g_ptr_array_index(flight->waiters, i);

		if (answer_locked(w, res))
			g_ptr_array_add(finished, w->batch);
	}
	pthread_mutex_unlock(&engine->lock);
	g_ptr_array_set_size(flight->waiters, 0);
	for (guint i = 0; i < finished->len; i++)
		batch_finished(engine, g_ptr_array_index(finished, i));
	g_ptr_array_unref(finished);
	flight_free(engine, flight);
}

void flight_fail(struct engine *engine, struct flight *flight, enum lookup_status status,
		 enum lookup_error error, const char *details)
{
	g_free(flight->work.result.details);
	flight->work.result.status = status;
	flight->work.result.error = error;
	flight->work.result.details = g_strdup(details);
	flight_finish(engine, flight);
}

/* The batch's deadline: every lookup still waiting ends now, as
 * "pending" when a job was submitted for it, else as a timeout. The
 * flights go on (a request out still fills the cache); a flight left
 * without waiters in a queue is dropped there (admission.c). */
static void batch_deadline(void *data)
{
	struct batch *b = data;
	struct engine *engine = NULL;
	GPtrArray *open = g_ptr_array_new();

	b->deadline_timer = 0;
	for (guint i = 0; i < b->waiters->len; i++) {
		struct waiter *w = g_ptr_array_index(b->waiters, i);

		if (w->flight != NULL)
			g_ptr_array_add(open, w);
	}
	for (guint i = 0; i < open->len; i++) {
		struct waiter *w = g_ptr_array_index(open, i);
		struct flight *f = w->flight;
		bool pending = f->job != NULL && f->job->submitted;
		struct lookup_result res = {
			.status = pending ? LOOKUP_PENDING : LOOKUP_ERROR,
			.error = pending ? LOOKUP_ERR_NONE : LOOKUP_ERR_TIMEOUT,
			.details = pending ? "analysis pending" : "deadline",
		};

		engine = f->state->engine;
		res.latency_ms = (unsigned)(loop_now_ms(engine->loop) - f->started_ms);
		flight_answer_waiter(engine, w, &res);	/* may free b: last use */
	}
	g_ptr_array_unref(open);
}

static struct flight *flight_new(struct engine *engine, struct batch *b,
				 const struct lookup *lookup, char *key)
{
	struct flight *f = g_new0(struct flight, 1);

	f->key = key;
	f->cfg = config_ref(b->cfg);
	f->integration = lookup->integration;
	f->state = istate_get(engine, lookup->integration);
	f->work.integration = lookup->integration;
	f->work.kind = lookup->kind;
	f->work.indicator = g_strdup(lookup->indicator);
	f->work.result.status = LOOKUP_ERROR;
	f->waiters = g_ptr_array_new();
	f->started_ms = loop_now_ms(engine->loop);
	f->lane = b->lane;
	f->stage = FLIGHT_CACHE;
	f->job = job_new_for(engine, lookup);
	if (f->job != NULL)
		job_adopt_watchers(engine, f);
	/* the bytes, for a job's upload step only (dropped once submitted) */
	if (f->job != NULL && lookup->sample != NULL)
		f->work.sample = sample_ref(lookup->sample);
	g_hash_table_insert(engine->flights, f->key, f);
	return f;
}

/* Which backend answered for a cache stage: for the metrics. */
static enum tm_cache_backend cache_backend_of(struct engine *engine, const struct integration *in)
{
	struct cache_slot *slot = g_hash_table_lookup(engine->caches, in->name);

	return slot != NULL ? slot->backend : TM_CACHE_MEMORY;
}

/* The cache stage's answer: a hit ends the flight, a miss queues it. */
void flight_cache_answered(void *ctx, bool hit, const struct cache_answer *answer)
{
	struct flight *f = ctx;
	struct engine *engine = f->state->engine;

	if (engine->stopping) {		/* engine_free(): the thread is gone */
		flight_fail(engine, f, LOOKUP_ERROR, LOOKUP_ERR_TRANSPORT, "shutdown");
		return;
	}
	tm_metrics_cache(f->state->metrics, cache_backend_of(engine, f->integration), hit);
	if (!hit) {
		f->stage = FLIGHT_QUEUED;
		if (f->job != NULL && shared_job_claim(engine, f))
			return;		/* the shared job registry answers (shared.c) */
		admission_enqueue(engine, f);
		return;
	}
	engine_count(engine, &engine->stats.cache_hits);
	f->work.result.status = answer->status;
	f->work.result.details = g_strdup(answer->details);
	f->work.result.cached = true;
	flight_finish(engine, f);
}

/* The cache of an integration, (re)created when CacheMaxEntries changed. */
struct cache *engine_cache_for(struct engine *engine, const struct integration *in)
{
	struct cache_slot *slot = g_hash_table_lookup(engine->caches, in->name);

	if (slot != NULL && slot->max_entries == in->cache_max_entries)
		return slot->cache;
	slot = g_new0(struct cache_slot, 1);
	slot->max_entries = in->cache_max_entries;
	if (engine->options.cache_new != NULL)
		slot->cache = engine->options.cache_new(engine->options.cache_data, engine->loop,
							in->name, in->cache_max_entries);
	slot->backend = slot->cache != NULL ? TM_CACHE_SHARED : TM_CACHE_MEMORY;
	slot->metrics = tm_metrics_integration(engine->options.metrics, in->name);
	if (slot->cache == NULL)
		slot->cache = cache_memory_new(in->cache_max_entries);
	g_rw_lock_writer_lock(&engine->caches_lock);
	g_hash_table_replace(engine->caches, g_strdup(in->name), slot);
	g_rw_lock_writer_unlock(&engine->caches_lock);
	return slot->cache;
}

static void take_lookup(struct engine *engine, struct batch *b, size_t i)
{
	const struct lookup *lookup = b->lookups[i];
	const struct integration *in = lookup->integration;
	struct waiter *w = g_new0(struct waiter, 1);
	char *key = engine_flight_key(lookup);
	struct flight *f = g_hash_table_lookup(engine->flights, key);

	w->batch = b;
	w->index = i;
	w->wait_until_ms = loop_now_ms(engine->loop) + job_wait_ms(b, in);
	g_ptr_array_add(b->waiters, w);
	if (f != NULL) {
		g_free(key);
		engine_count(engine, &engine->stats.joined);
		w->flight = f;
		w->joined_after_ms = loop_now_ms(engine->loop) - f->started_ms;
		g_ptr_array_add(f->waiters, w);
		/* a job not submitted yet that came without the bytes: this
		 * message's copy may upload (the same file, the same policy) */
		if (f->job != NULL && !f->job->submitted && f->work.sample == NULL &&
		    lookup->sample != NULL)
			f->work.sample = sample_ref(lookup->sample);
		if (f->job != NULL && f->job->submitted)
			job_joined(engine, f, w);
		return;
	}
	f = flight_new(engine, b, lookup, key);
	w->flight = f;
	g_ptr_array_add(f->waiters, w);
	if (in->cache)
		cache_get(engine_cache_for(engine, in), f->key, loop_wall_s(engine->loop),
			  flight_cache_answered, f);
	else
		flight_cache_answered(f, false, NULL);
}

/* A caller's batch reaches the engine thread. */
void flights_take_batch(struct engine *engine, struct batch *b)
{
	if (engine->latest_cfg != b->cfg) {
		config_unref(engine->latest_cfg);
		engine->latest_cfg = config_ref(b->cfg);
	}
	b->lane = ++engine->next_lane;
	b->waiters = g_ptr_array_new_with_free_func(g_free);
	b->deadline_timer = loop_timer_add(engine->loop, b->deadline_ms, batch_deadline, b);
	/* the batch may be answered (cache hits) before the loop ends: hold it */
	pthread_mutex_lock(&engine->lock);
	b->refs++;
	pthread_mutex_unlock(&engine->lock);
	for (size_t i = 0; i < b->n; i++)
		if (b->asked[i])
			take_lookup(engine, b, i);
	pthread_mutex_lock(&engine->lock);
	batch_unref_locked(b);
	pthread_mutex_unlock(&engine->lock);
}

/* Shutdown: every flight ends; nobody should be waiting any more. */
void flights_abandon_all(struct engine *engine)
{
	GList *all = g_hash_table_get_values(engine->flights);

	for (GList *l = all; l != NULL; l = l->next) {
		struct flight *f = l->data;

		if (f->job != NULL && f->job->submitted)
			log_msg(LOG_NOTICE, "integration %s: %s job abandoned at shutdown",
				f->integration->name, indicator_kind_name(f->work.kind));
		flight_fail(engine, f, LOOKUP_ERROR, LOOKUP_ERR_TRANSPORT, "shutdown");
	}
	g_list_free(all);
}
