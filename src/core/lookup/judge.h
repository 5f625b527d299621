/* judge.h: from a message's facts to its lookups and verdict.
 *
 * The one function the milter (at end of message) and `threatmilter scan`
 * both call after the analysis, so the two can never disagree. */
#ifndef TM_JUDGE_H
#define TM_JUDGE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "analysis/facts.h"
#include "output/verdict.h"

struct engine;
struct tm_config;

struct judgement {
	GPtrArray *lookups;		/* struct lookup *, owned */
	GPtrArray *indicators;		/* struct plan_indicator *, owned; may be NULL */
	struct verdict_summary summary;
	int64_t elapsed_ms;		/* lookups only */
	bool reported;			/* judged by the reported inner messages */
};

/* Plans the lookups (plan.h), asks the engine for those that can be
 * asked (never the LOOKUP_INVALID ones) until ScanDeadline, and computes
 * the verdict (verdict.h). report_mode (an abuse mailbox: every recipient
 * is a report recipient, or Mode report): the verdict comes from the
 * reported messages; a report without any falls back to the message
 * itself, so a user who pastes a phishing mail inline is still answered.
 * Otherwise the message and every message inside it are judged together:
 * an inner message can add findings, never remove them. engine may be
 * NULL (no lookups: verdict unknown). */
void judge_message(struct engine *engine, struct tm_config *cfg, const struct facts *facts,
		   bool report_mode, struct judgement *out);
/* judge_message() for a message the MTA queued as queue_id (NULL or "":
 * none): the engine remembers it for the after-the-fact alert when a
 * job gives it `pending` (engine.h, engine_run_message), with the facts'
 * Message-ID. In report_mode the lookups may run until ReportSandboxWait
 * when that is longer than ScanDeadline. */
void judge_message_queued(struct engine *engine, struct tm_config *cfg,
			  const struct facts *facts, bool report_mode, const char *queue_id,
			  struct judgement *out);
void judgement_clear(struct judgement *judgement);

#endif
