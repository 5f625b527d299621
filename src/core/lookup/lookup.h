/* lookup.h: one question to one integration, and its answer.
 *
 * A lookup is the pair (integration, indicator); the indicator is already
 * normalised (URL as url_normalize() gives it, domain lower-case, IP in
 * canonical text, hash as lower-case hex). Every lookup ends with exactly
 * one status. */
#ifndef TM_LOOKUP_H
#define TM_LOOKUP_H

#include <stdbool.h>

struct integration;

enum indicator_kind {
	INDICATOR_URL,
	INDICATOR_DOMAIN,	/* a URL reduced to its host (HideURLParameters) */
	INDICATOR_IP,
	INDICATOR_HASH,		/* an attachment's SHA-256 (or MD5/SHA-1) */
	INDICATOR_EMAIL,	/* a From: / Reply-To: address, lower-case domain */
};
#define INDICATOR_KINDS 5	/* number of kinds, for tables indexed by kind */

/* Ordered from worst to least informative where it matters: the message
 * verdict is the worst decided status (verdict.c). */
enum lookup_status {
	LOOKUP_MALICIOUS,
	LOOKUP_SUSPICIOUS,
	LOOKUP_CLEAN,
	LOOKUP_UNKNOWN,		/* the provider does not know it */
	LOOKUP_ERROR,		/* failure: transport, 5xx, bad answer, timeout */
	LOOKUP_RATE_LIMITED,	/* our budget or the provider's quota */
	LOOKUP_SKIPPED,		/* circuit open, not applicable */
	LOOKUP_PENDING,		/* submitted (sandbox job): the verdict comes later */
	LOOKUP_INVALID,		/* the indicator cannot be asked (bad DNS name, too long) */
};

/* Why a lookup ended as error or rate_limited: the verdict, the headers,
 * the log and the metrics use this, never the details text. */
enum lookup_error {
	LOOKUP_ERR_NONE,
	LOOKUP_ERR_TIMEOUT,	/* our deadline or the integration's Timeout */
	LOOKUP_ERR_TRANSPORT,	/* connect, TLS, DNS transport, reset */
	LOOKUP_ERR_AUTH,	/* key refused (401/403, Google API_KEY_INVALID) */
	LOOKUP_ERR_QUOTA,	/* 429, provider quota, our RateLimit */
	LOOKUP_ERR_MALFORMED,	/* an answer we cannot read */
	LOOKUP_ERR_PROVIDER,	/* the provider said it failed (5xx, error code) */
	LOOKUP_ERR_PAUSED,	/* not sent: the integration is paused (circuit
				 * open, back-off after a quota answer) */
};

struct lookup_result {
	enum lookup_status status;
	enum lookup_error error;	/* LOOKUP_ERR_NONE unless error/rate_limited */
	char *details;		/* "12/93", "SBL,XBL", "timeout"...; g_malloc'd, may be NULL */
	unsigned latency_ms;
	bool cached;
	unsigned ttl_s;		/* the provider's own cache hint, 0 = none */
};

struct sample;

struct lookup {
	const struct integration *integration;
	enum indicator_kind kind;
	char *indicator;
	/* INDICATOR_HASH only: the file itself when this integration may
	 * upload it (lookup/sample.h; a reference the lookup owns), else
	 * NULL: a hash lookup only, nothing is uploaded. */
	struct sample *sample;
	struct lookup_result result;
};

const char *indicator_kind_name(enum indicator_kind kind);	/* "url" ... */
const char *lookup_status_name(enum lookup_status status);	/* "malicious" ... */
/* How much a status says, for "the worst result of": malicious 8,
 * suspicious 7, then the failures an administrator must see (error 6,
 * rate_limited 5, pending 4, invalid 3), then skipped 2, unknown 1 and
 * clean 0. The report header lists the statuses from invalid up in this
 * order; the log line shows each integration's worst. */
unsigned lookup_status_severity(enum lookup_status status);
const char *lookup_error_name(enum lookup_error error);	/* "timeout" ...; "" for none */

#endif
