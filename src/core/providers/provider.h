/* provider.h: the interface every provider type implements.
 *
 * A provider turns lookups into one request (HTTP or DNS) and the answer
 * into a status per lookup; the engine does everything else (concurrency,
 * single-flight, cache, rate limits, retries, circuit breaker, deadlines),
 * the same way for all of them. How a VirusTotal answer becomes a verdict
 * is therefore in providers/virustotal.c and nowhere else. */
#ifndef TM_PROVIDERS_PROVIDER_H
#define TM_PROVIDERS_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include <ares.h>

#include "config/integrations.h"
#include "lookup/lookup.h"
#include "providers/provider_http.h"
#include "providers/registry.h"

struct cJSON;
struct provider_run;

struct provider_job;	/* the jobs block, after struct provider_job_ops */

/* How a type is asked, one table per concern; each provider file keeps a
 * table next to the functions it names, and the type's row (registry.c)
 * points at the ones it has (struct provider_ops, registry.h). The
 * indicator kinds, uploads, actions and the Test Connection call are in
 * that row too, not here. */

/* HTTP providers: one request for a batch of lookups. */
struct provider_http_ops {
	/* Lookups in one request: 0 or 1: one; up to 500 for Safe Browsing. */
	unsigned max_batch;
	/* Fills req (url, headers, body) for batch[0..n-1]. */
	void (*build_request)(const struct integration *in,
			      struct lookup *const *batch, size_t n,
			      struct http_request *req);
	/* Sets batch[i]->result.status, .details and .ttl_s when the answer
	 * is decided, .error on every error or rate_limited result (the
	 * engine and the runner call it through provider_parse_http(),
	 * which fills any error kind left unset). NULL: a JSON API, read by
	 * provider_json_response() with the two below. */
	enum answer_class (*parse_response)(const struct integration *in,
					    struct lookup *const *batch, size_t n,
					    const struct http_response *resp);
	/* JSON APIs give these two instead of parse_response: error_response
	 * reads every answer but a 200 (falling back on
	 * provider_http_failure), json_verdict the JSON object of a 200 (a
	 * body that is no JSON object is already error/malformed). */
	enum answer_class (*error_response)(const struct integration *in,
					    struct lookup *const *batch, size_t n,
					    const struct http_response *resp);
	enum answer_class (*json_verdict)(const struct integration *in,
					  struct lookup *const *batch, size_t n,
					  const struct cJSON *json);
};

/* DNS providers: one query a lookup. */
struct provider_dns_ops {
	/* The name to query (g_malloc'd; may hold a DQS key, never logged). */
	char *(*name)(const struct integration *in, const struct lookup *lookup);
	/* The interpretation of the A records. */
	enum answer_class (*parse)(const struct integration *in,
				   struct lookup *lookup, int ares_status,
				   const struct ares_addrttl *addrs, int naddrs);
};

/* How often a job is polled (the engine's one schedule, jobs.c): the
 * integration's PollInterval first, for every type that has the key
 * (the upload types; each type's default is in integration_schema.c),
 * doubling up to max_s (0: the engine's 60 s) or PollInterval when that
 * is longer. first_s is the first interval of a type without the key
 * (0: the engine's 5 s); an upload type leaves it 0. A job that has not
 * finished after the integration's JobTimeout (10 min by default) ends
 * as error/timeout, never clean. */
struct provider_poll {
	unsigned first_s;
	unsigned max_s;
};

/* ---- jobs (sandboxes): a lookup of several requests over time ----
 * Owned by the engine helper; see struct provider_job below and
 * engine.h "Jobs". A provider with a job table is asked through it
 * instead of its HTTP table (with only_with_sample, only a lookup that
 * carries the file is; the rest stay one-shot). The engine calls
 * request for job->step (0 first: e.g. the hash lookup), sends the
 * request, and hands the answer to parse, which sets the lookup's result
 * and job->next:
 *   JOB_FINISHED    the result is final (decided or failed);
 *   JOB_STEP_NOW    build job->step (the provider set it) at once,
 *                   e.g. step 1 = upload after an unknown hash;
 *   JOB_POLL_LATER  submitted/running: poll (job->step) again after
 *                   job->poll_after_s, the provider's own word (a
 *                   Retry-After, an ETA its document names), else (0)
 *                   after the engine's schedule (poll above).
 * The answer class says what the request itself was (ANSWER_DECIDED
 * for any usable answer, pending included), for retries and the
 * breaker, as for one-shot providers. Each request of a job takes a
 * MaxInFlight slot and a RateLimit token (uploads count). Once the job
 * is submitted (its first JOB_POLL_LATER), a request the budget refuses
 * or the provider answers with ANSWER_QUOTA (429) does not end it: the
 * engine sends the same job->step again when the budget allows, so a
 * parse must leave job->step as it was on such an answer. The same for
 * an ANSWER_TRANSIENT answer to a submitted job (5xx after the engine's
 * retry, no answer, a malformed body): the analysis goes on at the
 * provider, so the engine keeps the job's last decided result and sends
 * job->step again after its schedule's next pause, until JobTimeout.
 *
 * "The provider knows it and is still analysing it" (VMRay's
 * not_available, a running FortiSandbox scan, OPSWAT's progress under
 * 100, VirusTotal's NotAvailableYet, a running ANY.RUN task) is never an
 * unknown: the parse answers LOOKUP_PENDING with JOB_POLL_LATER (the
 * step that will tell the verdict), so the job ends with the verdict,
 * which then goes into the cache, and the messages meanwhile get
 * `pending`. A one-shot parse answers LOOKUP_PENDING, which the engine
 * never caches (an unknown is cached for up to an hour). Lookups of a
 * job-based type are never batched. */
