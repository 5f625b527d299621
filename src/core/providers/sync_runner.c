/* sync_runner.c: one provider request without the engine (sync_runner.h):
 * curl easy for HTTP, a blocking c-ares query for DNS, and the actions. */
#include "providers/sync_runner.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/nameser.h>
#include <cjson/cJSON.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long timeout_of(const struct integration *in)
{
	return in->timeout_ms > 0 ? (long)in->timeout_ms : 5000;
}

bool provider_runner_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return false;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		curl_global_cleanup();
		return false;
	}
	return true;
}

void provider_runner_cleanup(void)
{
	ares_library_cleanup();
	curl_global_cleanup();
}

/* ---------------------------------------------------------------- HTTP */

static size_t collect_body(char *data, size_t size, size_t nmemb, void *user)
{
	g_string_append_len(user, data, (gssize)(size * nmemb));
	return size * nmemb;
}

void provider_http_answer_clear(struct provider_http_answer *ans)
{
	if (ans->body != NULL)
		g_string_free(ans->body, TRUE);
	memset(ans, 0, sizeof(*ans));
}

static void answer_reset(struct provider_http_answer *ans)
{
	if (ans->body == NULL)
		ans->body = g_string_new(NULL);
	g_string_truncate(ans->body, 0);
	ans->errbuf[0] = '\0';
	memset(&ans->resp, 0, sizeof(ans->resp));
	ans->resp.retry_after_s = -1;
}

bool provider_run_http(const struct provider_run *run, const struct http_request *req,
		       struct provider_http_answer *ans)
{
	const struct integration *in = run->in;
	struct http_easy_hold hold;
	CURLcode code;
	CURL *easy;

	answer_reset(ans);
	if (run->fake_http != NULL) {
		run->fake_http(run->fake_ctx, req, ans);
		ans->resp.body = ans->body->str;
		ans->resp.body_len = ans->body->len;
		return ans->resp.status != 0;
	}
	easy = curl_easy_init();
	if (easy == NULL) {
		ans->resp.transport_error = "out of memory";
		return false;
	}
	code = http_request_to_easy(easy, req, in, run->ca_file, timeout_of(in), &hold);
	if (code == CURLE_OK) {
		curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
		curl_easy_setopt(easy, CURLOPT_WRITEDATA, ans->body);
		curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, ans->errbuf);
		code = curl_easy_perform(easy);
	}
	http_response_from_easy(easy, code, ans->errbuf, ans->body,
				in->type ? in->type->rate_limit_reset_header : NULL, &ans->resp);
	http_easy_hold_free(&hold);
	curl_easy_cleanup(easy);
	return ans->resp.status != 0;
}

static enum answer_class http_lookup(const struct provider_run *run, struct lookup *lookup)
{
	const struct integration *in = run->in;
	struct lookup *batch[1] = { lookup };
	struct provider_http_answer ans = { 0 };
	struct http_request req;
	enum answer_class class;

	http_request_init(&req);
	in->type->ops.http->build_request(in, batch, 1, &req);
	provider_run_http(run, &req, &ans);
	class = provider_parse_http(in, batch, 1, &ans.resp);
	provider_http_answer_clear(&ans);
	http_request_clear(&req);
	return class;
}

/* ----------------------------------------------------------------- DNS */

struct dns_answer {
	bool done;
	int status;
	struct ares_addrttl addrs[16];
	int naddrs;
};

static void dns_callback(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_answer *answer = arg;

	(void)timeouts;
	answer->done = true;
	answer->status = status;
	if (status == ARES_SUCCESS) {
		answer->naddrs = G_N_ELEMENTS(answer->addrs);
		answer->status = ares_parse_a_reply(abuf, alen, NULL, answer->addrs,
						    &answer->naddrs);
		if (answer->status != ARES_SUCCESS)
			answer->naddrs = 0;
	}
}

/* Drives the channel until the answer or the deadline (ARES_ETIMEOUT). */
static void dns_wait(ares_channel channel, struct dns_answer *answer, int64_t deadline)
{
	while (!answer->done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		/* c-ares's ARES_GETSOCK_WRITABLE shifts a signed 1 by up to 31
		 * places (undefined behaviour): test the bits unsigned */
		unsigned bits = (unsigned)ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
		nfds_t n = 0;
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			ares_cancel(channel);	/* calls back with ARES_ECANCELLED */
			answer->done = true;
			answer->status = ARES_ETIMEOUT;
			answer->naddrs = 0;
			return;
		}
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			bool readable = bits & (1u << i);
			bool writable = bits & (1u << (i + ARES_GETSOCK_MAXNUM));

			if (!readable && !writable)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
			pfd[n].revents = 0;
			n++;
		}
		/* c-ares's own retry timer, at most 100 ms apart */
		poll(pfd, n, (int)MIN(left, 100));
		for (nfds_t i = 0; i < n; i++)
			ares_process_fd(channel,
					pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd
										 : ARES_SOCKET_BAD,
					pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
		if (n == 0 || !answer->done)
			ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	}
}

