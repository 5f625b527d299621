/* apivoid.h: the APIVoid client shared by the mail-path lookups
 * (apivoid.c) and the administrator's actions (apivoid_actions.c), so
 * that `threatmilterctl apivoid` sends exactly the requests the milter
 * sends and reads the answers the same way.
 *
 * Reference: ../shared/providers/apivoid.md (v1 endpoint.apivoid.com,
 * key in the query, errors as HTTP 200 + "error"; v2 api.apivoid.com,
 * X-API-Key header, JSON bodies, errors as 4xx). */
#ifndef TM_PROVIDERS_APIVOID_H
#define TM_PROVIDERS_APIVOID_H

#include <stdbool.h>
#include <stddef.h>

#include "providers/provider.h"

struct cJSON;

/* The APIVoid services threatmilter calls (apivoid.md §3). */
enum apivoid_call {
	APIVOID_IP,		/* §3.1 iprep / ip-reputation */
	APIVOID_DOMAIN,		/* §3.2 domainbl / domain-reputation */
	APIVOID_URL,		/* §3.3 urlrep / url-reputation */
	APIVOID_EMAIL,		/* §3.4 emailverify / email-verify */
	APIVOID_SCREENSHOT,	/* §3.5 screenshot */
	APIVOID_STATS,		/* §5 v1 "?stats" (v2: ip-reputation of 8.8.8.8) */
};

/* The URL risk score (0-100, §3.3) at which the milter calls a URL
 * suspicious / malicious, and the ctl's url action's default threshold
 * (DetectionThreshold counts engines, not a 0-100 score). */
#define APIVOID_URL_RISK_SUSPICIOUS 70
#define APIVOID_URL_RISK_MALICIOUS 90

/* The indicator of the Test Connection lookup (registry.c): never an IP
 * a message can give, it makes the lookup the cheap call of §5. */
#define APIVOID_TEST_INDICATOR "stats"

/* Whether the integration speaks v2: APIVersion v2, or APIVersion auto
 * and an APIURL on api.apivoid.com or ending in "/v2". */
bool apivoid_is_v2(const struct integration *in);

/* Fills req (initialised by the caller) for one call about entity
 * (an IP, host, URL — "http://" is added when it has no scheme — or
 * address; ignored for APIVOID_STATS). v1: GET with the key and the
 * entity percent-encoded in the query; v2: POST {"<field>": entity}
 * with X-API-Key. The URL or headers hold the key: never log them. */
void apivoid_build(const struct integration *in, enum apivoid_call call, const char *entity,
		   struct http_request *req);

/* What one APIVoid answer says, before any verdict. */
struct apivoid_answer {
	enum answer_class class;	/* ANSWER_DECIDED: report is the answer */
	enum lookup_error error;	/* for any other class */
	char message[160];		/* printable: APIVoid's error text or the status */
	struct cJSON *report;		/* the report object (owned; NULL: not found) */
	double credits;			/* credits_remained, -1 when absent (v2) */
};

/* Reads resp (any status; 0 = no answer) as the answer to call §4: a
 * 200 with "error" is a refused key (ANSWER_AUTH), no credits
 * (ANSWER_QUOTA) or an input error (ANSWER_PERMANENT), never a report;
 * v2 401/403 auth, 402 quota, 400 permanent, 429 quota, 5xx and bodies
 * that are no JSON object transient (LOOKUP_ERR_MALFORMED). The report
 * is data.report (v1 reputation), data (v1 email, screenshot) or the
 * whole object (v2); an empty or missing one is "not found" (report
 * NULL, ANSWER_DECIDED). Free with apivoid_answer_clear(). */
void apivoid_read(const struct integration *in, enum apivoid_call call,
		  const struct http_response *resp, struct apivoid_answer *out);
void apivoid_answer_clear(struct apivoid_answer *ans);

/* Logs (LOG_WARNING, once per crossing, no per-lookup state) when
 * credits fell under 1000, 100 or 10 with a call of this cost: the
 * lookup whose answer crossed the line logs it. */
void apivoid_note_credits(const struct integration *in, enum apivoid_call call, double credits);

/* Blacklist engine count of a report: blacklists.detections (IP,
 * domain) or domain_blacklist.detections (URL); -1 when absent. */
long apivoid_detections(const struct cJSON *report, enum apivoid_call call);
/* risk_score.result, -1 when absent. */
long apivoid_risk_score(const struct cJSON *report);

/* After the caller (threatmilterctl apivoid screenshot) wrote the files
 * of a screenshot answer's "screenshots": its "messages" name as added
 * only the entities in `written` (an array of strings) and add those in
 * `unwritten` to the seed's "Failed to add screenshots as attachments"
 * line (../shared/seeds/001_*.txt, Get Screenshot). apivoid_actions.c. */
void apivoid_screenshots_written(struct cJSON *out, const struct cJSON *written,
				 const struct cJSON *unwritten);

#endif
