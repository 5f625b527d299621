/* fortisandbox_rpc.c: FortiSandbox's JSON-RPC envelope, its status codes,
 * the login and Test Connection (../shared/providers/fortisandbox.md §2,
 * §5, §6). Every call is a POST of {"method","params":[{"url":...}],
 * "session","id","ver"} to <appliance>/jsonrpc; errors come back as HTTP
 * 200 with result.status.code, so every answer is read here first.
 *
 * The session token and the password are secrets: they are in request
 * bodies only (wiped by http_request_clear), never in a details text or
 * a log line. */
#include "providers/fortisandbox.h"

#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "providers/sync_runner.h"

/* §2: clients send assorted values, the server does not check it */
#define FSA_VER "2.5"

cJSON *fsa_call(const char *method, const char *resource, const char *session, cJSON **params)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(root, "params");

	cJSON_AddStringToObject(root, "method", method);
	*params = cJSON_CreateObject();
	cJSON_AddStringToObject(*params, "url", resource);
	cJSON_AddItemToArray(list, *params);
	cJSON_AddStringToObject(root, "session", session ? session : "");
	cJSON_AddNumberToObject(root, "id", 1);
	cJSON_AddStringToObject(root, "ver", FSA_VER);
	return root;
}

void fsa_send(const struct integration *in, cJSON *root, struct http_request *req)
{
	char root_buf[1024];
	const char *api = provider_api_root(in, root_buf, sizeof(root_buf));
	char *text = cJSON_PrintUnformatted(root);

	req->method = "POST";
	g_string_assign(req->url, api);
	if (!g_str_has_suffix(api, "/jsonrpc"))
		g_string_append(req->url, "/jsonrpc");
	http_request_json_headers(req, NULL, NULL);
	g_ptr_array_add(req->headers, g_strdup("Content-Type: application/json"));
	req->body = g_string_new(text);
	if (text != NULL) {
		memset(text, 0, strlen(text));	/* a session or a password */
		cJSON_free(text);
	}
	cJSON_Delete(root);
}

/* ------------------------------------------------------------- answers */

static enum fsa_status status_of(int code, const char *message)
{
	static const struct {
		const char *message;
		enum fsa_status status;
	} by_message[] = {
		{ "OK", FSA_OK },
		{ "DATA_NOT_EXIST", FSA_NOT_FOUND },
		{ "DATA_IN_QUEUE_OR_PROGRESS", FSA_IN_PROGRESS },
		{ "INVALID_SESSION", FSA_INVALID_SESSION },
		{ "WRONG_CREDENTIAL", FSA_WRONG_CREDENTIAL },
		{ "USER_HAS_NO_PERMISSION", FSA_NO_PERMISSION },
		{ "TIME_OUT", FSA_TIME_OUT },
	};

	/* the numbers the document knows first, then the messages */
	if (code == 0)
		return FSA_OK;
	if (code == 3)
		return FSA_NOT_FOUND;
	if (code == 29)
		return FSA_IN_PROGRESS;
	for (size_t i = 0; message != NULL && i < G_N_ELEMENTS(by_message); i++)
		if (g_ascii_strcasecmp(message, by_message[i].message) == 0 &&
		    by_message[i].status != FSA_OK)
			return by_message[i].status;
	return FSA_OTHER;
}

void fsa_answer_clear(struct fsa_answer *ans)
{
	cJSON_Delete(ans->json);
	g_free(ans->message);
	memset(ans, 0, sizeof(*ans));
}

bool fsa_answer_read(const struct http_response *resp, struct fsa_answer *ans)
{
	const cJSON *status, *code;

	memset(ans, 0, sizeof(*ans));
	ans->json = cJSON_ParseWithLength(resp->body, resp->body_len);
	ans->result = cJSON_GetObjectItemCaseSensitive(ans->json, "result");
	if (cJSON_IsArray(ans->result))		/* §2: defensive */
		ans->result = cJSON_GetArrayItem(ans->result, 0);
	status = cJSON_GetObjectItemCaseSensitive(ans->result, "status");
	code = cJSON_GetObjectItemCaseSensitive(status, "code");
	if (!cJSON_IsObject(ans->result) || !cJSON_IsNumber(code)) {
		fsa_answer_clear(ans);
		return false;
	}
	ans->code = code->valueint;
	ans->message = provider_printable(
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "message")), 80);
	ans->status = status_of(ans->code, ans->message);
	ans->data = cJSON_GetObjectItemCaseSensitive(ans->result, "data");
	return true;
}

