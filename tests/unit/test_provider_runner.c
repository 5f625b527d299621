/* test_provider_runner.c: the synchronous runner (sync_runner.h) and the
 * actions — over fake transports, and over real curl / c-ares against a
 * one-shot server on 127.0.0.1: what http_request_to_easy() sends
 * (headers, multipart parts), what http_response_from_easy() reads
 * (Retry-After, the type's rate-limit header, both capped), and a DNS
 * query that gives up at the integration's Timeout. */
#include <autoconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "provider_test_util.h"
#include "providers/sync_runner.h"

/* ------------------------------------------------------ fake transports */

struct fake {
	const char *provider;	/* fixtures file */
	const char *refs[4];	/* answers in turn (the last one repeats) */
	unsigned calls;
	char last_url[512];
};

static void fake_http(void *ctx, const struct http_request *req, struct provider_http_answer *ans)
{
	struct fake *f = ctx;
	const char *ref = f->refs[f->calls < 4 && f->refs[f->calls] ? f->calls : 0];
	long status;
	char *body;

	for (unsigned i = f->calls; i > 0 && f->refs[i] == NULL; i--)
		ref = f->refs[i - 1];
	body = pt_fixture(f->provider, ref, NULL, &status);
	f->calls++;
	snprintf(f->last_url, sizeof(f->last_url), "%s", req->url->str);
	ans->resp.status = status;
	g_string_assign(ans->body, body);
	g_free(body);
}

static void fake_dns(void *ctx, const char *name, int *ares_status, struct ares_addrttl *addrs,
		     int *naddrs)
{
	struct fake *f = ctx;

	f->calls++;
	snprintf(f->last_url, sizeof(f->last_url), "%s", name);
	*ares_status = ARES_SUCCESS;
	inet_pton(AF_INET, "127.0.0.2", &addrs[0].ipaddr);
	addrs[0].ttl = 60;
	*naddrs = 1;
}

static void test_runner_lookup_over_fake_http(void **state)
{
	struct integration vt = pt_integration("virustotal", "https://vt.example/api/v3", VT_KEY,
					       NULL, 0);
	struct fake f = { .provider = "virustotal",
			  .refs = { "templates.ip_address+verdicts.clean" } };
	struct provider_run run = { .in = &vt, .fake_http = fake_http, .fake_ctx = &f };
	struct lookup *l = pt_lookup_new(&vt, INDICATOR_IP, "192.0.2.10");

	(void)state;
	assert_int_equal(provider_run_lookup(&run, l), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_CLEAN, "0/93");
	assert_string_equal(f.last_url, "https://vt.example/api/v3/ip_addresses/192.0.2.10");
	assert_int_equal(f.calls, 1);
	pt_lookup_del(l);
}

/* A transient failure is retried once, like the engine; a refused key
 * is not. */
static void test_runner_retries_once(void **state)
{
	struct integration vt = pt_integration("virustotal", "https://vt.example/api/v3", VT_KEY,
					       NULL, 0);
	struct fake f = { .provider = "virustotal",
			  .refs = { "errors.503", "templates.ip_address+verdicts.malicious" } };
	struct provider_run run = { .in = &vt, .fake_http = fake_http, .fake_ctx = &f };
	struct lookup *l = pt_lookup_new(&vt, INDICATOR_IP, "203.0.113.7");

	(void)state;
	assert_int_equal(provider_run_lookup(&run, l), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "12/93");
	assert_int_equal(f.calls, 2);

	struct fake bad = { .provider = "virustotal", .refs = { "errors.wrong_key" } };
	run.fake_ctx = &bad;
	assert_int_equal(provider_run_lookup(&run, l), ANSWER_AUTH);
	pt_assert_result(l, LOOKUP_ERROR, "HTTP 401 WrongCredentialsError");
	assert_int_equal(l->result.error, LOOKUP_ERR_AUTH);
	assert_int_equal(bad.calls, 1);
	pt_lookup_del(l);
}

static void test_runner_dns_over_fake(void **state)
{
	struct integration zen = pt_integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct fake f = { 0 };
	struct provider_run run = { .in = &zen, .fake_dns = fake_dns, .fake_ctx = &f };
	struct lookup *l = pt_lookup_new(&zen, INDICATOR_IP, "127.0.0.2");

	(void)state;
	assert_int_equal(provider_run_lookup(&run, l), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "SBL");
	assert_string_equal(f.last_url, "2.0.0.127.zen.spamhaus.org");
	pt_lookup_del(l);
}

/* --------------------------------------------------------------- actions */

