/* engine_fake.c: see engine_fake.h. */
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "engine_fake.h"
#include "config/integration_schema.h"
#include "engine/engine_internal.h"
#include "providers/provider.h"
#include "providers/registry.h"

/* ------------------------------------------------------------ clock */

static int64_t fake_now(void *data)
{
	return ((struct fake *)data)->now_ms;
}

static int64_t fake_wall(void *data)
{
	return 1700000000 + ((struct fake *)data)->now_ms / 1000;
}

/* -------------------------------------------------------- transport */

struct fake_transport {
	struct transport base;
	struct fake *fake;
};

static struct transport_call *add_call(struct fake *fake, bool dns, char *what,
				       const char *servers, transport_cb cb, void *ctx)
{
	if (fake->refuse_from != 0 && fake->calls->len + 1 >= fake->refuse_from) {
		g_free(what);
		return NULL;
	}
	struct fake_call *c = g_new0(struct fake_call, 1);

	c->dns = dns;
	c->what = what;
	c->servers = g_strdup(servers);
	c->cb = cb;
	c->ctx = ctx;
	g_ptr_array_add(fake->calls, c);
	return &c->base;
}

static void auto_answer(void *data)
{
	struct fake *fake = data;

	for (guint i = 0; i < fake->calls->len; i++) {
		struct fake_call *c = g_ptr_array_index(fake->calls, i);

		if (!c->answered && !c->cancelled && !c->dns)
			fake_answer_http(fake, i, 200, "clean", -1);
	}
}

static struct transport_call *ft_http(struct transport *t, const struct integration *in,
				      const struct http_request *req, int64_t timeout_ms,
				      transport_cb cb, void *ctx)
{
	struct fake *fake = ((struct fake_transport *)t)->fake;

	(void)in;
	(void)timeout_ms;
	struct transport_call *call = add_call(fake, false,
					       g_strdup_printf("%s %s", req->method, req->url->str),
					       NULL, cb, ctx);
	if (call != NULL && req->body != NULL)
		((struct fake_call *)call)->body = g_strdup(req->body->str);
	if (call != NULL && fake->auto_answer)
		loop_timer_add(fake->engine_loop, fake->now_ms, auto_answer, fake);
	return call;
}

static struct transport_call *ft_dns(struct transport *t, const struct integration *in,
				     const char *name, int64_t timeout_ms,
				     transport_cb cb, void *ctx)
{
	(void)timeout_ms;
	return add_call(((struct fake_transport *)t)->fake, true, g_strdup(name),
			in->dns_servers, cb, ctx);
}

static void ft_cancel(struct transport *t, struct transport_call *call)
{
	(void)t;
	((struct fake_call *)call)->cancelled = true;
}

static void ft_free(struct transport *t)
{
	g_free(t);
}

static const struct transport_ops fake_ops = {
	.http = ft_http, .dns = ft_dns, .cancel = ft_cancel, .free = ft_free,
};

static struct transport *fake_transport_new(struct loop *loop, void *data)
{
	struct fake_transport *t = g_new0(struct fake_transport, 1);

	t->base.ops = &fake_ops;
	t->fake = data;
	t->fake->engine_loop = loop;
	return &t->base;
}

static void call_free(gpointer data)
{
	struct fake_call *c = data;

	g_free(c->what);
	g_free(c->body);
	g_free(c->servers);
	g_free(c);
}

static void on_job_finished(void *data, const struct lookup *lookup)
{
	struct fake *fake = data;

	fake->jobs_finished++;
	fake->last_job_status = lookup->result.status;
}

static void on_job_alert(void *data, const struct lookup *lookup, const char *queue_id,
			 const char *message_id)
{
	struct fake *fake = data;

	(void)lookup;
	fake->alerts++;
	g_strlcpy(fake->last_alert_queue_id, queue_id, sizeof(fake->last_alert_queue_id));
	g_strlcpy(fake->last_alert_message_id, message_id ? message_id : "",
		  sizeof(fake->last_alert_message_id));
}

