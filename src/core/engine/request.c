/* request.c: one HTTP request or DNS query for one or more flights: its
 * build, its budget (the integration's Timeout, one timer on the loop),
 * the provider's reading of the answer, one retry, and the breaker's
 * bookkeeping. Engine thread only. */
#include <autoconfig.h>

#include <string.h>
#include <glib.h>

#include "config/integrations.h"
#include "engine/engine_internal.h"
#include "util/log.h"

/* curl enforces an HTTP request's Timeout itself; the loop's timer is the
 * backstop, a little later so that curl's own "timeout" is the one seen. */
#define HTTP_BACKSTOP_MS 200

static void on_answer(void *ctx, const struct transport_answer *answer);

void request_http_clear(struct http_request *http)
{
	/* wipes the key-bearing strings, frees multipart parts too */
	http_request_clear(http);
}

void request_free(struct request *req)
{
	struct engine *engine = req->engine;

	if (req->call != NULL)
		engine->transport->ops->cancel(engine->transport, req->call);
	loop_timer_cancel(engine->loop, req->timeout_timer);
	g_hash_table_remove(engine->requests, req);
	request_http_clear(&req->http);
	g_ptr_array_unref(req->flights);
	g_free(req->batch);
	g_free(req);
}

static const struct integration *integration_of(const struct request *req)
{
	return ((struct flight *)g_ptr_array_index(req->flights, 0))->integration;
}

static void on_timeout(void *data)
{
	struct request *req = data;
	struct transport_answer answer = {
		.http = { .transport_error = "timeout", .retry_after_s = -1 },
		.ares_status = ARES_ETIMEOUT,
	};

	req->timeout_timer = 0;
	if (req->call != NULL) {
		req->engine->transport->ops->cancel(req->engine->transport, req->call);
		req->call = NULL;
	}
	on_answer(req, &answer);
}

static struct transport_call *send_dns(struct request *req, const struct integration *in,
				       int64_t budget_ms)
{
	struct flight *first = g_ptr_array_index(req->flights, 0);
	char *name = engine_ops_of(in)->dns->name(in, &first->work);
	struct transport_call *call;

	if (name == NULL)
		return NULL;
	call = req->engine->transport->ops->dns(req->engine->transport, in, name, budget_ms,
						on_answer, req);
	/* name may hold a DQS key: wipe it */
	memset(name, 0, strlen(name));
	g_free(name);
	return call;
}

/* Sends (again). false when it could not even start: the flights keep
 * the result they had (a retry keeps the first failure's reason). */
static bool send_attempt(struct request *req)
{
	struct engine *engine = req->engine;
	const struct integration *in = integration_of(req);
	const struct provider_ops *ops = engine_ops_of(in);
	int64_t now = loop_now_ms(engine->loop);
	int64_t budget = (int64_t)in->timeout_ms - (now - req->started_ms);
	bool dns = ops->dns != NULL;

	if (budget < 1)
		budget = 1;
	req->attempts++;
	if (dns) {
		req->call = send_dns(req, in, budget);
	} else {
		if (req->http.url == NULL) {
			struct flight *first = g_ptr_array_index(req->flights, 0);

			http_request_init(&req->http);
			if (first->job != NULL) {
				session_copy_to(req->state, first->job);
				job_build(first, &req->http);
			}
			else
				ops->http->build_request(in, req->batch, req->flights->len, &req->http);
		}
		req->call = engine->transport->ops->http(engine->transport, in, &req->http,
							 budget, on_answer, req);
	}
	if (req->call == NULL)
		return false;
	req->attempt_ms = now;
	tm_metrics_upload(req->state->metrics, dns ? NULL : &req->http);
	engine_count(engine, &engine->stats.requests);
	loop_timer_cancel(engine->loop, req->timeout_timer);
	req->timeout_timer = loop_timer_add(engine->loop, now + budget + (dns ? 0 : HTTP_BACKSTOP_MS),
					    on_timeout, req);
	return true;
}

