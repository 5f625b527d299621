/* session.c: providers that log in and reuse a session token
 * (provider.h "sessions", FortiSandbox). One token per integration name,
 * kept across reloads; the flights that need it while there is none wait
 * here, one login runs for all of them. Engine thread only. */
#include <autoconfig.h>

#include <string.h>
#include <glib.h>

#include "config/config.h"
#include "config/integrations.h"
#include "engine/engine_internal.h"
#include "util/log.h"

struct login {
	struct engine *engine;
	struct istate *st;
	struct tm_config *cfg;		/* keeps in alive */
	const struct integration *in;
	struct http_request http;
	struct transport_call *call;
	unsigned form;			/* the body form sent (provider.h) */
	bool other_tried;		/* the second form was sent already */
};

static void wipe_free(char *secret)
{
	if (secret != NULL) {
		memset(secret, 0, strlen(secret));
		g_free(secret);
	}
}

void session_login_free(struct login *login)
{
	if (login == NULL)
		return;
	request_http_clear(&login->http);
	config_unref(login->cfg);
	g_free(login);
}

bool session_needed(const struct istate *st, const struct flight *f)
{
	const struct provider_ops *ops = engine_ops_of(f->integration);

	return f->job != NULL && ops->session != NULL && st->session == NULL;
}

static bool login_send(struct login *login);

/* A login refused in one body form, with another to try: sends it and
 * returns true (login is then the new attempt's, or freed when it could
 * not start). */
static bool other_form(struct login *login, bool may)
{
	unsigned forms = engine_ops_of(login->in)->session->forms;

	if (!may || forms < 2 || login->other_tried)
		return false;
	login->other_tried = true;
	login->form = (login->form + 1) % forms;
	login_send(login);
	return true;
}

/* The login's outcome: the waiting flights go on, or end. */
static void on_login(void *ctx, const struct transport_answer *a)
{
	struct login *login = ctx;
	struct engine *engine = login->engine;
	struct istate *st = login->st;
	const struct provider_ops *ops = engine_ops_of(login->in);
	char err[256] = "no answer";
	char *token = NULL;
	bool may_other = false;

	login->call = NULL;
	if (a->http.status != 0)
		token = ops->session->parse_login(login->in, &a->http, &may_other, err, sizeof(err));
	else if (a->http.transport_error != NULL)
		g_strlcpy(err, a->http.transport_error, sizeof(err));
	if (token == NULL && other_form(login, may_other))
		return;
	st->login = NULL;
	GPtrArray *parked = st->session_wait;

	st->session_wait = g_ptr_array_new();
	if (token != NULL) {
		wipe_free(st->session);
		st->session = token;
		st->login_form = login->form;
	} else {
		admission_pause(engine, st, ANSWER_AUTH, -1, login->in->name, "login refused");
	}
	for (guint i = 0; i < parked->len; i++) {
		struct flight *f = g_ptr_array_index(parked, i);

		if (token != NULL) {
			admission_enqueue_job_step(engine, f);
		} else {
			char details[300];

			g_snprintf(details, sizeof(details), "login failed: %s", err);
			flight_fail(engine, f, LOOKUP_ERROR,
				    a->http.status != 0 ? LOOKUP_ERR_AUTH : LOOKUP_ERR_TRANSPORT, details);
		}
	}
	g_ptr_array_unref(parked);
	session_login_free(login);
}

/* Sends the login in login->form; false when it could not start (the
 * waiting flights have then been failed and login freed). */
static bool login_send(struct login *login)
{
	struct engine *engine = login->engine;

	request_http_clear(&login->http);
	http_request_init(&login->http);
	login->http.method = "POST";
	engine_ops_of(login->in)->session->login(login->in, login->form, &login->http);
	login->call = engine->transport->ops->http(engine->transport, login->in, &login->http,
						   login->in->timeout_ms, on_login, login);
	if (login->call == NULL) {
		struct transport_answer a = {
			.http = { .transport_error = "login failed to start", .retry_after_s = -1 },
		};
		login->other_tried = true;
		on_login(login, &a);
		return false;
	}
	engine_count(engine, &engine->stats.requests);
	return true;
}

static void login_start(struct engine *engine, struct istate *st, const struct flight *f)
{
	struct login *login = g_new0(struct login, 1);

	login->engine = engine;
	login->st = st;
	login->cfg = config_ref(f->cfg);
	login->in = f->integration;
	login->form = engine_ops_of(f->integration)->session->forms > 1 ? st->login_form : 0;
	http_request_init(&login->http);
	st->login = login;
	login_send(login);
}

void session_park(struct engine *engine, struct istate *st, struct flight *f)
{
	g_ptr_array_add(st->session_wait, f);
	if (st->login == NULL)
		login_start(engine, st, f);
}

void session_refused(struct istate *st, const char *token)
{
	if (st->session != NULL && g_strcmp0(st->session, token) == 0) {
		wipe_free(st->session);
		st->session = NULL;
	}
}

void session_copy_to(const struct istate *st, struct job *job)
{
	wipe_free(job->session);
	job->session = g_strdup(st->session);
	job->pj.session = job->session;
}

void session_forget(struct istate *st)
{
	wipe_free(st->session);
	st->session = NULL;
	session_login_free(st->login);
	st->login = NULL;
	g_ptr_array_unref(st->session_wait);
}