static struct fake *make(bool threaded,
			 struct cache *(*cache_new)(void *, struct loop *, const char *, size_t))
{
	struct fake *fake = g_new0(struct fake, 1);
	char err[256];

	fake->now_ms = 1000000;
	fake->clock = (struct loop_clock){ .now_ms = fake_now, .wall_s = fake_wall, .data = fake };
	fake->calls = g_ptr_array_new_with_free_func(call_free);
	struct engine_custom custom = {
		.clock = threaded ? NULL : &fake->clock,
		.transport_new = fake_transport_new,
		.data = fake,
		.manual = !threaded,
	};
	struct engine_options options = {
		.breaker_threshold = 5, .breaker_cooldown_ms = 30000,
		.job_finished = on_job_finished, .job_finished_data = fake,
		.job_alert = on_job_alert, .job_alert_data = fake,
		.cache_new = cache_new, .cache_data = fake,
	};

	fake->engine = engine_new_custom(&options, &custom, err, sizeof(err));
	if (fake->engine == NULL)
		abort();
	return fake;
}

struct fake *fake_new(bool threaded)
{
	return make(threaded, NULL);
}

struct fake *fake_new_caches(struct cache *(*cache_new)(void *data, struct loop *loop,
							const char *name, size_t max_entries))
{
	return make(false, cache_new);
}

void fake_free(struct fake *fake)
{
	engine_free(fake->engine);
	g_ptr_array_unref(fake->calls);
	g_free(fake);
}

void fake_settle(struct fake *fake)
{
	for (int i = 0; i < 5; i++)
		engine_turn(fake->engine, 0);
}

void fake_advance(struct fake *fake, int64_t ms)
{
	fake->now_ms += ms;
	fake_settle(fake);
}

void fake_answer_http(struct fake *fake, unsigned index, long status, const char *body,
		      long retry_after_s)
{
	struct fake_call *c = g_ptr_array_index(fake->calls, index);
	struct transport_answer a = { .http = { .status = status, .body = body ? body : "",
						 .body_len = body ? strlen(body) : 0,
						 .retry_after_s = retry_after_s } };

	if (status == 0)
		a.http.transport_error = "connection refused";
	g_assert(!c->answered && !c->cancelled && !c->dns);
	c->answered = true;
	c->cb(c->ctx, &a);
}

void fake_answer_dns(struct fake *fake, unsigned index, int ares_status)
{
	struct fake_call *c = g_ptr_array_index(fake->calls, index);
	struct ares_addrttl addr = { .ttl = 60 };
	struct transport_answer a = { .ares_status = ares_status, .addrs = &addr,
				      .naddrs = ares_status == ARES_SUCCESS };

	addr.ipaddr.s_addr = htonl(0x7f000002);
	g_assert(!c->answered && !c->cancelled && c->dns);
	c->answered = true;
	c->cb(c->ctx, &a);
}

unsigned fake_open_calls(const struct fake *fake)
{
	unsigned n = 0;

	for (guint i = 0; i < fake->calls->len; i++) {
		const struct fake_call *c = g_ptr_array_index(fake->calls, i);

		n += !c->answered && !c->cancelled;
	}
	return n;
}

struct batch *fake_submit(struct fake *fake, struct tm_config *cfg,
			  struct lookup **lookups, size_t n, int64_t deadline_ms)
{
	struct batch *b = engine_submit(fake->engine, cfg, (struct lookup *const *)lookups, n,
					fake->now_ms + deadline_ms);

	fake_settle(fake);
	return b;
}

/* ------------------------------------------------------- providers */


static enum lookup_status status_of(const char *body)
{
	if (strcmp(body, "malicious") == 0)
		return LOOKUP_MALICIOUS;
	if (strcmp(body, "suspicious") == 0)
		return LOOKUP_SUSPICIOUS;
	if (strcmp(body, "clean") == 0)
		return LOOKUP_CLEAN;
	if (strcmp(body, "unknown") == 0)
		return LOOKUP_UNKNOWN;
	return LOOKUP_ERROR;
}

