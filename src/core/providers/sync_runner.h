/* sync_runner.h: one provider request at a time, without the engine —
 * for `threatmilter test` (Test Connection) and threatmilterctl's actions.
 *
 * The request is the provider's own (its HTTP or DNS table, provider.h),
 * sent with the integration's Timeout, VerifySSL and Proxy and the
 * configuration's CA file through the same http_request_to_easy() as the
 * engine, and read by the same table. Blocking: never call
 * it from a milter thread or the engine thread. Thread-safe for distinct
 * lookups (one curl easy / c-ares channel per call). */
#ifndef TM_PROVIDERS_SYNC_RUNNER_H
#define TM_PROVIDERS_SYNC_RUNNER_H

#include <stdbool.h>
#include <curl/curl.h>
#include <ares.h>
#include <glib.h>

#include "providers/provider.h"

/* The answer to one synchronous HTTP request. resp points into body and
 * errbuf; free with provider_http_answer_clear(). */
struct provider_http_answer {
	struct http_response resp;
	GString *body;
	char errbuf[CURL_ERROR_SIZE];
};

/* Where and how to run. Tests replace the network with the fake_*
 * functions (NULL: curl and c-ares). */
struct provider_run {
	const struct integration *in;
	const char *ca_file;		/* CACertFile; NULL: the system's */
	/* Fills ans->resp (status or transport_error) and ans->body. */
	void (*fake_http)(void *ctx, const struct http_request *req,
			  struct provider_http_answer *ans);
	/* Sets *ares_status and up to *naddrs records (in: capacity). */
	void (*fake_dns)(void *ctx, const char *name, int *ares_status,
			 struct ares_addrttl *addrs, int *naddrs);
	void *fake_ctx;
};

/* Initialises libcurl and c-ares for the runner: once per process, before
 * any thread runs a request. False when either fails. Undo with
 * provider_runner_cleanup() after the last request. */
bool provider_runner_init(void);
void provider_runner_cleanup(void);

/* Sends req once (the integration's Timeout, total) and fills ans (the
 * caller's, any content is replaced). Returns true when an HTTP answer
 * came (any status), false on a transport error or timeout (text in
 * ans->resp.transport_error, timed_out set for a timeout). */
bool provider_run_http(const struct provider_run *run, const struct http_request *req,
		       struct provider_http_answer *ans);
void provider_http_answer_clear(struct provider_http_answer *ans);

/* One lookup of the integration (lookup->integration must be run->in),
 * HTTP or DNS as its type says: sets lookup->result (status, error,
 * details, latency_ms) and returns the answer's class. Retries once on a
 * transient failure while at least half the Timeout is left, like the
 * engine. A type without lookups: error/provider "not implemented"; a
 * job-based type (sandbox, provider.h "jobs"): error/provider. */
enum answer_class provider_run_lookup(const struct provider_run *run, struct lookup *lookup);

/* Runs the action (provider.h) of run->in's type: args is a JSON object
 * (NULL: none). Checks the required arguments first. Returns the action's
 * JSON answer (caller frees with cJSON_Delete) or NULL with err set. */
struct cJSON *provider_run_action(const struct provider_run *run,
				  const struct provider_action *action,
				  const struct cJSON *args, char *err, size_t errlen);

#endif
