/* jobs.c: lookups of job-based providers (sandboxes): several requests
 * over minutes (hash lookup, upload, polls), driven by the provider's
 * job table (struct provider_job_ops, provider.h) and the loop's timers.
 * Engine thread only.
 *
 * A job is the flight of its (integration name, kind, indicator): a
 * second message with the same file joins it instead of uploading again.
 * The attachment's bytes (lookup->sample) are held by the flight until
 * the job is submitted (its first JOB_POLL_LATER), then dropped. Once
 * submitted, a waiter whose SandboxWait (ReportSandboxWait for an
 * abuse-mailbox message, engine.h) has ended gets `pending`; the others
 * stay until it ends (a timer per job: the earliest end) or the verdict
 * comes, never past their batch's deadline. The job polls on (the
 * schedule below), with or without waiters, and its final answer goes
 * into the cache under the indicator, so the next message gets it at
 * once. A request of a running job that fails for the moment (5xx after
 * the engine's one retry, no answer, a malformed answer: ANSWER_TRANSIENT)
 * does not end it either: the provider's analysis goes on whatever our
 * request met, so the job keeps the result it had and polls the same
 * step again on its schedule (see poll_failed); only JobTimeout, or an
 * answer that ends the analysis, ends it. A request of a running job
 * that the budget refuses (RateLimit,
 * the shared budget, a provider's pause) or that the provider answers
 * 429 does not end it: the job asks again when the budget allows (see
 * job_budget_refused), so the file is not uploaded a second time. The
 * messages that got `pending` are remembered (queue id, Message-ID, at
 * most MAX_WATCHERS): a malicious end is logged naming each of them and
 * handed to engine_options.job_alert (after the fact). A job that ends in
 * error (JobTimeout...) leaves its messages to the next job of the same
 * key (job_orphan_watchers): a later message may find the analysis still
 * running and wait for its verdict, which then alerts them all. Each
 * poll re-binds the job to the newest configuration's integration of
 * that name, so a job survives a SIGHUP reload; an integration that is
 * gone ends it. A job older than the integration's JobTimeout ends as
 * error/timeout, never clean. */
#include <autoconfig.h>

#include <string.h>
#include <glib.h>

#include "config/config.h"
#include "config/integration_schema.h"
#include "config/integrations.h"
#include "engine/engine_internal.h"
#include "engine/ratelimit.h"
#include "lookup/sample.h"
#include "util/log.h"

/* the schedule of a type that names none (provider.h struct provider_poll) */
#define DEFAULT_POLL_FIRST_S 5
#define DEFAULT_POLL_MAX_S 60
/* JobTimeout's default (integration_schema.c): an integration not read
 * from a file (tests) has none */
#define DEFAULT_JOB_TIMEOUT_S 600
/* messages remembered per job for the after-the-fact alert */
#define MAX_WATCHERS 1000
/* keys whose failed job's messages wait for a later job's verdict, and
 * for how long (job_orphan_watchers) */
#define MAX_ORPHANED 256
#define ORPHAN_KEEP_MS (24 * 3600 * 1000LL)

/* The messages of a job that ended in error, until a later job of the
 * same key takes them (engine->orphans). */
struct job_orphans {
	GPtrArray *watchers;		/* struct job_watcher * */
	int64_t until_ms;		/* forgotten then (loop clock) */
};

static void watcher_free(gpointer data)
{
	struct job_watcher *wt = data;

	g_free(wt->queue_id);
	g_free(wt->message_id);
	g_free(wt);
}

/* ---- the poll schedule, one for every job-based type ----
 *
 * The first pause after a submission is the integration's PollInterval,
 * for every type that has the key (the upload types; integration_schema.c
 * holds each type's default, taken from its provider document: what
 * `threatmilterctl integration show` prints). A type without the key
 * (Cyber X-Ray) starts from its provider's poll.first_s. Each poll
 * doubles the pause, up to the provider's poll.max_s (the engine's 60 s
 * when it names none) or PollInterval itself when that is longer: an
 * administrator's interval is never shortened.
 *
 * A provider's hint (job->poll_after_s: a Retry-After, an ETA its
 * document names) is the provider's word: it wins over the schedule for
 * that one poll, within the same cap, and does not advance it. The
 * provider knows when its answer, or its next request, will be there;
 * asking sooner spends a request on a refusal, asking later only delays
 * the verdict. What a job may spend is bounded by RateLimit and
 * JobTimeout, not by PollInterval. */

