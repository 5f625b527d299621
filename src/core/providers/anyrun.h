/* anyrun.h: what the ANY.RUN provider's files share
 * (../shared/providers/anyrun.md; anyrun.c asks, anyrun_report.c reads
 * the task report). */
#ifndef TM_PROVIDERS_ANYRUN_H
#define TM_PROVIDERS_ANYRUN_H

#include "config/integrations.h"
#include "lookup/lookup.h"
#include "providers/provider.h"

/* The steps of an ANY.RUN job (struct provider_job.step). */
enum anyrun_step {
	ANYRUN_STEP_SUBMIT = 0,		/* POST /analysis (§3.1) */
	ANYRUN_STEP_REPORT = 1,		/* GET /analysis/{uuid} (§3.3) */
	ANYRUN_STEP_REPORT_TASK = 2,	/* GET /analysis/?task={uuid}, after a 403 (§3.3) */
};

/* The Test Connection indicator (registry.h): any lookup built by the
 * one-shot build_request is the history call of §6, whatever it names. */
#define ANYRUN_TEST_INDICATOR "http://history.any.run/"

/* The opt_privacy_type of the integration's Privacy: "owner" (default),
 * "byteam", "bylink" or "public"; never NULL (an out-of-range value is
 * "owner"). Static string. */
const char *anyrun_privacy(const struct integration *in);

/* Reads a 2xx answer to a report poll (§3.3, §1): a verdict ends the job
 * (threatLevel 2/1/0 -> malicious/suspicious/clean; else threatLevelText
 * compared case-insensitively; else score: 100 malicious, 51-99
 * suspicious, below clean), a failed task ends it as unknown (§1:
 * "missing verdict (task failed) -> unknown"), a report without either
 * sets job->next = JOB_POLL_LATER. A body that is no JSON object, or a
 * verdict with none of the documented values, is error/malformed.
 * Returns the answer class; sets lookup->result and job->next. */
enum answer_class anyrun_report(struct lookup *lookup, struct provider_job *job,
				const struct http_response *resp);

#endif