static void test_ping_action(void **state)
{
	struct integration vt = pt_integration("virustotal", "https://vt.example/api/v3", VT_KEY,
					       NULL, 0);
	struct fake f = { .provider = "virustotal",
			  .refs = { "templates.ip_address+verdicts.clean" } };
	struct provider_run run = { .in = &vt, .fake_http = fake_http, .fake_ctx = &f };
	const struct provider_action *ping = provider_action_find(vt.type, "ping");
	char err[256] = "";
	cJSON *out;

	(void)state;
	assert_non_null(ping);
	out = provider_run_action(&run, ping, NULL, err, sizeof(err));
	assert_non_null(out);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "ok")));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(out, "status")), "clean");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(out, "indicator")), "8.8.8.8");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(out, "error")), "");
	cJSON_Delete(out);

	/* a refused key: the action ran (JSON out), the answer says why */
	struct fake bad = { .provider = "virustotal", .refs = { "errors.wrong_key" } };
	run.fake_ctx = &bad;
	out = provider_run_action(&run, ping, NULL, err, sizeof(err));
	assert_non_null(out);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(out, "ok")));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(out, "status")), "error");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(out, "error")), "auth");
	char *text = cJSON_PrintUnformatted(out);
	pt_assert_no_secret(text);
	cJSON_free(text);
	cJSON_Delete(out);

	/* a type without lookups cannot be pinged */
	struct integration iron = pt_integration("ironscales", "https://i.example/", "k", NULL, 0);
	run.in = &iron;
	assert_null(provider_run_action(&run, ping, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot be tested"));
}

static cJSON *echo_run(const struct provider_run *run, const cJSON *args, char *err,
		       size_t errlen)
{
	(void)run;
	(void)err;
	(void)errlen;
	return cJSON_Duplicate(cJSON_GetObjectItem(args, "entity"), true);
}

static void test_action_arguments(void **state)
{
	static const struct provider_action_arg args[] = {
		{ "entity", "what to ask", true }, { "threshold", "cut-off", false }, { NULL, NULL, false },
	};
	static const struct provider_action echo = { "echo", "echoes", args, echo_run };
	struct integration vt = pt_integration("virustotal", "https://vt.example", VT_KEY, NULL, 0);
	struct provider_run run = { .in = &vt };
	cJSON *in = cJSON_CreateObject();
	char err[128] = "";
	cJSON *out;

	(void)state;
	assert_null(provider_run_action(&run, &echo, in, err, sizeof(err)));
	assert_string_equal(err, "echo: missing argument 'entity'");
	cJSON_AddStringToObject(in, "entity", "example.com");
	out = provider_run_action(&run, &echo, in, err, sizeof(err));
	assert_string_equal(cJSON_GetStringValue(out), "example.com");
	cJSON_Delete(out);
	cJSON_Delete(in);
}

/* ------------------------------------------- real curl on 127.0.0.1 */

struct server {
	int fd;
	int port;
	const char *reply;	/* the whole HTTP answer */
	GString *request;	/* what came */
	GThread *thread;
};

static bool request_complete(const GString *req)
{
	const char *end = strstr(req->str, "\r\n\r\n");
	const char *cl;

	if (end == NULL)
		return false;
	cl = strcasestr(req->str, "\r\nContent-Length:");
	if (cl == NULL || cl > end)
		return true;
	return req->len >= (size_t)(end + 4 - req->str) + strtoul(cl + 17, NULL, 10);
}

static gpointer serve_one(gpointer data)
{
	struct server *s = data;
	int conn = accept(s->fd, NULL, NULL);
	char buf[4096];
	ssize_t got;

	if (conn < 0)
		return NULL;
	while (!request_complete(s->request) && (got = read(conn, buf, sizeof(buf))) > 0)
		g_string_append_len(s->request, buf, got);
	if (s->reply != NULL)
		(void)!write(conn, s->reply, strlen(s->reply));
	else
		g_usleep(2 * G_USEC_PER_SEC);	/* never answers */
	close(conn);
	return NULL;
}

static void server_start(struct server *s, int type, const char *reply)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);

	s->fd = socket(AF_INET, type, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&addr, &len), 0);
	s->port = ntohs(addr.sin_port);
	s->reply = reply;
	s->request = g_string_new(NULL);
	if (type == SOCK_STREAM) {
		assert_int_equal(listen(s->fd, 1), 0);
		s->thread = g_thread_new("server", serve_one, s);
	}
}

/* Joins the server; returns what it received (g_free). */
static char *server_stop(struct server *s)
{
	if (s->thread != NULL)
		g_thread_join(s->thread);
	close(s->fd);
	return g_string_free(s->request, FALSE);
}

/* Sends req to a one-shot server answering reply; returns what the
 * server received (g_free) and fills ans. */
static char *exchange(const struct integration *in, struct http_request *req, const char *path,
		      const char *reply, struct provider_http_answer *ans)
{
	struct server s = { 0 };
	struct provider_run run = { .in = in };

	server_start(&s, SOCK_STREAM, reply);
	g_string_printf(req->url, "http://127.0.0.1:%d%s", s.port, path);
	provider_run_http(&run, req, ans);
	return server_stop(&s);	/* joins: the request is complete */
}

