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

struct provider_ops {
	/* Lookups in one request: 1, or up to 500 for Safe Browsing. The
	 * indicator kinds, uploads, actions and the Test Connection call are
	 * in the type's table (registry.h), not here. */
	unsigned max_batch;

	/* HTTP providers. build_request fills req (url, headers, body) for
	 * batch[0..n-1]; parse_response sets batch[i]->result.status, .details
	 * and .ttl_s when the answer is decided, .error on every error or
	 * rate_limited result (the engine and the runner call it through
	 * provider_parse_http(), which fills any error kind left unset). */
	void (*build_request)(const struct integration *in,
			      struct lookup *const *batch, size_t n,
			      struct http_request *req);
	enum answer_class (*parse_response)(const struct integration *in,
					    struct lookup *const *batch, size_t n,
					    const struct http_response *resp);
	/* JSON APIs set parse_response = provider_json_response and give
	 * these two instead: error_response reads every answer but a 200
	 * (falling back on provider_http_failure), json_verdict the JSON
	 * object of a 200 (a body that is no JSON object is already
	 * error/malformed). */
	enum answer_class (*error_response)(const struct integration *in,
					    struct lookup *const *batch, size_t n,
					    const struct http_response *resp);
	enum answer_class (*json_verdict)(const struct integration *in,
					  struct lookup *const *batch, size_t n,
					  const struct cJSON *json);

	/* DNS providers: the name to query (g_malloc'd; may hold a DQS key,
	 * never logged) and the interpretation of the A records. */
	char *(*dns_name)(const struct integration *in, const struct lookup *lookup);
	enum answer_class (*parse_dns)(const struct integration *in,
				       struct lookup *lookup, int ares_status,
				       const struct ares_addrttl *addrs, int naddrs);

	/* ---- jobs and sessions (the engine's block, appended below) ---- */
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
	const struct provider_action_arg *args;	/* { NULL } terminated */
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
/* Runs ops->parse_response, or the status ladder when no HTTP answer
 * came; then gives every error/rate_limited lookup without an error kind
 * the one its class implies. What the engine and the runner call. */
enum answer_class provider_parse_http(const struct integration *in,
				      struct lookup *const *batch, size_t n,
				      const struct http_response *resp);
/* parse_response of the JSON APIs: a non-200 answer to
 * ops->error_response, a 200 parsed (provider_parse_json) and handed to
 * ops->json_verdict. Returns their class (ANSWER_TRANSIENT when the body
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

/* ---- the provider implementations (one file each) ---- */
extern const struct provider_ops spamhaus_ops;
extern const struct provider_ops virustotal_ops;
extern const struct provider_ops safebrowsing_ops;
extern const struct provider_ops webrisk_ops;
extern const struct provider_ops xforce_ops;
extern const struct provider_ops metadefender_ops;
extern const struct provider_ops apivoid_ops;
extern const struct provider_ops cyberxray_ops;
/* threatmilterctl apivoid: ip, domain, url, email, screenshot, ping
 * (apivoid_actions.c), NULL-terminated. */
extern const struct provider_action *const apivoid_actions[];

#endif
