/* provider_http.h: what every HTTP provider does the same way — the
 * request as data (URL, headers, body or multipart parts), applying it to
 * a curl easy handle, reading the answer back, the status ladder, the
 * providers' error envelopes and JSON bodies.
 *
 * The engine (curl multi) and the synchronous runner (sync_runner.c) both
 * turn a struct http_request into a transfer with http_request_to_easy()
 * and the finished transfer into a struct http_response with
 * http_response_from_easy(), so a request is sent the same way whoever
 * sends it. */
#ifndef TM_PROVIDERS_PROVIDER_HTTP_H
#define TM_PROVIDERS_PROVIDER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include <curl/curl.h>

#include "lookup/lookup.h"

struct integration;
struct cJSON;

/* One part of a multipart/form-data body (uploads). Exactly one of
 * data (len bytes, not copied until http_request_to_easy) or path (a file
 * read by curl while sending) is set. Strings are g_malloc'd. */
struct http_part {
	char *name;		/* form field name: "file", "analyzer_mode" */
	char *filename;		/* NULL: a plain field */
	char *content_type;	/* NULL: curl's default */
	GBytes *data;
	char *path;
};

struct http_request {
	const char *method;	/* "GET", "POST", "PUT", "DELETE" (static) */
	GString *url;		/* may hold a key (Google): never logged */
	GPtrArray *headers;	/* "Name: value" (g_free'd); may hold a key */
	GString *body;		/* NULL: no body */
	char *basic_auth;	/* "user:password" (X-Force) or NULL */
	GPtrArray *parts;	/* struct http_part *; NULL: no multipart body */
};

struct http_response {
	long status;		/* 0: no HTTP answer (see transport_error) */
	const char *body;	/* NUL terminated */
	size_t body_len;
	long retry_after_s;	/* Retry-After in seconds, -1 when absent */
	const char *transport_error;	/* NULL when an answer came */
	bool timed_out;		/* transport_error is our Timeout */
};

/* The longest pause an answer's Retry-After (or rate-limit header) may
 * ask for, in seconds: a larger value is read as this one (a huge value
 * would overflow * 1000 and park the integration until restart). */
#define HTTP_RETRY_AFTER_MAX_S 86400L

/* What an answer (HTTP or DNS) means for retries and the circuit breaker. */
enum answer_class {
	ANSWER_DECIDED,		/* every lookup got malicious..unknown */
	ANSWER_TRANSIENT,	/* 5xx, transport, garbage: retry once, a failure */
	ANSWER_PERMANENT,	/* wrong for this indicator (400): error, no retry */
	ANSWER_AUTH,		/* key refused: error, the breaker opens */
	ANSWER_QUOTA,		/* provider quota or rate limit: rate_limited */
};

/* ---- the request ---- */

/* Empties req and sets method "GET", a new url and header array. */
void http_request_init(struct http_request *req);
/* Frees what req holds (url, headers, body, auth, parts); req itself is
 * the caller's. The key-bearing strings are wiped first. */
void http_request_clear(struct http_request *req);
/* Adds "Accept: application/json" and, when key_header is not NULL, the
 * header "<key_header>: <key>" (empty value for a NULL key). */
void http_request_json_headers(struct http_request *req, const char *key_header,
			       const char *key);
/* Adds a multipart field (filename NULL) or file part from memory; the
 * bytes are copied. Method becomes POST. */
void http_request_add_part(struct http_request *req, const char *name, const char *filename,
			   const char *content_type, const void *data, size_t len);
/* Adds a file part read from path while sending (a spooled attachment). */
void http_request_add_file_part(struct http_request *req, const char *name,
				const char *filename, const char *content_type,
				const char *path);
/* Adds every member of fields (a JSON object) as a multipart form field,
 * in their order: a string as its text, anything else as its JSON text
 * (64 -> "64", true -> "true"). Method becomes POST. */
void http_request_add_fields(struct http_request *req, const struct cJSON *fields);