static void test_multipart_through_curl(void **state)
{
	struct integration md = pt_integration("metadefender", NULL, MD_KEY, NULL, 0);
	struct provider_http_answer ans = { 0 };
	struct http_request req;
	char *sent;

	(void)state;
	http_request_init(&req);
	http_request_json_headers(&req, "apikey", MD_KEY);
	http_request_add_part(&req, "file", "invoice.exe", "application/octet-stream",
			      "MZ\x90\x01\x03", 5);
	http_request_add_part(&req, "rule", NULL, NULL, "multiscan", 9);
	sent = exchange(&md, &req, "/v4/file",
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", &ans);
	assert_int_equal(ans.resp.status, 200);
	assert_string_equal(ans.resp.body, "{}");
	if (!g_str_has_prefix(sent, "POST /v4/file HTTP/1.1\r\n"))
		fail_msg("sent: %s", sent);
	assert_non_null(strstr(sent, "\r\napikey: " MD_KEY "\r\n"));
	assert_non_null(strstr(sent, "\r\nUser-Agent: threatmilter/" PACKAGE_VERSION "\r\n"));
	assert_non_null(strstr(sent, "Content-Type: multipart/form-data; boundary="));
	assert_null(strstr(sent, "Expect: 100-continue"));
	assert_non_null(strstr(sent, "Content-Disposition: form-data; name=\"file\"; "
				     "filename=\"invoice.exe\"\r\n"
				     "Content-Type: application/octet-stream\r\n\r\nMZ\x90\x01\x03\r\n"));
	assert_non_null(strstr(sent, "Content-Disposition: form-data; name=\"rule\"\r\n\r\n"
				     "multiscan\r\n"));
	g_free(sent);
	provider_http_answer_clear(&ans);
	http_request_clear(&req);
}

/* The rate-limit header is read only for the type that declares it, and
 * a huge value (Retry-After too) is capped. */
static void test_rate_limit_headers(void **state)
{
	struct integration md = pt_integration("metadefender", NULL, MD_KEY, NULL, 0);
	struct integration vt = pt_integration("virustotal", NULL, VT_KEY, NULL, 0);
	static const char reset[] = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n"
		"X-RateLimit-Reset-In: 30\r\nConnection: close\r\n\r\n{}";
	static const char huge[] = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n"
		"Retry-After: 9223372036854775807\r\nConnection: close\r\n\r\n{}";
	struct provider_http_answer ans = { 0 };
	struct http_request req;

	(void)state;
	http_request_init(&req);
	g_free(exchange(&md, &req, "/v4/ip/1.2.3.4", reset, &ans));
	assert_int_equal(ans.resp.status, 429);
	assert_int_equal(ans.resp.retry_after_s, 30);
	g_free(exchange(&vt, &req, "/api/v3/ip_addresses/1.2.3.4", reset, &ans));
	assert_int_equal(ans.resp.retry_after_s, -1);
	g_free(exchange(&vt, &req, "/api/v3/ip_addresses/1.2.3.4", huge, &ans));
	assert_true(ans.resp.retry_after_s > 0 && ans.resp.retry_after_s <= HTTP_RETRY_AFTER_MAX_S);
	provider_http_answer_clear(&ans);
	http_request_clear(&req);
}

/* A DNS server that never answers: the lookup ends as error/timeout
 * within the integration's Timeout (not c-ares's 1.5 x for two tries). */
static void test_dns_gives_up_at_timeout(void **state)
{
	struct server s = { 0 };
	struct integration zen = pt_integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct provider_run run = { .in = &zen };
	struct lookup *l = pt_lookup_new(&zen, INDICATOR_IP, "127.0.0.2");
	char servers[64];
	gint64 started;

	(void)state;
	server_start(&s, SOCK_DGRAM, NULL);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", s.port);
	zen.dns_servers = servers;
	zen.timeout_ms = 400;
	started = g_get_monotonic_time();
	assert_int_equal(provider_run_lookup(&run, l), ANSWER_TRANSIENT);
	/* one try plus the retry; each gives up within Timeout */
	assert_true(g_get_monotonic_time() - started < 2 * 400 * 1000 + 300 * 1000);
	pt_assert_result(l, LOOKUP_ERROR, "DNS timeout");
	assert_int_equal(l->result.error, LOOKUP_ERR_TIMEOUT);
	g_free(server_stop(&s));
	pt_lookup_del(l);
}

static int setup_curl(void **state)
{
	(void)state;
	return provider_runner_init() ? 0 : -1;
}

static int teardown_curl(void **state)
{
	(void)state;
	provider_runner_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runner_lookup_over_fake_http),
		cmocka_unit_test(test_runner_retries_once),
		cmocka_unit_test(test_runner_dns_over_fake),
		cmocka_unit_test(test_ping_action),
		cmocka_unit_test(test_action_arguments),
		cmocka_unit_test(test_multipart_through_curl),
		cmocka_unit_test(test_rate_limit_headers),
		cmocka_unit_test(test_dns_gives_up_at_timeout),
	};

	return cmocka_run_group_tests(tests, setup_curl, teardown_curl);
}