enum answer_class fsa_fail(struct lookup *lookup, const struct fsa_answer *ans, const char *what)
{
	const char *message = ans->message ? ans->message : "no message";
	enum lookup_error error = LOOKUP_ERR_PROVIDER;
	enum answer_class class = ANSWER_PERMANENT;
	const char *why = "";

	switch (ans->status) {
	case FSA_INVALID_SESSION:
		error = LOOKUP_ERR_AUTH;
		class = ANSWER_AUTH;
		why = ": session refused";
		break;
	case FSA_WRONG_CREDENTIAL:
		error = LOOKUP_ERR_AUTH;
		class = ANSWER_AUTH;
		why = ": user name, password or token refused";
		break;
	case FSA_NO_PERMISSION:
		error = LOOKUP_ERR_AUTH;
		class = ANSWER_AUTH;
		why = ": the admin profile lacks JSON API rights";
		break;
	case FSA_TIME_OUT:
		class = ANSWER_TRANSIENT;
		why = ": the appliance timed out";
		break;
	default:
		break;
	}
	provider_fail(lookup, LOOKUP_ERROR, error, "FortiSandbox %s: code %d %s%s", what, ans->code,
		      message, why);
	return class;
}

enum answer_class fsa_http_fail(struct lookup *lookup, const struct http_response *resp)
{
	struct lookup *batch[1] = { lookup };

	if (resp->status != 200)
		return provider_http_failure(batch, 1, resp);
	provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED,
		      "malformed answer (no JSON-RPC result.status)");
	return ANSWER_TRANSIENT;
}

/* --------------------------------------------------------------- login */

static bool token_login(const struct integration *in)
{
	return in->api_password == NULL || *in->api_password == '\0';
}

void fortisandbox_login(const struct integration *in, unsigned form, struct http_request *req)
{
	const char *user = in->api_key ? in->api_key : "";
	cJSON *params, *root;

	if (token_login(in)) {
		/* §2 token login: FortiSandbox Cloud/PaaS, `login-token -g` */
		root = fsa_call("get", "/sys/login/token", NULL, &params);
		cJSON_AddStringToObject(params, "token", user);
	} else if (form == FSA_LOGIN_DATA) {
		cJSON *data = cJSON_CreateObject();

		root = fsa_call("exec", "/sys/login/user", NULL, &params);
		cJSON_AddStringToObject(data, "user", user);
		cJSON_AddStringToObject(data, "passwd", in->api_password);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(params, "data"), data);
	} else {
		root = fsa_call("exec", "/sys/login/user", NULL, &params);
		cJSON_AddStringToObject(params, "user", user);
		cJSON_AddStringToObject(params, "passwd", in->api_password);
	}
	if (!token_login(in))
		cJSON_DeleteItemFromObject(root, "session");	/* §2: none in this login */
	fsa_send(in, root, req);
}

char *fortisandbox_parse_login(const struct integration *in, const struct http_response *resp,
			       bool *other_form, char *err, size_t errlen)
{
	struct fsa_answer ans;
	const char *session;
	char *token = NULL;

	*other_form = false;
	if (resp->status != 200) {
		snprintf(err, errlen, "HTTP %ld", resp->status);
		return NULL;
	}
	if (!fsa_answer_read(resp, &ans)) {
		snprintf(err, errlen, "malformed login answer");
		return NULL;
	}
	session = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ans.json, "session"));
	if (ans.status == FSA_OK && session != NULL && *session != '\0') {
		token = g_strdup(session);
	} else if (ans.status == FSA_OK) {
		snprintf(err, errlen, "login answered OK without a session");
	} else {
		/* §2: a credential or format error may be the other body
		 * form's server; the token login has one form */
		*other_form = !token_login(in) && ans.status != FSA_NO_PERMISSION &&
			      ans.status != FSA_TIME_OUT;
		snprintf(err, errlen, "code %d %s%s", ans.code, ans.message ? ans.message : "",
			 ans.status == FSA_NO_PERMISSION ? " (the admin profile lacks JSON API "
							   "rights)" : "");
	}
	fsa_answer_clear(&ans);
	return token;
}