/* Appends to object, in their order, the members of fixed: the fixed
 * parameters of a request as its document writes them, a JSON object
 * text (a constant of the provider, beside the section it quotes), so
 * that they read as data and only the varying ones as code. A member
 * written null stands for a value the caller puts in its place
 * afterwards (cJSON_ReplaceItemInObjectCaseSensitive keeps the place):
 * the body keeps the document's order. A fixed that is not a JSON object
 * is a bug of the provider: g_error() (the unit tests send every one). */
void provider_json_add_fixed(struct cJSON *object, const char *fixed);

/* What http_request_to_easy() allocated for one transfer; the caller
 * keeps it until the transfer is over, then calls http_easy_hold_free(). */
struct http_easy_hold {
	struct curl_slist *headers;
	curl_mime *mime;
};

/* Sets on easy what the request and the integration decide: URL, method,
 * headers (+ an empty "Expect:" for bodies), JSON/text body or the
 * multipart parts (curl_mime_*), basic auth, Timeout (timeout_ms, total
 * and connect), VerifySSL, Proxy ("none" also ignores the environment),
 * ca_file (NULL: the system's), User-Agent, http/https only, any
 * Accept-Encoding, no signals. Not set here: CURLOPT_PRIVATE, the write
 * callback, the error buffer, share, HTTP version, PIPEWAIT (the caller's
 * transport). hold receives the header list and mime (free with
 * http_easy_hold_free() after the transfer, also on error). Returns
 * CURLE_OK, or the first curl error (a part's file missing, no memory). */
CURLcode http_request_to_easy(CURL *easy, const struct http_request *req,
			      const struct integration *in, const char *ca_file,
			      long timeout_ms, struct http_easy_hold *hold);
void http_easy_hold_free(struct http_easy_hold *hold);

/* Fills resp from a finished transfer: status, Retry-After (capped at
 * HTTP_RETRY_AFTER_MAX_S) or, on an error status, the seconds of
 * reset_header (the type's rate_limit_reset_header; NULL: none), the
 * transport error (errbuf when set, else curl's text; "timeout" for
 * CURLE_OPERATION_TIMEDOUT), and body. resp points into errbuf and body:
 * keep them while resp is used. */
void http_response_from_easy(CURL *easy, CURLcode code, const char *errbuf,
			     const GString *body, const char *reset_header,
			     struct http_response *resp);

/* ---- the answer ---- */

/* The API root of the integration without a trailing slash. */
const char *provider_api_root(const struct integration *in, char *buf, size_t len);

/* The status ladder every HTTP provider shares, for the statuses it does
 * not read itself: transport -> error/transport (timeout: error/timeout),
 * 401/403 -> error/auth, 429 -> rate_limited/quota, 5xx -> error/provider,
 * other 4xx -> error/provider (permanent). A provider's error envelope
 * (provider_error_envelope) is added to the details. Sets every lookup of
 * the batch; details name the status, never the request URL. Returns the
 * answer class. */
enum answer_class provider_http_failure(struct lookup *const *batch, size_t n,
					const struct http_response *resp);

/* A provider's error envelope, read generically:
 *   {"error":{"code":"NotFoundError","message":"..."}}        VirusTotal
 *   {"error":{"code":400,"message":"...","status":"INVALID_ARGUMENT"}} Google
 *   {"error":{"code":404001,"messages":["..."]}}              MetaDefender
 *   {"error":"Not authorized."}                                X-Force
 * code: the string code or Google's status name (NULL when absent);
 * message: printable, at most 200 bytes. Both g_malloc'd (free with
 * g_free). False, and both NULL, when the body is no such envelope. */
bool provider_error_envelope(const struct http_response *resp, char **code, char **message);

/* Parses the body as a JSON object; NULL (and every lookup set to
 * error/malformed "malformed answer") when it is not. Free with
 * cJSON_Delete. */
struct cJSON *provider_parse_json(struct lookup *const *batch, size_t n,
				  const struct http_response *resp);

#endif