struct provider_job_ops {
	void (*request)(const struct integration *in, const struct lookup *lookup,
			const struct provider_job *job, struct http_request *req);
	enum answer_class (*parse)(const struct integration *in, struct lookup *lookup,
				   struct provider_job *job, const struct http_response *resp);
	struct provider_poll poll;
	/* Only a lookup with a sample (an upload may follow) is a job; the
	 * others go through the HTTP table, one-shot, and are dropped unsent
	 * when every waiter has gone (VirusTotal: URLs, domains, IPs, hashes
	 * it may not upload). */
	bool only_with_sample;
};

/* ---- sessions (FortiSandbox): log in once, reuse the token ----
 * For job-based providers. With a session table, the engine logs the
 * integration in before its first request and keeps the token (per
 * integration name, across reloads) for every later request: the job's
 * request and parse find it in job->session. A parse that sees the
 * token refused sets job->next = JOB_RELOGIN: the engine logs in again,
 * once, and sends the same step again; a second refusal ends the lookup
 * as error/auth. A refused login ends the waiting lookups as error/auth
 * and pauses the integration as for ANSWER_AUTH. The login takes no
 * RateLimit token. */
struct provider_session_ops {
	/* A provider whose login has several body forms (FortiSandbox by
	 * firmware version) sets forms: the engine sends form `form` (0
	 * first, then the one that last worked for this integration name);
	 * a refused login whose *other_form the parser set is tried once
	 * more in the next form. */
	void (*login)(const struct integration *in, unsigned form, struct http_request *req);
	/* The token of a login answer (g_malloc'd), or NULL when the login
	 * failed, with the reason (never the password) in err and
	 * *other_form true when another body form may work. */
	char *(*parse_login)(const struct integration *in, const struct http_response *resp,
			     bool *other_form, char *err, size_t errlen);
	unsigned forms;		/* 0 or 1: one form */
};

/* ---- jobs: the state of one multi-step lookup (see provider_job_ops) ---- */
enum job_next {
	JOB_FINISHED,		/* the lookup's result is final */
	JOB_STEP_NOW,		/* send job->step now */
	JOB_POLL_LATER,		/* send job->step after job->poll_after_s */
	JOB_RELOGIN,		/* the session token was refused: log in
				 * again (once) and send job->step again */
};

struct provider_job {
	unsigned step;		/* the request to build: 0 first, then what
				 * the job table's parse sets (provider-defined numbers) */
	char *id;		/* the provider's job/submission id, g_malloc'd
				 * by its parse (g_free'd by the engine) */
	unsigned poll_after_s;	/* hint for JOB_POLL_LATER; 0: engine back-off */
	enum job_next next;	/* set by every parse */
	unsigned polls;		/* polls so far (engine-maintained) */
	const char *session;	/* the integration's session token (providers
				 * with a session table), set by the engine; a
				 * secret: never logged */
};

/* ---- actions: named admin operations (threatmilterctl) ---- */

/* One argument of an action ("entity", "threshold"). */
struct provider_action_arg {
	const char *name;
	const char *help;
	bool required;
};

/* An action runs synchronously (sync_runner.h) with the integration's
 * Timeout, VerifySSL, Proxy and CA file; args is a JSON object of the
 * arg spec's names (strings unless the action says otherwise); the answer
 * is a JSON value the caller owns (cJSON_Delete), or NULL with a message
 * for the administrator in err (no key in it). */
struct provider_action {
	const char *name;		/* "ping", "domain", "classify" */
	const char *help;		/* one line for --help */
	const struct provider_action_arg *args;	/* { NULL } terminated; NULL: none */
	struct cJSON *(*run)(const struct provider_run *run, const struct cJSON *args,
			     char *err, size_t errlen);
};

/* "ping": the type's Test Connection call; answers
 * {"ok":bool,"kind":"ip","indicator":"8.8.8.8","status":"clean",
 *  "error":"","details":"...","latency_ms":n}; NULL (err set) only when
 * the type cannot be tested. sync_runner.c. */
extern const struct provider_action provider_action_ping;

/* ---- helpers shared by the providers (provider_util.c) ---- */

/* Sets status and details (printf-style) of one lookup; error becomes
 * LOOKUP_ERR_NONE for a decided status, LOOKUP_ERR_QUOTA for
 * rate_limited and LOOKUP_ERR_PROVIDER for error (use provider_fail for
 * another kind). */