static void dns_query(const struct provider_run *run, const char *name, struct dns_answer *answer)
{
	const struct integration *in = run->in;
	long timeout = timeout_of(in);
	struct ares_options opts = {
		.timeout = (int)(timeout / 2 > 0 ? timeout / 2 : 1),
		.tries = 2,
		/* the real rcode (SERVFAIL, REFUSED), as the engine asks it */
		.flags = ARES_FLAG_NOCHECKRESP,
	};
	ares_channel channel;

	if (run->fake_dns != NULL) {
		answer->naddrs = G_N_ELEMENTS(answer->addrs);
		run->fake_dns(run->fake_ctx, name, &answer->status, answer->addrs, &answer->naddrs);
		return;
	}
	answer->status = ares_init_options(&channel, &opts,
					   ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
	if (answer->status != ARES_SUCCESS)
		return;
	if (in->dns_servers != NULL && *in->dns_servers != '\0')
		answer->status = ares_set_servers_ports_csv(channel, in->dns_servers);
	if (answer->status == ARES_SUCCESS) {
		ares_query(channel, name, ns_c_in, ns_t_a, dns_callback, answer);
		dns_wait(channel, answer, now_ms() + timeout);
	}
	ares_destroy(channel);
}

static enum answer_class dns_lookup(const struct provider_run *run, struct lookup *lookup)
{
	const struct provider_dns_ops *dns = run->in->type->ops.dns;
	struct dns_answer answer = { 0 };
	char *name = dns->name(run->in, lookup);

	if (name == NULL) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "cannot be asked over DNS");
		return ANSWER_PERMANENT;
	}
	dns_query(run, name, &answer);
	memset(name, 0, strlen(name));	/* may hold a DQS key */
	g_free(name);
	return dns->parse(run->in, lookup, answer.status, answer.addrs, answer.naddrs);
}

/* -------------------------------------------------------------- lookups */

enum answer_class provider_run_lookup(const struct provider_run *run, struct lookup *lookup)
{
	const struct provider_type *type = run->in->type;
	int64_t started = now_ms();
	enum answer_class class;

	if (!provider_asks(type)) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER, "not implemented");
		return ANSWER_PERMANENT;
	}
	/* a job-based provider (sandbox) needs the engine's polling */
	if (type->ops.http == NULL && type->ops.dns == NULL) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER,
			      "a submission: not one request");
		return ANSWER_PERMANENT;
	}
	for (int attempt = 0;; attempt++) {
		class = type->ops.dns != NULL ? dns_lookup(run, lookup) : http_lookup(run, lookup);
		if (class != ANSWER_TRANSIENT || attempt > 0 ||
		    now_ms() - started >= timeout_of(run->in) / 2)
			break;
	}
	lookup->result.latency_ms = (unsigned)(now_ms() - started);
	return class;
}

/* -------------------------------------------------------------- actions */

cJSON *provider_run_action(const struct provider_run *run, const struct provider_action *action,
			   const cJSON *args, char *err, size_t errlen)
{
	for (const struct provider_action_arg *arg = action->args; arg && arg->name; arg++) {
		if (arg->required && cJSON_GetObjectItemCaseSensitive(args, arg->name) == NULL) {
			snprintf(err, errlen, "%s: missing argument '%s'", action->name, arg->name);
			return NULL;
		}
	}
	return action->run(run, args, err, errlen);
}

static cJSON *ping_run(const struct provider_run *run, const cJSON *args, char *err,
		       size_t errlen)
{
	const struct provider_test *test = &run->in->type->test;
	struct lookup lookup = {
		.integration = run->in,
		.kind = test->kind,
		.indicator = (char *)test->indicator,
		.result.status = LOOKUP_SKIPPED,
	};
	cJSON *out;

	(void)args;
	if (test->ok == NULL || !provider_asks(run->in->type)) {
		snprintf(err, errlen, "%s cannot be tested: not implemented yet",
			 run->in->type->display_name);
		return NULL;
	}
	provider_run_lookup(run, &lookup);
	out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "ok", test->ok(&lookup));
	cJSON_AddStringToObject(out, "kind", indicator_kind_name(lookup.kind));
	cJSON_AddStringToObject(out, "indicator", lookup.indicator);
	cJSON_AddStringToObject(out, "status", lookup_status_name(lookup.result.status));
	cJSON_AddStringToObject(out, "error", lookup_error_name(lookup.result.error));
	cJSON_AddStringToObject(out, "details", lookup.result.details ? lookup.result.details : "");
	cJSON_AddNumberToObject(out, "latency_ms", lookup.result.latency_ms);
	g_free(lookup.result.details);
	return out;
}

const struct provider_action provider_action_ping = {
	.name = "ping",
	.help = "Test Connection: the type's cheapest lookup with this integration's key",
	.run = ping_run,
};
