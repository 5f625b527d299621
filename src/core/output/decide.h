/* decide.h: what happens to a message -- its event (On-Malicious,
 * On-Timeout, ...), the configured action, and the SMTP reply for reject
 * and tempfail. Pure functions: the milter and `scan` share them. */
#ifndef TM_DECIDE_H
#define TM_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "lookup/judge.h"

/* malicious/suspicious/clean map to their events. A message that is
 * none of them is On-Limit when an analysis or planning limit was hit
 * (verdict.h VERDICT_LIMITS), else On-Timeout when a lookup ran out of
 * time (result.error), On-ProviderError when one failed otherwise
 * (errors, rate limits), else On-Unknown (nothing to ask, only pending,
 * invalid or skipped lookups). */
enum tm_event decide_event(const struct judgement *judgement);

struct smtp_reply {
	char rcode[4];		/* "550" */
	char xcode[8];		/* "5.7.1" */
	char *text;		/* g_malloc'd, sanitised, "%v" substituted */
};

/* Builds the reply for ACTION_REJECT (5xx) or ACTION_TEMPFAIL (4xx) from
 * RejectMessage ("[NNN ][X.Y.Z ]text", %v = verdict, %% = %). A class
 * digit that contradicts the action is corrected (a tempfail never goes
 * out as 5xx). */
void decide_reply(const char *configured, enum tm_action action, const char *verdict,
		  struct smtp_reply *out);
void smtp_reply_clear(struct smtp_reply *reply);

#endif
