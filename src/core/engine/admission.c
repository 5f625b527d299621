/* admission.c: per-integration state and who may send when: the fair
 * queue behind MaxInFlight, RateLimit, the circuit breaker and the pause
 * a provider asks for (429, Retry-After). Engine thread only: callers
 * never touch an istate (defect 1). */
#include <autoconfig.h>

#include <glib.h>

#include "config/integrations.h"
#include "engine/engine_internal.h"
#include "engine/ratelimit.h"
#include "util/log.h"

void istate_free(gpointer data)
{
	struct istate *st = data;

	loop_timer_cancel(st->engine->loop, st->drain_timer);
	loop_timer_cancel(st->engine->loop, st->batch_timer);
	ratelimit_free(st->ratelimit);
	g_ptr_array_unref(st->to_batch);
	session_forget(st);
	g_queue_clear(&st->lanes);
	g_hash_table_destroy(st->lane_by_id);
	g_free(st->rate_spec);
	g_free(st->name);
	g_free(st);
}

/* The rate limiter follows the integration's RateLimit, also after a
 * reload. A specification that does not parse refuses every request
 * (fail closed): the configuration loader rejects it, but the engine
 * must never read it as "unlimited" (defect 9). */
static void refresh_limits(struct istate *st, const struct integration *in)
{
	char err[256];

	struct ratelimit *old = st->ratelimit;

	if ((old != NULL || st->rate_bad) && g_strcmp0(st->rate_spec, in->rate_limit) == 0)
		return;
	st->ratelimit = ratelimit_new(in->rate_limit, err, sizeof(err));
	st->rate_bad = st->ratelimit == NULL;
	if (st->ratelimit != NULL && old != NULL)
		ratelimit_carry(st->ratelimit, old);	/* the requests just made count */
	ratelimit_free(old);
	if (st->rate_bad)
		log_msg(LOG_ERR, "integration %s: RateLimit: %s; no requests", in->name, err);
	g_free(st->rate_spec);
	st->rate_spec = g_strdup(in->rate_limit);
}

static void lane_free(gpointer data)
{
	struct lane *lane = data;

	g_queue_clear(&lane->flights);
	g_free(lane);
}

struct istate *istate_get(struct engine *engine, const struct integration *in)
{
	struct istate *st = g_hash_table_lookup(engine->states, in->name);

	if (st == NULL) {
		st = g_new0(struct istate, 1);
		st->name = g_strdup(in->name);
		st->engine = engine;
		st->to_batch = g_ptr_array_new();
		st->session_wait = g_ptr_array_new();
		st->lane_by_id = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, lane_free);
		g_queue_init(&st->lanes);
		breaker_init(&st->breaker, engine->breaker_threshold,
			     engine->breaker_cooldown_ms, MAX_COOLDOWN_MS);
		st->metrics = tm_metrics_integration(engine->options.metrics, in->name);
		g_hash_table_insert(engine->states, st->name, st);
	}
	refresh_limits(st, in);
	return st;
}

bool admission_take_token(struct istate *st, int64_t now_ms)
{
	return !st->rate_bad && ratelimit_take(st->ratelimit, now_ms);
}

/* Fair queuing: one lane per batch (message); dispatch takes one flight
 * from the lane at the head and moves that lane to the tail, so a
 * message with 100,000 lookups gets one slot in turn with every other
 * message waiting (issue 17 item 2). */
static void lane_push(struct istate *st, struct flight *f, bool front)
{
	struct lane *lane = g_hash_table_lookup(st->lane_by_id, &f->lane);

	if (lane == NULL) {
		lane = g_new0(struct lane, 1);
		lane->id = f->lane;
		g_queue_init(&lane->flights);
		g_hash_table_insert(st->lane_by_id, &lane->id, lane);
		/* a new message's first lookup goes ahead of the lanes that
		 * were served already */
		g_queue_push_head(&st->lanes, lane);
	}
	if (front)
		g_queue_push_head(&lane->flights, f);
	else
		g_queue_push_tail(&lane->flights, f);
}

