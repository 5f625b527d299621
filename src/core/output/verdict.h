/* verdict.h: a message's verdict from its lookups.
 *
 * malicious or suspicious: the worst decided result wins, whatever else
 * happened. clean only when nothing is missing: every indicator of the
 * message was judged (malicious, suspicious, clean or "unknown to the
 * provider") by at least one integration that takes it, and no analysis
 * or planning limit was hit; and at least one lookup said clean.
 * Anything else is unknown: an indicator whose every lookup failed (error,
 * rate_limited), was not sent (skipped, paused), is still pending (a
 * sandbox job) or could not be asked (invalid), a limit, or no indicator
 * at all. The counts say why, so that decide_event() can choose
 * On-Limit, On-Timeout or On-ProviderError (issue 17, items 4 and 5). */
#ifndef TM_VERDICT_H
#define TM_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "lookup/lookup.h"
#include "lookup/plan.h"

enum verdict {
	VERDICT_MALICIOUS,
	VERDICT_SUSPICIOUS,
	VERDICT_CLEAN,
	VERDICT_UNKNOWN,
};

/* The facts / plan limits that keep a message from being clean:
 * max_urls, max_mime_depth, max_reported_depth, max_message_size and
 * max_indicators (a parse error is not a limit: it has no indicators). */
#define VERDICT_LIMITS (LIMIT_MAX_URLS | LIMIT_MIME_DEPTH | LIMIT_REPORTED_DEPTH | \
			LIMIT_MESSAGE_SIZE | PLAN_LIMIT_MAX_INDICATORS)

struct verdict_summary {
	enum verdict verdict;
	unsigned lookups, cached, errors, timeouts, rate_limited;
	unsigned pending, invalid;	/* lookups */
	unsigned indicators;		/* the message's indicators with a lookup */
	unsigned unjudged;		/* ...that no integration judged */
	unsigned limits;		/* VERDICT_LIMITS bits hit */
	unsigned dropped;		/* indicators over MaxIndicators */
	const struct lookup *decisive;	/* the first lookup with the verdict, or NULL */
};

/* The verdict of a planned message (plan.h): coverage is counted over
 * plan->indicators, limits from plan->limits. */
void verdict_compute_plan(const struct plan *plan, struct verdict_summary *out);
/* The same over bare lookups: each distinct (kind, indicator) of the
 * lookups counts as one indicator; no limits. */
void verdict_compute(struct lookup *const *lookups, size_t n, struct verdict_summary *out);
const char *verdict_name(enum verdict verdict);

/* Why a lookup failed: result.error. For producers that do not set it
 * yet (error kind LOOKUP_ERR_NONE on an error or rate_limited result) one
 * fallback here, and only here: the engine's "deadline" and a details
 * text naming a timeout are LOOKUP_ERR_TIMEOUT, the breaker's "circuit
 * open" LOOKUP_ERR_PAUSED, rate_limited LOOKUP_ERR_QUOTA, any other
 * error LOOKUP_ERR_PROVIDER. LOOKUP_ERR_NONE for any other status. */
enum lookup_error verdict_error_kind(const struct lookup_result *result);

/* The word for a lookup's outcome in logs: "timeout" and "paused" for
 * those failures, else lookup_status_name(). Static text. */
const char *verdict_outcome_word(const struct lookup_result *result);

#endif