static int64_t poll_first_ms(const struct integration *in)
{
	const struct provider_poll *poll = &engine_ops_of(in)->job->poll;

	/* an integration made in code (tests) may carry no PollInterval */
	if (in->poll_interval_ms > 0 &&
	    integration_key_applies(integration_schema_find("PollInterval"), in->type))
		return in->poll_interval_ms;
	return (int64_t)(poll->first_s ? poll->first_s : DEFAULT_POLL_FIRST_S) * 1000;
}

static int64_t poll_max_ms(const struct integration *in)
{
	unsigned max_s = engine_ops_of(in)->job->poll.max_s;
	int64_t max_ms = (int64_t)(max_s ? max_s : DEFAULT_POLL_MAX_S) * 1000;

	return MAX(max_ms, poll_first_ms(in));
}

int64_t job_next_poll_ms(struct flight *f)
{
	int64_t delay_ms = f->job->backoff_ms;

	f->job->backoff_ms = MIN(delay_ms * 2, poll_max_ms(f->integration));
	return delay_ms;
}

/* The pause before the poll a provider's answer asked for: its hint, or
 * the schedule's next. */
static int64_t hinted_poll_ms(struct flight *f)
{
	if (f->job->pj.poll_after_s > 0)
		return MIN((int64_t)f->job->pj.poll_after_s * 1000, poll_max_ms(f->integration));
	return job_next_poll_ms(f);
}

struct job *job_new_for(struct engine *engine, const struct lookup *lookup)
{
	const struct provider_ops *ops = engine_ops_of(lookup->integration);
	struct job *job;

	if (ops == NULL || ops->job == NULL)
		return NULL;
	/* the rest of such a provider's lookups are one-shot */
	if (ops->job->only_with_sample && lookup->sample == NULL)
		return NULL;
	job = g_new0(struct job, 1);
	job->created_ms = loop_now_ms(engine->loop);
	job->backoff_ms = poll_first_ms(lookup->integration);
	return job;
}

void job_free(struct engine *engine, struct job *job)
{
	loop_timer_cancel(engine->loop, job->poll_timer);
	loop_timer_cancel(engine->loop, job->wait_timer);
	if (job->watchers != NULL)
		g_ptr_array_unref(job->watchers);
	if (job->session != NULL)
		memset(job->session, 0, strlen(job->session));
	g_free(job->session);
	g_free(job->pj.id);
	g_free(job->held.details);
	g_free(job);
}

void job_build(const struct flight *f, struct http_request *req)
{
	engine_ops_of(f->integration)->job->request(f->integration, &f->work, &f->job->pj, req);
}

enum answer_class job_parse_answer(struct flight *f, const struct http_response *resp)
{
	f->job->pj.next = JOB_FINISHED;
	return engine_ops_of(f->integration)->job->parse(f->integration, &f->work,
							  &f->job->pj, resp);
}

int64_t job_timeout_ms(const struct flight *f)
{
	if (f->integration->job_timeout_ms > 0)
		return f->integration->job_timeout_ms;
	return (int64_t)DEFAULT_JOB_TIMEOUT_S * 1000;
}

static bool timed_out(struct engine *engine, struct flight *f)
{
	if (loop_now_ms(engine->loop) - f->job->created_ms < job_timeout_ms(f))
		return false;
	provider_set_result(&f->work, LOOKUP_ERROR, "job timeout");
	f->work.result.error = LOOKUP_ERR_TIMEOUT;
	log_msg(LOG_WARNING, "integration %s: %s job unfinished after %lld s: error",
		f->integration->name, indicator_kind_name(f->work.kind),
		(long long)(job_timeout_ms(f) / 1000));
	return true;
}

static const struct lookup_result pending_result = {
	.status = LOOKUP_PENDING,
	.details = "analysis pending",
};