static struct flight *lane_pop(struct istate *st)
{
	struct lane *lane = g_queue_pop_head(&st->lanes);

	if (lane == NULL)
		return NULL;
	struct flight *f = g_queue_pop_head(&lane->flights);

	if (g_queue_is_empty(&lane->flights))
		g_hash_table_remove(st->lane_by_id, &lane->id);	/* frees it */
	else
		g_queue_push_tail(&st->lanes, lane);
	return f;
}

static unsigned max_in_flight(const struct integration *in)
{
	return in->max_in_flight ? in->max_in_flight : 1;
}

static void drain_later(void *data)
{
	struct istate *st = data;

	st->drain_timer = 0;
	admission_drain(st->engine, st);
}

/* Breaker, pause and budget: a request refused by any is answered at
 * once, never queued past a deadline. Refused: answers flights[0..n-1]
 * and returns false; *probe tells whether the request got the breaker's
 * half-open probe (it must report its outcome). A running job refused
 * for the budget (RateLimit, a provider's pause) is not answered: it
 * asks again later (job_budget_refused). */
static bool admit(struct engine *engine, struct istate *st, struct flight **flights,
		  size_t n, bool *probe)
{
	int64_t now = loop_now_ms(engine->loop);
	enum lookup_status status = LOOKUP_RATE_LIMITED;
	enum lookup_error error = LOOKUP_ERR_QUOTA;
	const char *why;
	bool budget = true;	/* refused for the budget, not for a fault */

	refresh_limits(st, flights[0]->integration);
	*probe = st->breaker.state != BREAKER_CLOSED;
	bool allowed = breaker_allow(&st->breaker, now);

	tm_metrics_breaker(st->metrics, st->breaker.state);
	if (!allowed) {
		/* status error as before; the details tell a pause after
		 * the provider's rate limit from a breaker its failures opened */
		status = LOOKUP_ERROR;
		error = LOOKUP_ERR_PAUSED;	/* not sent: the log says "paused" */
		why = st->paused ? "paused after the provider's rate limit" : "circuit open";
		budget = st->paused;
	} else if (st->rate_bad) {
		why = "RateLimit invalid";
		budget = false;
	} else if (shared_rate_take(engine, st, flights, n, *probe)) {
		return false;	/* the shared budget answers (shared.c) */
	} else if (!ratelimit_take(st->ratelimit, now)) {
		why = "over RateLimit";
	} else {
		return true;
	}
	if (*probe && st->breaker.state == BREAKER_HALF_OPEN)
		st->breaker.probe_in_flight = false;	/* given back */
	*probe = false;
	if (status == LOOKUP_RATE_LIMITED)
		tm_metrics_rate_limited(st->metrics, (unsigned)n);
	for (size_t i = 0; i < n; i++)
		if (!budget || !job_budget_refused(engine, flights[i]))
			flight_fail(engine, flights[i], status, error, why);
	return false;
}

void admission_drain(struct engine *engine, struct istate *st)
{
	struct flight *f;
	bool probe;

	while (!g_queue_is_empty(&st->lanes)) {
		struct lane *head = g_queue_peek_head(&st->lanes);
		f = g_queue_peek_head(&head->flights);
		if (st->in_flight >= max_in_flight(f->integration))
			break;
		f = lane_pop(st);
		/* every waiter gone (deadline): not worth a request, nor a
		 * token (issue 17 item 2); a job goes on without waiters */
		if (f->waiters->len == 0 && f->job == NULL) {
			flight_fail(engine, f, LOOKUP_ERROR, LOOKUP_ERR_TIMEOUT, "deadline");
			continue;
		}
		if (session_needed(st, f)) {
			session_park(engine, st, f);
			continue;
		}
		if (admit(engine, st, &f, 1, &probe))
			request_start_for(engine, st, &f, 1, probe);
	}
}