/* A name c-ares refuses before asking anybody: the indicator's fault,
 * never the provider's (issue 17 item 3). */
static bool local_name_error(int status)
{
	return status == ARES_EBADNAME || status == ARES_EBADQUERY || status == ARES_EBADSTR ||
	       status == ARES_EBADFAMILY || status == ARES_EBADFLAGS;
}

/* The error kind of every lookup that ended as error or rate_limited
 * without one (providers may set it themselves). */
static void set_error_kinds(struct request *req, enum answer_class class,
			    const struct transport_answer *a)
{
	bool dns = engine_ops_of(integration_of(req))->dns != NULL;
	enum lookup_error kind = LOOKUP_ERR_PROVIDER;

	if (class == ANSWER_AUTH)
		kind = LOOKUP_ERR_AUTH;
	else if (class == ANSWER_QUOTA)
		kind = LOOKUP_ERR_QUOTA;
	else if (dns ? a->ares_status == ARES_ETIMEOUT
		     : (a->http.status == 0 && g_strcmp0(a->http.transport_error, "timeout") == 0))
		kind = LOOKUP_ERR_TIMEOUT;
	else if (dns ? a->ares_status == ARES_ECONNREFUSED
		     : a->http.status == 0)
		kind = LOOKUP_ERR_TRANSPORT;
	for (guint i = 0; i < req->flights->len; i++) {
		struct lookup_result *r = &req->batch[i]->result;

		if (r->status == LOOKUP_RATE_LIMITED && r->error == LOOKUP_ERR_NONE)
			r->error = LOOKUP_ERR_QUOTA;
		else if (r->status == LOOKUP_ERROR && r->error == LOOKUP_ERR_NONE)
			r->error = kind;
		else if (r->status != LOOKUP_ERROR && r->status != LOOKUP_RATE_LIMITED)
			r->error = LOOKUP_ERR_NONE;
	}
}

/* The provider reads the answer; the class says what it means. */
static enum answer_class read_answer(struct request *req, const struct transport_answer *a,
				     bool *indicator_fault)
{
	const struct integration *in = integration_of(req);
	const struct provider_ops *ops = engine_ops_of(in);
	struct flight *first = g_ptr_array_index(req->flights, 0);
	size_t n = req->flights->len;

	*indicator_fault = false;
	if (ops->dns != NULL) {
		if (local_name_error(a->ares_status)) {
			*indicator_fault = true;
			provider_set_result(&first->work, LOOKUP_INVALID, "not a valid DNS name");
			return ANSWER_PERMANENT;
		}
		return ops->dns->parse(in, &first->work, a->ares_status, a->addrs, a->naddrs);
	}
	if (a->http.status == 0)
		return provider_http_failure(req->batch, n, &a->http);
	if (first->job != NULL)
		return job_parse_answer(first, &a->http);
	/* Providers see every HTTP answer, their own error statuses included
	 * (X-Force's 402, 404 = unknown...); they hand what is common back
	 * to provider_http_failure(). */
	return provider_parse_http(in, req->batch, n, &a->http);
}

static bool job_wants_login(const struct request *req)
{
	const struct flight *first = g_ptr_array_index(req->flights, 0);

	return first->job != NULL && first->job->pj.next == JOB_RELOGIN;
}

static bool all_invalid(const struct request *req)
{
	for (guint i = 0; i < req->flights->len; i++)
		if (req->batch[i]->result.status != LOOKUP_INVALID)
			return false;
	return true;
}

/* One retry of an idempotent lookup on a transient failure, when at
 * least half of the Timeout is left for it and RateLimit has a token
 * for it (defect 9: retries bypassed RateLimit). */
