/* jobs.c: lookups of job-based providers (sandboxes): several requests
 * over minutes (hash lookup, upload, polls), driven by the provider's
 * job_request/job_parse (provider.h) and the loop's timers. Engine
 * thread only.
 *
 * A job is the flight of its (integration name, kind, indicator): a
 * second message with the same file joins it instead of uploading again.
 * Once submitted, its waiters get `pending` (SandboxWait is 0 for now:
 * nobody waits for a verdict past the submission); the job polls on,
 * with back-off, without waiters, and its final answer goes into the
 * cache under the indicator, so the next message gets it at once. Each
 * poll re-binds the job to the newest configuration's integration of
 * that name, so a job survives a SIGHUP reload; an integration that is
 * gone ends it. A job older than the provider's job_timeout_s ends as
 * error/timeout, never clean. */
#include <autoconfig.h>

#include <string.h>
#include <glib.h>

#include "config/config.h"
#include "config/integrations.h"
#include "engine/engine_internal.h"
#include "util/log.h"

#define DEFAULT_POLL_MIN_S 5
#define DEFAULT_POLL_MAX_S 60
#define DEFAULT_JOB_TIMEOUT_S 900

struct job *job_new_for(struct engine *engine, const struct lookup *lookup)
{
	const struct provider_ops *ops = engine_ops_of(lookup->integration);
	struct job *job;

	if (ops == NULL || ops->job_request == NULL)
		return NULL;
	/* a provider with one-shot lookups too (VirusTotal) makes a job
	 * only of a lookup that carries the file */
	if (ops->build_request != NULL && lookup->sample == NULL)
		return NULL;
	job = g_new0(struct job, 1);
	job->created_ms = loop_now_ms(engine->loop);
	job->backoff_s = ops->job_poll_min_s ? ops->job_poll_min_s : DEFAULT_POLL_MIN_S;
	return job;
}

void job_free(struct engine *engine, struct job *job)
{
	loop_timer_cancel(engine->loop, job->poll_timer);
	if (job->session != NULL)
		memset(job->session, 0, strlen(job->session));
	g_free(job->session);
	g_free(job->pj.id);
	g_free(job);
}

void job_build(const struct flight *f, struct http_request *req)
{
	engine_ops_of(f->integration)->job_request(f->integration, &f->work, &f->job->pj, req);
}

enum answer_class job_parse_answer(struct flight *f, const struct http_response *resp)
{
	f->job->pj.next = JOB_FINISHED;
	return engine_ops_of(f->integration)->job_parse(f->integration, &f->work,
							  &f->job->pj, resp);
}

static int64_t timeout_ms(const struct flight *f)
{
	const struct provider_ops *ops = engine_ops_of(f->integration);

	return (int64_t)(ops->job_timeout_s ? ops->job_timeout_s : DEFAULT_JOB_TIMEOUT_S) * 1000;
}

static bool timed_out(struct engine *engine, struct flight *f)
{
	if (loop_now_ms(engine->loop) - f->job->created_ms < timeout_ms(f))
		return false;
	provider_set_result(&f->work, LOOKUP_ERROR, "job timeout");
	f->work.result.error = LOOKUP_ERR_TIMEOUT;
	log_msg(LOG_WARNING, "integration %s: %s job unfinished after %lld s: error",
		f->integration->name, indicator_kind_name(f->work.kind),
		(long long)(timeout_ms(f) / 1000));
	return true;
}

static const struct lookup_result pending_result = {
	.status = LOOKUP_PENDING,
	.details = "analysis pending",
};

void job_joined(struct engine *engine, struct flight *f, struct waiter *w)
{
	struct lookup_result res = pending_result;

	res.latency_ms = (unsigned)(loop_now_ms(engine->loop) - f->started_ms);
	flight_answer_waiter(engine, w, &res);
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

/* Submitted: every waiter gets pending now, the poll comes later. */
static void wait_for_poll(struct engine *engine, struct flight *f)
{
	const struct provider_ops *ops = engine_ops_of(f->integration);
	struct job *job = f->job;
	unsigned max_s = ops->job_poll_max_s ? ops->job_poll_max_s : DEFAULT_POLL_MAX_S;
	int64_t delay_ms;

	job->submitted = true;
	f->stage = FLIGHT_JOB_WAIT;
	while (f->waiters->len > 0) {
		struct lookup_result res = pending_result;

		res.latency_ms = (unsigned)(loop_now_ms(engine->loop) - f->started_ms);
		flight_answer_waiter(engine, g_ptr_array_index(f->waiters, 0), &res);
	}
	if (job->pj.poll_after_s > 0) {
		delay_ms = (int64_t)MIN(job->pj.poll_after_s, max_s) * 1000;
	} else {
		delay_ms = (int64_t)job->backoff_s * 1000;
		job->backoff_s = MIN(job->backoff_s * 2, max_s);
	}
	/* the last poll comes at the timeout, not after it */
	delay_ms = MIN(delay_ms, MAX(timeout_ms(f) - (loop_now_ms(engine->loop) - job->created_ms), 0));
	job->poll_timer = loop_timer_add(engine->loop, loop_now_ms(engine->loop) + delay_ms,
					 poll_now, f);
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

bool job_after_answer(struct engine *engine, struct flight *f, enum answer_class class)
{
	if (class == ANSWER_DECIDED && f->job->pj.next == JOB_RELOGIN)
		return relogin(engine, f);
	f->job->relogged = false;
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
