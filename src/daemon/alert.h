/* alert.h: AlertCommand, the after-the-fact alert (issue 12).
 *
 * When a job a message got `pending` from ends malicious, the engine
 * logs one line naming the message (engine.h, job_alert) and the daemon
 * hands the finding to the administrator's AlertCommand, if any
 * (threatmilter.conf(5)). */
#ifndef TM_ALERT_H
#define TM_ALERT_H

#include "lookup/lookup.h"

/* Starts command (an absolute path; NULL or "": nothing) without a shell
 * and without waiting for it: arguments queue id, Message-ID ("-" when
 * NULL), integration name, indicator kind, indicator, verdict, details;
 * the same values in the environment as THREATMILTER_QUEUE_ID,
 * THREATMILTER_MESSAGE_ID, THREATMILTER_INTEGRATION, THREATMILTER_KIND,
 * THREATMILTER_INDICATOR, THREATMILTER_VERDICT, THREATMILTER_DETAILS.
 * Every value is sanitised to printable ASCII (at most 255 bytes). The
 * child is reaped by GLib's double fork (never a zombie, never waited
 * for). A failure to start is logged. Returns whether it started. Safe
 * on the engine thread: it blocks only for fork/exec. */
bool alert_command_run(const char *command, const struct lookup *lookup, const char *queue_id,
		       const char *message_id);

#endif