static void flush_batch(void *data);

/* Lookups in one request: the HTTP table's max_batch; 1 for the rest. */
static unsigned max_batch(const struct integration *in)
{
	const struct provider_http_ops *http = engine_ops_of(in)->http;

	return http != NULL && http->max_batch > 1 ? http->max_batch : 1;
}

void admission_enqueue(struct engine *engine, struct flight *f)
{
	f->stage = FLIGHT_QUEUED;
	if (max_batch(f->integration) > 1) {
		/* gathered until the end of this turn of the loop */
		if (f->state->batch_timer == 0)
			f->state->batch_timer = loop_timer_add(engine->loop, loop_now_ms(engine->loop),
							       flush_batch, f->state);
		g_ptr_array_add(f->state->to_batch, f);
		return;
	}
	lane_push(f->state, f, false);
	if (f->state->in_flight >= max_in_flight(f->integration))
		tm_metrics_queue_wait(f->state->metrics);
	admission_drain(engine, f->state);
}

void admission_enqueue_job_step(struct engine *engine, struct flight *f)
{
	f->stage = FLIGHT_QUEUED;
	lane_push(f->state, f, true);
	admission_drain(engine, f->state);
}

/* Batching providers: everything gathered this turn goes out in requests
 * of up to max_batch lookups; each request costs one token. */
static void flush_batch(void *data)
{
	struct istate *st = data;
	struct engine *engine = st->engine;
	GPtrArray *all = st->to_batch;
	bool probe;

	st->batch_timer = 0;
	if (all->len == 0)
		return;
	st->to_batch = g_ptr_array_new();
	unsigned max = max_batch(((struct flight *)all->pdata[0])->integration);
	for (guint start = 0; start < all->len; start += max) {
		guint n = MIN(max, all->len - start);
		struct flight **group = (struct flight **)&all->pdata[start];

		if (admit(engine, st, group, n, &probe))
			request_start_for(engine, st, group, n, probe);
	}
	g_ptr_array_unref(all);
}

/* A request is over: its slot (and a probe it did not report) goes back
 * and the queue moves. */
void admission_release(struct engine *engine, struct request *req)
{
	struct istate *st = req->state;

	st->in_flight--;
	tm_metrics_in_flight(st->metrics, st->in_flight);
	if (req->probe && st->breaker.state == BREAKER_HALF_OPEN)
		st->breaker.probe_in_flight = false;
	admission_drain(engine, st);
}

/* Seconds to milliseconds for a provider's pause, capped (defect 3: a
 * Retry-After of LONG_MAX overflowed "* 1000" and parked the
 * integration until restart). */
static int64_t pause_ms(long retry_after_s, int64_t fallback_ms)
{
	if (retry_after_s <= 0)
		return fallback_ms;
	if (retry_after_s > MAX_PAUSE_S)
		return (int64_t)MAX_PAUSE_S * 1000;
	return (int64_t)retry_after_s * 1000;
}

void admission_pause(struct engine *engine, struct istate *st, enum answer_class class,
		     long retry_after_s, const char *name, const char *why)
{
	int64_t now = loop_now_ms(engine->loop);
	int64_t ms = class == ANSWER_AUTH ? AUTH_BACKOFF_MS : pause_ms(retry_after_s, QUOTA_BACKOFF_MS);

	breaker_open_for(&st->breaker, now, ms);
	st->paused = class == ANSWER_QUOTA;
	if (class == ANSWER_AUTH)
		log_msg(LOG_ERR, "integration %s: credentials refused (%s); pausing it for %lld s",
			name, why ? why : "", (long long)(ms / 1000));
	else
		log_msg(LOG_WARNING, "integration %s: provider quota or rate limit (%s); "
			"pausing it for %lld s", name, why ? why : "", (long long)(ms / 1000));
	loop_timer_cancel(engine->loop, st->drain_timer);
	st->drain_timer = loop_timer_add(engine->loop, now + ms, drain_later, st);
}