void provider_set_result(struct lookup *lookup, enum lookup_status status,
			 const char *details_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets an error or rate_limited result with its error kind. */
void provider_fail(struct lookup *lookup, enum lookup_status status, enum lookup_error error,
		   const char *details_fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The error kind an answer class implies for a failed lookup (transient:
 * provider; auth; quota; permanent: provider). */
enum lookup_error provider_class_error(enum answer_class class);
/* The type's reading of an HTTP answer: its parse_response, or
 * provider_json_response() for a JSON API (none given). As it is. */
enum answer_class provider_parse_answer(const struct integration *in,
					struct lookup *const *batch, size_t n,
					const struct http_response *resp);
/* Runs provider_parse_answer(), or the status ladder when no HTTP answer
 * came; then gives every error/rate_limited lookup without an error kind
 * the one its class implies. What the engine and the runner call. */
enum answer_class provider_parse_http(const struct integration *in,
				      struct lookup *const *batch, size_t n,
				      const struct http_response *resp);
/* The reading of the JSON APIs: a non-200 answer to
 * http->error_response, a 200 parsed (provider_parse_json) and handed to
 * http->json_verdict. Returns their class (ANSWER_TRANSIENT when the body
 * is no JSON object). */
enum answer_class provider_json_response(const struct integration *in,
					 struct lookup *const *batch, size_t n,
					 const struct http_response *resp);
/* Sets req->url to "<API root>/<path>/<segment>" (the root without its
 * trailing slashes; segment as given, escape it first where needed). */
void provider_set_url(struct http_request *req, const struct integration *in, const char *path,
		      const char *segment);
/* Percent-encodes every byte outside RFC 3986 unreserved. g_malloc'd. */
char *provider_uri_escape(const char *text);
/* A provider's own error text fit for a details text (and so a header):
 * at most max bytes, controls and non-ASCII bytes as spaces. NULL for
 * NULL or "". g_malloc'd. */
char *provider_printable(const char *text, size_t max);
/* Test Connection predicates: any verdict (malicious..unknown) counts;
 * only "malicious" counts (a permanent test listing). */
bool provider_test_decided(const struct lookup *lookup);
bool provider_test_listed(const struct lookup *lookup);

/* A provider's own reading of one HTTP error status (X-Force's 402,
 * OPSWAT's 403 "not in the licence"...), ahead of the common ladder. */
struct provider_status_rule {
	long status;
	enum lookup_status result;	/* its error kind as provider_set_result() */
	const char *details;
	enum answer_class class;
};
/* A JSON API's error answer: the rule of rules[0..nrules-1] for its
 * status, else provider_http_failure(); a 400's details then carry the
 * provider's error envelope message ("HTTP 400: <message>"). Sets every
 * lookup of the batch; returns the answer class. */
enum answer_class provider_http_error(struct lookup *const *batch, size_t n,
				      const struct http_response *resp,
				      const struct provider_status_rule *rules, size_t nrules);

/* Google APIs (Safe Browsing, Web Risk) share threat types and errors. */
/* MALWARE and SOCIAL_ENGINEERING (and its extended coverage) are
 * malicious; UNWANTED_SOFTWARE, POTENTIALLY_HARMFUL_APPLICATION and any
 * list Google adds later suspicious; LOOKUP_ERROR when the text is not
 * a threat type name at all (UPPER_SNAKE_CASE). */
enum lookup_status provider_google_threat_status(const char *threat_type);
/* A non-200 answer in Google's error envelope: 400 with reason
 * API_KEY_INVALID is a refused key (ANSWER_AUTH); the rest as
 * provider_http_failure(). Details add Google's status and message, with
 * the integration's key scrubbed out. */
enum answer_class provider_google_failure(const struct integration *in,
					  struct lookup *const *batch, size_t n,
					  const struct http_response *resp);

/* ---- the provider implementations (one file each), by concern ---- */
extern const struct provider_dns_ops spamhaus_dns;
extern const struct provider_http_ops virustotal_http;
extern const struct provider_job_ops virustotal_job;
extern const struct provider_http_ops safebrowsing_http;
extern const struct provider_http_ops webrisk_http;
extern const struct provider_http_ops xforce_http;
extern const struct provider_http_ops metadefender_http;
extern const struct provider_job_ops metadefender_job;
extern const struct provider_http_ops apivoid_http;
extern const struct provider_http_ops cyberxray_http;
extern const struct provider_job_ops cyberxray_job;
extern const struct provider_http_ops anyrun_http;
extern const struct provider_job_ops anyrun_job;
extern const struct provider_job_ops fortisandbox_job;
extern const struct provider_session_ops fortisandbox_session;
extern const struct provider_job_ops vmray_job;
/* threatmilterctl apivoid: ip, domain, url, email, screenshot, ping
 * (apivoid_actions.c), NULL-terminated. */
extern const struct provider_action *const apivoid_actions[];
/* FortiSandbox: its own ping, login and logout (fortisandbox_rpc.c). */
extern const struct provider_action *const fortisandbox_actions[];
/* VMRay: its Test Connection, GET /rest/analysis?_limit=1 (vmray.c). */
extern const struct provider_action *const vmray_actions[];
/* IRONSCALES: admin actions only, no lookups (ironscales.c, ironscales.h). */
extern const struct provider_action *const ironscales_actions[];

#endif