static void http_build(const struct integration *in, struct lookup *const *batch, size_t n,
		       struct http_request *req)
{
	(void)n;
	g_string_printf(req->url, "%s/%s", in->api_url, batch[0]->indicator);
}

static enum answer_class http_parse(const struct integration *in, struct lookup *const *batch,
				    size_t n, const struct http_response *resp)
{
	(void)in;
	if (resp->status != 200)
		return provider_http_failure(batch, n, resp);
	if (status_of(resp->body) == LOOKUP_ERROR) {
		provider_set_result(batch[0], LOOKUP_ERROR, "malformed answer");
		return ANSWER_TRANSIENT;
	}
	provider_set_result(batch[0], status_of(resp->body), "%s", resp->body);
	return ANSWER_DECIDED;
}

static char *dns_name(const struct integration *in, const struct lookup *lookup)
{
	(void)in;
	return g_strdup(lookup->indicator);
}

static enum answer_class dns_parse(const struct integration *in, struct lookup *lookup,
				   int status, const struct ares_addrttl *addrs, int naddrs)
{
	(void)in;
	(void)addrs;
	if (status == ARES_SUCCESS && naddrs > 0) {
		provider_set_result(lookup, LOOKUP_MALICIOUS, "listed");
		return ANSWER_DECIDED;
	}
	if (status == ARES_ENOTFOUND) {
		provider_set_result(lookup, LOOKUP_CLEAN, NULL);
		return ANSWER_DECIDED;
	}
	/* as spamhaus.c: the provider names the kind of its DNS errors */
	provider_fail(lookup, LOOKUP_ERROR,
		      status == ARES_ETIMEOUT ? LOOKUP_ERR_TIMEOUT : LOOKUP_ERR_PROVIDER,
		      "DNS %s", ares_strerror(status));
	return ANSWER_TRANSIENT;
}

/* The stub's step: a URL is submitted at once (no hash lookup). */
static unsigned job_step(const struct lookup *lookup, const struct provider_job *job)
{
	return job->step == 0 && lookup->kind == INDICATOR_URL ? 1 : job->step;
}

static void job_request(const struct integration *in, const struct lookup *lookup,
			const struct provider_job *job, struct http_request *req)
{
	switch (job_step(lookup, job)) {
	case 0:
		g_string_printf(req->url, "%s/hash/%s", in->api_url, lookup->indicator);
		break;
	case 1:
		req->method = "POST";
		g_string_printf(req->url, "%s/submit", in->api_url);
		req->body = g_string_new(lookup->indicator);
		break;
	default:
		g_string_printf(req->url, "%s/job/%s", in->api_url, job->id);
	}
}

static enum answer_class job_parse(const struct integration *in, struct lookup *lookup,
				   struct provider_job *job, const struct http_response *resp)
{
	if (resp->status != 200)
		return provider_http_failure(&lookup, 1, resp);
	/* "id:<id>" names a time (a 10 s hint), "queued:<id>" none */
	bool hint = strncmp(resp->body, "id:", 3) == 0;

	if (job_step(lookup, job) == 1 && (hint || strncmp(resp->body, "queued:", 7) == 0)) {
		job->id = g_strdup(strchr(resp->body, ':') + 1);
		job->step = 2;
		job->next = JOB_POLL_LATER;
		job->poll_after_s = hint ? 10 : 0;
		provider_set_result(lookup, LOOKUP_PENDING, "submitted");
		return ANSWER_DECIDED;
	}
	if (strcmp(resp->body, "running") == 0) {
		job->next = JOB_POLL_LATER;
		job->poll_after_s = 0;		/* engine back-off */
		return ANSWER_DECIDED;
	}
	if (job->step == 0 && strcmp(resp->body, "unknown") == 0) {
		job->step = 1;
		job->next = JOB_STEP_NOW;
		return ANSWER_DECIDED;
	}
	return http_parse(in, &lookup, 1, resp);
}