int64_t job_wait_ms(const struct batch *b, const struct integration *in)
{
	if (b->report && b->cfg != NULL && b->cfg->report_sandbox_wait_s > 0)
		return (int64_t)b->cfg->report_sandbox_wait_s * 1000;
	return in->sandbox_wait_ms;
}

void job_watch(struct flight *f, const struct waiter *w)
{
	struct job *job = f->job;
	struct job_watcher *wt;

	if (w->batch->queue_id == NULL)
		return;
	if (job->watchers == NULL)
		job->watchers = g_ptr_array_new_with_free_func(watcher_free);
	if (job->watchers->len >= MAX_WATCHERS)
		return;
	wt = g_new0(struct job_watcher, 1);
	wt->queue_id = g_strdup(w->batch->queue_id);
	wt->message_id = g_strdup(w->batch->message_id);
	g_ptr_array_add(job->watchers, wt);
}

static void job_orphans_free(gpointer data)
{
	struct job_orphans *o = data;

	g_ptr_array_unref(o->watchers);
	g_free(o);
}

GHashTable *job_orphans_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, job_orphans_free);
}

/* Makes room for one more key: the expired ones go, else the one that
 * would expire first. */
static void orphans_trim(struct engine *engine, int64_t now)
{
	GHashTableIter it;
	gpointer key, value;
	const char *soonest = NULL;
	int64_t soonest_ms = INT64_MAX;

	g_hash_table_iter_init(&it, engine->orphans);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		const struct job_orphans *o = value;

		if (o->until_ms <= now) {
			g_hash_table_iter_remove(&it);
		} else if (o->until_ms < soonest_ms) {
			soonest_ms = o->until_ms;
			soonest = key;
		}
	}
	if (g_hash_table_size(engine->orphans) >= MAX_ORPHANED && soonest != NULL)
		g_hash_table_remove(engine->orphans, soonest);
}

void job_orphan_watchers(struct engine *engine, struct flight *f)
{
	struct job_orphans *o;
	int64_t now = loop_now_ms(engine->loop);

	if (f->job->watchers == NULL || f->job->watchers->len == 0 ||
	    f->work.result.status != LOOKUP_ERROR)
		return;
	if (g_hash_table_size(engine->orphans) >= MAX_ORPHANED)
		orphans_trim(engine, now);
	o = g_new0(struct job_orphans, 1);
	o->watchers = f->job->watchers;
	o->until_ms = now + ORPHAN_KEEP_MS;
	f->job->watchers = NULL;
	g_hash_table_replace(engine->orphans, g_strdup(f->key), o);
}

void job_adopt_watchers(struct engine *engine, struct flight *f)
{
	gpointer key = NULL, value = NULL;

	if (!g_hash_table_steal_extended(engine->orphans, f->key, &key, &value))
		return;
	struct job_orphans *o = value;

	if (o->until_ms > loop_now_ms(engine->loop) && f->job->watchers == NULL) {
		f->job->watchers = o->watchers;
		o->watchers = NULL;
	}
	if (o->watchers != NULL)
		g_ptr_array_unref(o->watchers);
	g_free(o);
	g_free(key);
}

void job_alert_watchers(struct engine *engine, struct flight *f)
{
	const struct lookup *l = &f->work;

	if (f->job->watchers == NULL || l->result.status != LOOKUP_MALICIOUS)
		return;
	for (guint i = 0; i < f->job->watchers->len; i++) {
		const struct job_watcher *wt = g_ptr_array_index(f->job->watchers, i);

		if (!engine_message_was_delivered(engine, wt->queue_id))
			continue;	/* rejected: nothing was delivered */
		/* log_msg sanitises: the Message-ID comes from the message */
		log_msg(LOG_WARNING, "%s: after delivery: Message-ID %s: %s %s %s: %s (%s)",
			wt->queue_id, wt->message_id ? wt->message_id : "-",
			f->integration->name, indicator_kind_name(l->kind), l->indicator,
			lookup_status_name(l->result.status),
			l->result.details ? l->result.details : "");
		if (engine->options.job_alert != NULL)
			engine->options.job_alert(engine->options.job_alert_data, l, wt->queue_id,
						  wt->message_id);
	}
}