static bool retry(struct request *req, enum answer_class class, long retry_after_s)
{
	const struct integration *in = integration_of(req);
	int64_t now = loop_now_ms(req->engine->loop);
	int64_t half = (int64_t)in->timeout_ms / 2;

	if (class != ANSWER_TRANSIENT || req->attempts >= 2 || now - req->started_ms >= half)
		return false;
	if (retry_after_s >= 0 && retry_after_s >= half / 1000)
		return false;
	if (all_invalid(req) || !admission_take_token(req->state, now))
		return false;
	return send_attempt(req);
}

static void breaker_account(struct request *req, enum answer_class class, long retry_after_s,
			    bool indicator_fault)
{
	struct istate *st = req->state;
	const struct integration *in = integration_of(req);
	const char *details = req->batch[0]->result.details;
	int64_t now = loop_now_ms(req->engine->loop);

	switch (class) {
	case ANSWER_DECIDED:
		breaker_success(&st->breaker);
		st->paused = false;
		req->probe = false;
		break;
	case ANSWER_TRANSIENT:
		/* the breaker counts failures of the provider or the transport,
		 * never an indicator it refused (issue 17 item 3) */
		if (all_invalid(req))
			break;
		breaker_failure(&st->breaker, now);
		req->probe = false;
		log_msg(LOG_WARNING, "integration %s: %s", in->name, details ? details : "failed");
		break;
	case ANSWER_AUTH:
	case ANSWER_QUOTA:
		admission_pause(req->engine, st, class, retry_after_s, in->name, details);
		req->probe = false;
		break;
	case ANSWER_PERMANENT:
		/* the provider answered (a 4xx for this indicator): it works */
		if (!indicator_fault && req->probe) {
			breaker_success(&st->breaker);
			req->probe = false;
		}
		break;
	}
	tm_metrics_breaker(st->metrics, st->breaker.state);
}

static void on_answer(void *ctx, const struct transport_answer *a)
{
	struct request *req = ctx;
	struct engine *engine = req->engine;
	bool indicator_fault;
	enum answer_class class;

	req->call = NULL;
	loop_timer_cancel(engine->loop, req->timeout_timer);
	req->timeout_timer = 0;
	class = read_answer(req, a, &indicator_fault);
	if (job_wants_login(req))
		class = ANSWER_DECIDED;		/* the provider answered; jobs.c logs in again */
	set_error_kinds(req, class, a);
	tm_metrics_request(req->state->metrics, class, loop_now_ms(engine->loop) - req->attempt_ms);
	if (retry(req, class, a->http.retry_after_s))
		return;
	breaker_account(req, class, a->http.retry_after_s, indicator_fault);
	for (guint i = 0; i < req->flights->len; i++) {
		struct flight *f = g_ptr_array_index(req->flights, i);

		if (f->job == NULL || !job_after_answer(engine, f, class))
			flight_finish(engine, f);
	}
	g_ptr_array_set_size(req->flights, 0);
	admission_release(engine, req);
	request_free(req);
}

void request_start_for(struct engine *engine, struct istate *st,
		       struct flight **flights, size_t n, bool probe)
{
	struct request *req = g_new0(struct request, 1);

	req->engine = engine;
	req->state = st;
	req->probe = probe;
	req->flights = g_ptr_array_new();
	req->batch = g_new0(struct lookup *, n);
	req->started_ms = loop_now_ms(engine->loop);
	for (size_t i = 0; i < n; i++) {
		flights[i]->stage = FLIGHT_SENT;
		g_ptr_array_add(req->flights, flights[i]);
		req->batch[i] = &flights[i]->work;
	}
	st->in_flight++;
	tm_metrics_in_flight(st->metrics, st->in_flight);
	g_hash_table_add(engine->requests, req);
	if (send_attempt(req))
		return;
	for (size_t i = 0; i < n; i++)
		flight_fail(engine, flights[i], LOOKUP_ERROR, LOOKUP_ERR_TRANSPORT,
			    engine_ops_of(flights[i]->integration)->dns != NULL
			    ? "DNS query failed to start" : "request failed to start");
	g_ptr_array_set_size(req->flights, 0);
	admission_release(engine, req);
	request_free(req);
}
