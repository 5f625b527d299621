/* eom.h: what happens at the end of a message -- the same code under
 * libmilter and in `threatmilter scan`.
 *
 * The caller supplies the message and a small table of operations (thin
 * wrappers around smfi_insheader, smfi_chgheader, smfi_addheader,
 * smfi_quarantine and smfi_setreply in the daemon; a recorder in the scan
 * command), and gets back the outcome: facts, lookups, verdict, event and
 * action. Mapping the action to SMFIS_* is the milter's only remaining
 * job. */
#ifndef TM_EOM_H
#define TM_EOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gmime/gmime.h>

#include "config/config.h"
#include "output/decide.h"
#include "analysis/facts.h"
#include "lookup/judge.h"

struct engine;

/* The three ways the milter protocol edits a header field. */
enum header_edit {
	HEADER_INSERT,	/* at `index` among all fields, 0 = top (smfi_insheader) */
	HEADER_CHANGE,	/* the `index`th field called `name`, 1-based; value NULL
			 * deletes it (smfi_chgheader) */
	HEADER_ADD,	/* at the bottom; index unused (smfi_addheader) */
};

/* ctx is the caller's ops_ctx. Each operation returns false when the MTA
 * refused it; the daemon's implementation logs the refusal with the
 * queue id and marks the message (milter.c checked()). */
struct eom_ops {
	bool (*header)(void *ctx, enum header_edit edit, unsigned index, const char *name,
		       const char *value);
	bool (*quarantine)(void *ctx, const char *reason);
	bool (*set_reply)(void *ctx, const char *rcode, const char *xcode, const char *text);
};

/* Copies of our own header names in the incoming message, per name. */
#define EOM_OWN_HEADERS 4

struct eom_input {
	struct tm_config *cfg;
	struct engine *engine;		/* NULL: no lookups (verdict unknown) */
	GMimeStream *message;		/* NULL when not stored (too large) */
	size_t size;
	bool too_large;
	bool skip_analysis;		/* IgnoreAuthenticatedClients matched */
	const char *client_ip;		/* connecting client, NULL if unknown */
	/* Every envelope recipient is in ReportRecipients (the abuse
	 * mailbox alone): judged by the reported messages. With any other
	 * recipient the message is judged as itself, its reported messages
	 * adding findings (issue 17.1; README "Abuse mailbox"). */
	bool only_report_recipients;
	const char *subject;		/* first Subject value, NULL if none */
	unsigned own_header_counts[EOM_OWN_HEADERS];	/* Verdict, Report, Scanned, Filter */
	const char *queue_id;		/* for logs, "" if unknown */
	const char *error;		/* why message is NULL when not too large
					 * (spool error...), for the log; may be NULL */
	/* MD5 and SHA-1 of each attachment too: `scan` prints them; the
	 * milter computes SHA-256 only, all its lookups ask (issue 19) */
	bool all_digests;
};

struct eom_outcome {
	struct facts *facts;		/* NULL when not analysed */
	struct judgement judgement;
	enum tm_event event;
	enum tm_action action;
	bool scanned;			/* analysed and judged */
	int64_t elapsed_ms;
	char *reason;			/* quarantine reason / why, g_malloc'd */
};

void eom_process(const struct eom_input *in, const struct eom_ops *ops, void *ops_ctx,
		 struct eom_outcome *out);
void eom_outcome_clear(struct eom_outcome *out);

/* One line (< 1 KiB) for syslog summarising the message. */
char *eom_summary_line(const struct eom_input *in, const struct eom_outcome *out);

/* Counts our header names in a raw header block (scan command; the
 * milter counts them in its header callback). */
void eom_count_own_headers(const struct tm_config *cfg, const char *name,
			   unsigned counts[EOM_OWN_HEADERS]);

#endif