static void answer_expired(struct engine *engine, struct flight *f);

static void wait_timer_fired(void *data)
{
	struct flight *f = data;

	f->job->wait_timer = 0;
	answer_expired(f->state->engine, f);
}

/* Every waiter whose SandboxWait has ended gets pending; the timer is
 * set for the next one to end. */
static void answer_expired(struct engine *engine, struct flight *f)
{
	int64_t now = loop_now_ms(engine->loop), next = INT64_MAX;

	for (guint i = 0; i < f->waiters->len;) {
		struct waiter *w = g_ptr_array_index(f->waiters, i);

		if (w->wait_until_ms > now) {
			next = MIN(next, w->wait_until_ms);
			i++;
			continue;
		}
		struct lookup_result res = pending_result;

		res.latency_ms = (unsigned)(now - f->started_ms);
		flight_answer_waiter(engine, w, &res);	/* removes w from f->waiters */
	}
	loop_timer_cancel(engine->loop, f->job->wait_timer);
	f->job->wait_timer = next == INT64_MAX ? 0 :
			     loop_timer_add(engine->loop, next, wait_timer_fired, f);
}

void job_joined(struct engine *engine, struct flight *f, struct waiter *w)
{
	(void)w;
	answer_expired(engine, f);
}

/* The newest snapshot's integration of the job's name, or NULL. */
static const struct integration *rebind(struct engine *engine, struct flight *f)
{
	struct tm_config *cfg = engine->latest_cfg;

	if (cfg == NULL || cfg == f->cfg)
		return f->integration;
	for (guint i = 0; i < cfg->integrations->len; i++) {
		const struct integration *in = g_ptr_array_index(cfg->integrations, i);

		if (strcmp(in->name, f->integration->name) == 0 && in->active &&
		    engine_ops_of(in) == engine_ops_of(f->integration)) {
			config_unref(f->cfg);
			f->cfg = config_ref(cfg);
			f->integration = in;
			f->work.integration = in;
			return in;
		}
	}
	return NULL;
}

static void poll_now(void *data)
{
	struct flight *f = data;
	struct engine *engine = f->state->engine;

	f->job->poll_timer = 0;
	f->job->pj.polls++;
	if (rebind(engine, f) == NULL) {
		flight_fail(engine, f, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "integration removed");
		return;
	}
	if (timed_out(engine, f)) {
		flight_finish(engine, f);
		return;
	}
	admission_enqueue_job_step(engine, f);
}

/* The job's next poll after delay_ms; the last one comes at the
 * timeout, not after it. */
static void schedule_poll(struct engine *engine, struct flight *f, int64_t delay_ms)
{
	struct job *job = f->job;
	int64_t now = loop_now_ms(engine->loop);

	f->stage = FLIGHT_JOB_WAIT;
	delay_ms = MIN(delay_ms, MAX(job_timeout_ms(f) - (now - job->created_ms), 0));
	loop_timer_cancel(engine->loop, job->poll_timer);
	job->poll_timer = loop_timer_add(engine->loop, now + delay_ms, poll_now, f);
}

/* Submitted: the waiters whose SandboxWait ended get pending now, the
 * poll comes later. */
static void wait_for_poll(struct engine *engine, struct flight *f)
{
	struct job *job = f->job;

	if (!job->submitted)
		tm_metrics_job_submitted(f->state->metrics);
	job->submitted = true;
	/* uploaded: the job needs the bytes no more */
	sample_unref(f->work.sample);
	f->work.sample = NULL;
	answer_expired(engine, f);
	schedule_poll(engine, f, hinted_poll_ms(f));
}

/* How long (ms) the integration's budget holds a request back: the pause
 * a provider asked for (the breaker admission_pause opened after its 429,
 * Retry-After capped there), or the wait for a RateLimit token; 0 when
 * neither tells (the shared budget refused, a half-open breaker's probe
 * is out). */
