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
};

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
};

struct lookup_result {
	enum lookup_status status;
	char *details;		/* "12/93", "SBL,XBL", "timeout"...; g_malloc'd, may be NULL */
	unsigned latency_ms;
	bool cached;
	unsigned ttl_s;		/* the provider's own cache hint, 0 = none */
};

struct lookup {
	const struct integration *integration;
	enum indicator_kind kind;
	char *indicator;
	struct lookup_result result;
};

const char *indicator_kind_name(enum indicator_kind kind);	/* "url" ... */
const char *lookup_status_name(enum lookup_status status);	/* "malicious" ... */

#endif