/* The engine's session for fortisandbox_job (fortisandbox.c). */
const struct provider_session_ops fortisandbox_session = {
	.login = fortisandbox_login,
	.parse_login = fortisandbox_parse_login,
	.forms = FSA_LOGIN_FORMS,
};

/* ------------------------------------------------------ Test Connection */

/* One call of the ping; the answer's JSON (NULL when none came, err set). */
static bool ping_call(const struct provider_run *run, struct http_request *req,
		      struct provider_http_answer *ans, char *err, size_t errlen)
{
	bool ok = provider_run_http(run, req, ans);

	http_request_clear(req);
	http_request_init(req);
	if (!ok)
		snprintf(err, errlen, "no answer: %s",
			 ans->resp.transport_error ? ans->resp.transport_error : "?");
	return ok;
}

/* Logs in (both forms as the engine does); the token or NULL, err set. */
static char *ping_login(const struct provider_run *run, const char **form_name, char *err,
			size_t errlen)
{
	struct provider_http_answer ans = { 0 };
	struct http_request req;
	char *token = NULL;
	bool other = true;

	http_request_init(&req);
	for (unsigned form = 0; token == NULL && other && form < FSA_LOGIN_FORMS; form++) {
		fortisandbox_login(run->in, form, &req);
		if (!ping_call(run, &req, &ans, err, errlen))
			break;
		token = fortisandbox_parse_login(run->in, &ans.resp, &other, err, errlen);
		*form_name = token_login(run->in) ? "token" :
			     form == FSA_LOGIN_DATA ? "user/password, data form" : "user/password";
	}
	http_request_clear(&req);
	provider_http_answer_clear(&ans);
	return token;
}

/* §6: login, then logout; success is status 0 with a session. The
 * firmware version of `get /sys/status` is shown when it comes. No
 * analysis is asked for. */
static cJSON *ping_run(const struct provider_run *run, const cJSON *args, char *err,
		       size_t errlen)
{
	struct provider_http_answer ans = { 0 };
	const char *form_name = "";
	struct http_request req;
	struct fsa_answer fa;
	char *version = NULL;
	cJSON *params, *out, *messages;
	char *token;

	(void)args;
	token = ping_login(run, &form_name, err, errlen);
	if (token == NULL) {
		char why[300];

		g_strlcpy(why, err, sizeof(why));
		snprintf(err, errlen, "login failed: %s", why);
		return NULL;
	}
	http_request_init(&req);
	fsa_send(run->in, fsa_call("get", "/sys/status", token, &params), &req);
	if (ping_call(run, &req, &ans, err, errlen) && ans.resp.status == 200 &&
	    fsa_answer_read(&ans.resp, &fa)) {
		const cJSON *v = cJSON_GetObjectItem(fa.data, "version");

		version = provider_printable(cJSON_GetStringValue(v), 60);
		fsa_answer_clear(&fa);
	}
	fsa_send(run->in, fsa_call("exec", "/sys/logout", token, &params), &req);
	ping_call(run, &req, &ans, err, errlen);
	http_request_clear(&req);
	provider_http_answer_clear(&ans);
	memset(token, 0, strlen(token));
	g_free(token);

	out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "ok", true);
	messages = cJSON_AddArrayToObject(out, "messages");
	char *line = g_strdup_printf("logged in (%s login) and out%s%s", form_name,
				     version ? ", firmware " : "", version ? version : "");
	cJSON_AddItemToArray(messages, cJSON_CreateString(line));
	g_free(line);
	g_free(version);
	return out;
}

const struct provider_action fortisandbox_ping = {
	.name = "ping",
	.help = "Test Connection: log in and out (no analysis)",
	.run = ping_run,
};