static int64_t budget_wait_ms(struct engine *engine, const struct flight *f)
{
	const struct istate *st = f->state;
	int64_t now = loop_now_ms(engine->loop), wait_ms = 0;

	if (st->breaker.state == BREAKER_OPEN)
		wait_ms = st->breaker.open_until_ms - now;
	if (st->ratelimit != NULL)
		wait_ms = MAX(wait_ms, ratelimit_wait_ms(st->ratelimit, now));
	return MIN(wait_ms, (int64_t)MAX_PAUSE_S * 1000);
}

/* A submitted job goes on after a request that decided nothing (a
 * transient failure, a budget refusal): the result of its last decided
 * answer comes back (a provider may keep a verdict so far there:
 * FortiSandbox's worst over its jobs; nothing held, as for a job taken
 * over from the shared registry: pending) and the same step is sent
 * again after wait_ms, or the schedule's next pause when 0 (never past
 * JobTimeout: schedule_poll). False, doing nothing, before the
 * submission. */
static bool ask_again(struct engine *engine, struct flight *f, int64_t wait_ms, int level,
		      const char *why)
{
	struct job *job = f->job;

	if (job == NULL || !job->submitted)
		return false;
	if (wait_ms <= 0)
		wait_ms = job_next_poll_ms(f);
	log_msg(level, "integration %s: %s job: %s; asking again in %lld ms",
		f->integration->name, indicator_kind_name(f->work.kind), why, (long long)wait_ms);
	g_free(f->work.result.details);
	f->work.result = job->has_held ? job->held : pending_result;
	f->work.result.details = g_strdup(f->work.result.details);
	schedule_poll(engine, f, wait_ms);
	return true;
}

bool job_budget_refused(struct engine *engine, struct flight *f)
{
	/* not submitted yet: nothing uploaded, rate_limited as any lookup */
	return ask_again(engine, f, budget_wait_ms(engine, f), LOG_DEBUG, "over budget");
}

/* The provider refused the session token: one new login, then the
 * same step again; a second refusal ends the lookup. */
static bool relogin(struct engine *engine, struct flight *f)
{
	if (f->job->relogged) {
		provider_set_result(&f->work, LOOKUP_ERROR, "session refused after a new login");
		f->work.result.error = LOOKUP_ERR_AUTH;
		return false;
	}
	f->job->relogged = true;
	session_refused(f->state, f->job->session);
	admission_enqueue_job_step(engine, f);
	return true;
}

/* A decided answer's result, kept for poll_failed. */
static void hold_result(struct job *job, const struct lookup_result *res)
{
	g_free(job->held.details);
	job->held = *res;
	job->held.details = g_strdup(res->details);
	job->has_held = true;
}

/* A running (submitted) job's request failed for the moment: VMRay's
 * analysis, VirusTotal's, OPSWAT's... go on whatever our request met.
 * Ending the job here would lose the verdict we asked for (and the
 * after-delivery alert of the messages that got pending); the next
 * message's hash lookup would only find the analysis still running. It
 * asks again, until JobTimeout; false (the failure ends the lookup)
 * before the submission or at the timeout. */
static bool poll_failed(struct engine *engine, struct flight *f)
{
	if (f->job->submitted && timed_out(engine, f))
		return false;
	return ask_again(engine, f, 0, LOG_NOTICE,
			 f->work.result.details ? f->work.result.details : "request failed");
}

bool job_after_answer(struct engine *engine, struct flight *f, enum answer_class class)
{
	if (class == ANSWER_DECIDED && f->job->pj.next == JOB_RELOGIN)
		return relogin(engine, f);
	f->job->relogged = false;
	if (class == ANSWER_DECIDED)
		hold_result(f->job, &f->work.result);
	if (class == ANSWER_TRANSIENT)
		return poll_failed(engine, f);
	/* a running job's request answered 429: it waits out the pause the
	 * answer opened and asks the same again (an upload answered so stays
	 * rate_limited: nothing was taken) */
	if (class == ANSWER_QUOTA)
		return job_budget_refused(engine, f);
	if (class != ANSWER_DECIDED || f->job->pj.next == JOB_FINISHED)
		return false;
	if (timed_out(engine, f))
		return false;
	if (f->job->pj.next == JOB_STEP_NOW)
		admission_enqueue_job_step(engine, f);
	else
		wait_for_poll(engine, f);
	return true;
}
