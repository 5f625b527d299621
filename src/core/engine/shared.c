/* shared.c: what the engine asks of a shared cache backend beyond answers
 * (cache.h rate_take, job_claim; issue 15): the RateLimit budget of an
 * integration kept for every host, and the registry of sandbox jobs so
 * that a file is uploaded by one host only. With the memory backend (no
 * such ops) both stay local and nothing here runs. Engine thread only.
 *
 * Budget: admit() asks the backend for the grant of a request; the
 * request's MaxInFlight slot is held meanwhile. The backend answers from
 * its local budget when the shared one does not answer in time.
 *
 * Jobs: on a cache miss a job's flight claims the job's lease; the owner
 * runs it as before and its verdict reaches every host through the
 * shared cache. A host that did not get the lease answers its waiters
 * `pending` (each when its SandboxWait ends) and reads the shared cache
 * on the job's poll timer (the same schedule, jobs.c, but at least every
 * WAIT_READ_MAX_MS) until the verdict is there, or claims again (the
 * owner released the lease without a verdict, or it expired) and then
 * runs the job itself: hash lookup, upload, polls. A graceful stop
 * releases the leases of the jobs this host abandons
 * (shared_jobs_hand_back), so that another host takes them over at its
 * next read instead of answering pending until the lease runs out; after
 * a crash the lease runs out (JobTimeout + LEASE_MARGIN_S). */
#include <autoconfig.h>

#include <glib.h>

#include "cache/cache.h"
#include "config/integrations.h"
#include "engine/engine_internal.h"
#include "util/log.h"

/* the lease outlives the provider's job timeout a little */
#define LEASE_MARGIN_S 60
/* A host waiting for another's job reads the shared cache (and claims
 * the job if its lease is gone) on the job's schedule, but at least this
 * often: a read costs Redis, not the provider, and the verdict, or a
 * lease released by a stopped owner, is seen within seconds rather than
 * after a pause of up to the provider's poll cap (VirusTotal: 5 min). */
#define WAIT_READ_MAX_MS 10000

struct rate_wait {
	struct engine *engine;
	struct istate *st;
	GPtrArray *flights;		/* struct flight *, one request */
	bool probe;
	bool in_call;			/* answered inside rate_take(): no drain */
	int refs;			/* the answer's and shared_rate_take()'s */
};

static void rate_wait_unref(struct rate_wait *w)
{
	if (--w->refs > 0)
		return;
	g_ptr_array_unref(w->flights);
	g_free(w);
}

static void rate_answered(void *ctx, bool granted)
{
	struct rate_wait *w = ctx;
	struct engine *engine = w->engine;
	struct istate *st = w->st;
	struct flight **flights = (struct flight **)w->flights->pdata;

	st->in_flight--;
	if (granted && !engine->stopping) {
		request_start_for(engine, st, flights, w->flights->len, w->probe);
	} else {
		if (w->probe && st->breaker.state == BREAKER_HALF_OPEN)
			st->breaker.probe_in_flight = false;	/* given back */
		for (guint i = 0; i < w->flights->len; i++) {
			if (engine->stopping)
				flight_fail(engine, flights[i], LOOKUP_ERROR, LOOKUP_ERR_TRANSPORT,
					    "shutdown");
			else if (!job_budget_refused(engine, flights[i]))	/* a running job waits */
				flight_fail(engine, flights[i], LOOKUP_RATE_LIMITED, LOOKUP_ERR_QUOTA,
					    "over RateLimit (shared)");
		}
		if (!w->in_call && !engine->stopping)
			admission_drain(engine, st);	/* the slot is free again */
	}
	rate_wait_unref(w);
}

bool shared_rate_take(struct engine *engine, struct istate *st, struct flight **flights,
		      size_t n, bool probe)
{
	struct cache *cache;
	struct rate_wait *w;

	if (st->rate_spec == NULL || *st->rate_spec == '\0')
		return false;		/* unlimited: nothing to share */
	cache = engine_cache_for(engine, flights[0]->integration);
	if (cache->ops->rate_take == NULL)
		return false;
	w = g_new0(struct rate_wait, 1);
	w->engine = engine;
	w->st = st;
	w->probe = probe;
	w->flights = g_ptr_array_new();
	for (size_t i = 0; i < n; i++)
		g_ptr_array_add(w->flights, flights[i]);
	st->in_flight++;		/* the request's slot, held meanwhile */
	w->in_call = true;
	w->refs = 2;
	cache->ops->rate_take(cache, st->name, st->rate_spec, loop_wall_s(engine->loop),
			      rate_answered, w);
	w->in_call = false;
	rate_wait_unref(w);
	return true;
}

/* ------------------------------------------------------------ jobs */

static void claim_answered(void *ctx, bool claimed, const char *owner);

