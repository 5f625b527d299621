/* ironscales.h: the IRONSCALES AppAPI client shared by the IRONSCALES
 * actions (../shared/providers/ironscales.md; the seed's actions are in
 * ../shared/seeds/004_*.txt).
 *
 * IRONSCALES has no indicator lookups: its integration only serves admin
 * actions (threatmilterctl ironscales ...), run by the synchronous runner
 * (sync_runner.h). Every action opens one session: the API token is
 * exchanged for a JWT on the first call and the JWT is reused for every
 * further call of the session until the API refuses it (401/403); then
 * one new exchange and the call again (§2, "Token lifetime").
 *
 * What every action answers (a JSON object, the caller frees it):
 *   {"messages": ["<line>", ...],   the seed's output messages, in order
 *                                   (progress lines included)
 *    "result": <JSON>}              the seed's JSON result, or null
 * A failure that stops the action (the seed: "should fail and stop a
 * playbook execution") is NULL with the seed's failure message in err.
 * No message or result ever holds the API token or the JWT. */
#ifndef TM_PROVIDERS_IRONSCALES_H
#define TM_PROVIDERS_IRONSCALES_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct cJSON;
struct provider_run;

/* The seed's "Period" list (§1): labels in order, API values 0..6. */
#define IRONSCALES_PERIODS 7
/* The API value of a period label (case-insensitive, exactly one of the
 * seed's labels: "Last 24 hours" ... "All time"), or -1. */
int ironscales_period_find(const char *label);
/* The label of API value period (0..6); NULL outside. */
const char *ironscales_period_label(int period);

/* Parses "1001, 1002,1003" (the seed's comma-separated Incident IDs):
 * decimal ids of at most 15 digits (exact as JSON numbers), blanks around them ignored, empty
 * items, duplicates and an empty list refused. Returns a GPtrArray of g_malloc'd id
 * strings (free with g_ptr_array_unref), or NULL with the reason in err. */
GPtrArray *ironscales_parse_ids(const char *csv, char *err, size_t errlen);

/* Longest pause the client makes for one throttled answer (HTTP 429 with
 * Retry-After or "Expected available in N seconds"), in seconds: the
 * AppAPI allows 120 calls per minute and company (§4). A longer wait is
 * reported as a failure instead. */
#define IRONSCALES_MAX_WAIT_S 60

/* One action's connection to the AppAPI. */
struct ironscales_session {
	const struct provider_run *run;
	GString *root;		/* "<APIURL>/appapi/" */
	char *jwt;		/* NULL until exchanged; wiped when dropped */
	GPtrArray *notes;	/* char *: what the action should tell (waits) */
	unsigned calls;		/* requests sent, token exchanges included */
	unsigned exchanges;	/* token exchanges */
};

/* Starts a session for run->in (APIURL, APIKey, CompanyID, IsPartner).
 * Returns false with the reason in err when the integration lacks one of
 * them (then nothing needs clearing). */
bool ironscales_session_init(struct ironscales_session *s, const struct provider_run *run,
			     char *err, size_t errlen);
/* Wipes the JWT and frees what the session holds. */
void ironscales_session_clear(struct ironscales_session *s);

/* One AppAPI call: method "GET" or "POST", path below appapi/ with
 * "{C}" standing for the company id ("incident/{C}/details/1001"), body a
 * JSON value sent as application/json (NULL: none). Sends the JWT
 * (exchanging the token first when the session has none; once more when
 * the call is refused with 401/403), waits out one throttled answer of at
 * most IRONSCALES_MAX_WAIT_S (a note says so) and repeats once a 5xx or
 * transport failure after 1 s.
 *
 * Returns the answer's JSON (any JSON value; caller frees) for a 2xx; on
 * a 404 NULL with *not_found set (the seed: "incident IDs weren't found");
 * on any other failure NULL with the reason in err, e.g. "HTTP 400: User
 * soc@nowhere.example was not found" (the provider's error text,
 * printable, never the token or JWT). */
struct cJSON *ironscales_call(struct ironscales_session *s, const char *method,
			      const char *path, const struct cJSON *body, bool *not_found,
			      char *err, size_t errlen);

#endif