static void session_request(const struct integration *in, const struct lookup *lookup,
			    const struct provider_job *job, struct http_request *req)
{
	g_string_printf(req->url, "%s/rate/%s?s=%s", in->api_url, lookup->indicator,
			job->session ? job->session : "(none)");
}

static enum answer_class session_parse(const struct integration *in, struct lookup *lookup,
				       struct provider_job *job, const struct http_response *resp)
{
	if (resp->status == 200 && strcmp(resp->body, "invalid-session") == 0) {
		job->next = JOB_RELOGIN;
		provider_set_result(lookup, LOOKUP_ERROR, "session refused");
		return ANSWER_AUTH;
	}
	return http_parse(in, &lookup, 1, resp);
}

static void session_login(const struct integration *in, unsigned form, struct http_request *req)
{
	(void)form;
	g_string_printf(req->url, "%s/login", in->api_url);
	req->body = g_string_new("user=u&password=p");
}

static char *session_parse_login(const struct integration *in, const struct http_response *resp,
				 bool *other_form, char *err, size_t errlen)
{
	(void)in;
	*other_form = false;
	if (resp->status == 200 && strncmp(resp->body, "token:", 6) == 0)
		return g_strdup(resp->body + 6);
	g_snprintf(err, errlen, "HTTP %ld", resp->status);
	return NULL;
}

static const struct provider_http_ops stubhttp_http = {
	.build_request = http_build, .parse_response = http_parse,
};
static const struct provider_dns_ops stubdns_dns = { .name = dns_name, .parse = dns_parse };
static const struct provider_job_ops stubjob_job = {
	.request = job_request, .parse = job_parse,
	.poll = { .first_s = 5, .max_s = 40 },
};
static const struct provider_job_ops stubsession_job = {
	.request = session_request, .parse = session_parse,
};
static const struct provider_session_ops stubsession_session = {
	.login = session_login, .parse_login = session_parse_login,
};
#define STUB_CAPS (CAP_URL | CAP_DOMAIN | CAP_IP | CAP_HASH | CAP_EMAIL)
static const struct provider_type stub_types[] = {
	{ .name = "stubsession", .display_name = "Stub session", .capabilities = STUB_CAPS,
	  .ops = { .job = &stubsession_job, .session = &stubsession_session } },
	{ .name = "stubhttp", .display_name = "Stub HTTP", .capabilities = STUB_CAPS,
	  .ops = { .http = &stubhttp_http } },
	{ .name = "stubdns", .display_name = "Stub DNS", .capabilities = STUB_CAPS,
	  .ops = { .dns = &stubdns_dns } },
	{ .name = "stubjob", .display_name = "Stub sandbox", .capabilities = STUB_CAPS | CAP_UPLOAD,
	  .ops = { .job = &stubjob_job } },
};

struct integration *stub_integration(const char *type, const char *name)
{
	struct integration *in = integration_default_spamhaus();

	g_free(in->name);
	in->name = g_strdup(name);
	for (size_t i = 0; i < G_N_ELEMENTS(stub_types); i++)
		if (strcmp(stub_types[i].name, type) == 0)
			in->type = &stub_types[i];
	g_free(in->api_url);
	in->api_url = g_strdup("http://stub.example");
	g_free(in->dns_servers);
	in->dns_servers = NULL;
	g_free(in->rate_limit);
	in->rate_limit = NULL;
	in->timeout_ms = 2000;
	in->poll_interval_ms = 5000;	/* a sandbox's polls: 5 s, 10 s, 20 s... */
	in->max_in_flight = 4;
	in->cache = true;
	in->cache_hours = 24;
	in->cache_max_hits = 1000;
	in->cache_max_entries = 1000;
	in->active = true;
	return in;
}