static int64_t lease_s(const struct flight *f)
{
	return job_timeout_ms(f) / 1000 + LEASE_MARGIN_S;
}

static void claim(struct engine *engine, struct flight *f)
{
	struct cache *cache = engine_cache_for(engine, f->integration);

	cache->ops->job_claim(cache, f->key, NULL, lease_s(f), claim_answered, f);
}

/* The shared cache's answer while another host runs the job. */
static void verdict_polled(void *ctx, bool hit, const struct cache_answer *answer)
{
	struct flight *f = ctx;
	struct engine *engine = f->state->engine;

	if (hit || engine->stopping)
		flight_cache_answered(f, hit, answer);	/* ends the flight */
	else
		claim(engine, f);	/* ours now if the owner let go */
}

static void poll_verdict(void *data)
{
	struct flight *f = data;
	struct engine *engine = f->state->engine;

	f->job->poll_timer = 0;
	if (loop_now_ms(engine->loop) - f->job->created_ms >= job_timeout_ms(f)) {
		flight_fail(engine, f, LOOKUP_ERROR, LOOKUP_ERR_TIMEOUT, "job timeout");
		return;
	}
	cache_get(engine_cache_for(engine, f->integration), f->key, loop_wall_s(engine->loop),
		  verdict_polled, f);
}

static void claim_answered(void *ctx, bool claimed, const char *owner)
{
	struct flight *f = ctx;
	struct engine *engine = f->state->engine;
	struct job *job = f->job;
	int64_t read_ms;

	(void)owner;		/* another host's name: not worth a log line each */
	if (engine->stopping) {	/* answered while shared_jobs_hand_back() waits */
		job->shared_claim = job->shared_claim || claimed;	/* released again */
		flight_fail(engine, f, LOOKUP_ERROR, LOOKUP_ERR_TRANSPORT, "shutdown");
		return;
	}
	/* the registry decides from here: no host waits on the cache stage's
	 * single-flight lock for a job (put with 0 reads lets go of it) */
	cache_put(engine_cache_for(engine, f->integration), f->key,
		  &(struct cache_answer){ .status = LOOKUP_PENDING }, 0, 0);
	if (claimed) {
		job->shared_claim = true;
		admission_enqueue(engine, f);
		return;
	}
	if (!job->submitted)
		log_msg(LOG_INFO, "integration %s: %s job already run by another host; "
			"waiting for its verdict", f->integration->name,
			indicator_kind_name(f->work.kind));
	job->submitted = true;
	f->stage = FLIGHT_JOB_WAIT;
	/* the waiters whose SandboxWait ended get pending, a timer waits for
	 * the others' (once: a loop until none is left spun the engine
	 * thread for the whole SandboxWait) */
	if (f->waiters->len > 0)
		job_joined(engine, f, g_ptr_array_index(f->waiters, 0));
	read_ms = job_next_poll_ms(f);		/* advances the schedule: once */
	job->poll_timer = loop_timer_add(engine->loop, loop_now_ms(engine->loop) +
					 MIN(read_ms, WAIT_READ_MAX_MS), poll_verdict, f);
}

bool shared_job_claim(struct engine *engine, struct flight *f)
{
	if (!f->integration->cache ||
	    engine_cache_for(engine, f->integration)->ops->job_claim == NULL)
		return false;	/* without the cache no verdict could be shared */
	claim(engine, f);
	return true;
}

/* Also at shutdown, while the caches are still there (engine_free). */
bool shared_job_release(struct engine *engine, struct flight *f)
{
	struct cache_slot *slot;

	if (!f->job->shared_claim)
		return false;
	f->job->shared_claim = false;
	slot = g_hash_table_lookup(engine->caches, f->integration->name);
	if (slot == NULL || slot->cache->ops->job_claim == NULL)
		return false;
	slot->cache->ops->job_claim(slot->cache, f->key, NULL, 0, NULL, NULL);
	return true;
}

void shared_jobs_hand_back(struct engine *engine)
{
	GList *flights = g_hash_table_get_values(engine->flights);
	GList *caches = g_hash_table_get_values(engine->caches);
	unsigned released = 0;

	for (GList *l = flights; l != NULL; l = l->next) {
		struct flight *f = l->data;

		if (f->job != NULL && shared_job_release(engine, f))
			released++;
	}
	if (released > 0)
		log_msg(LOG_NOTICE, "shared job registry: releasing %u sandbox job lease%s "
			"at shutdown: the next host to meet the file runs the job", released,
			released == 1 ? "" : "s");
	/* the callbacks that run meanwhile end flights (engine->stopping)
	 * and make no cache: the list holds */
	for (GList *l = caches; l != NULL; l = l->next) {
		struct cache_slot *slot = l->data;

		if (slot->cache->ops->flush != NULL)
			slot->cache->ops->flush(slot->cache);
	}
	g_list_free(caches);
	g_list_free(flights);
}