void stub_set_type(struct integration *in, const char *type)
{
	const struct integration_key *key = integration_schema_find("PollInterval");
	char *poll, err[256];

	in->type = provider_type_find(type);
	g_assert(in->type != NULL);
	if (!integration_key_applies(key, in->type))
		return;		/* Cyber X-Ray: its provider's own schedule */
	poll = integration_key_default(key, in->type);
	if (!integration_set_value(in, key, poll, NULL, err, sizeof(err)))
		g_error("stub_set_type(%s): %s", type, err);
	g_free(poll);
}

struct tm_config *stub_config(struct integration *const *ins, size_t n)
{
	struct tm_config *cfg = config_defaults();

	g_ptr_array_set_size(cfg->integrations, 0);
	for (size_t i = 0; i < n; i++)
		g_ptr_array_add(cfg->integrations, ins[i]);
	return cfg;
}

struct lookup *stub_lookup(const struct integration *in, enum indicator_kind kind,
			   const char *indicator)
{
	struct lookup *l = g_new0(struct lookup, 1);

	l->integration = in;
	l->kind = kind;
	l->indicator = g_strdup(indicator);
	return l;
}

void stub_lookup_free(struct lookup *l)
{
	g_free(l->indicator);
	g_free(l->result.details);
	g_free(l);
}

void fake_job_ends(struct fake *fake, unsigned index, const char *body,
		   enum lookup_status status)
{
	unsigned before = fake->jobs_finished;

	fake_answer_http(fake, index, 200, body, -1);
	fake_settle(fake);
	g_assert_cmpuint(fake->jobs_finished, ==, before + 1);
	g_assert_cmpint(fake->last_job_status, ==, status);
	g_assert_cmpuint(g_hash_table_size(fake->engine->flights), ==, 0);
}

void fake_expect_cached(struct fake *fake, struct tm_config *cfg, const struct integration *in,
			enum indicator_kind kind, const char *indicator,
			enum lookup_status status)
{
	struct lookup *l = stub_lookup(in, kind, indicator);
	unsigned calls = fake->calls->len;
	struct batch *b = engine_submit(fake->engine, cfg, &l, 1, fake->now_ms + 5000);

	g_assert_true(engine_batch_done(fake->engine, b));
	g_assert_cmpint(l->result.status, ==, status);
	g_assert_true(l->result.cached);
	engine_batch_release(fake->engine, b);
	fake_settle(fake);
	g_assert_cmpuint(fake->calls->len, ==, calls);
	stub_lookup_free(l);
}

void fake_expect_pending(struct fake *fake, struct tm_config *cfg, const struct integration *in,
			 enum indicator_kind kind, const char *indicator)
{
	struct lookup *l = stub_lookup(in, kind, indicator);
	unsigned calls = fake->calls->len;
	struct batch *b = engine_submit(fake->engine, cfg, &l, 1, fake->now_ms + 5000);

	fake_settle(fake);
	g_assert_true(engine_batch_done(fake->engine, b));
	g_assert_cmpint(l->result.status, ==, LOOKUP_PENDING);
	g_assert_false(l->result.cached);
	engine_batch_release(fake->engine, b);
	g_assert_cmpuint(fake->calls->len, ==, calls);
	stub_lookup_free(l);
}

const char *call_what(struct fake *fake, unsigned index)
{
	return ((struct fake_call *)g_ptr_array_index(fake->calls, index))->what;
}

int env_up(void **state, const char *type, const char *name)
{
	struct env *e = g_new0(struct env, 1);

	e->f = fake_new(false);
	e->in = stub_integration(type, name);
	e->cfg = stub_config(&e->in, 1);
	*state = e;
	return 0;
}

int env_down(void **state)
{
	struct env *e = *state;

	fake_free(e->f);
	config_unref(e->cfg);
	g_free(e);
	return 0;
}
