/* vmray.h: what the VMRay provider's files share (vmray.c: requests,
 * jobs, Test Connection; vmray_sample.c: a sample object's verdict).
 * ../shared/providers/vmray.md. Not for other modules. */
#ifndef TM_PROVIDERS_VMRAY_H
#define TM_PROVIDERS_VMRAY_H

#include <stdbool.h>

#include "lookup/lookup.h"

struct cJSON;

/* The status of a VMRay sample object (§1): sample_verdict, else
 * sample_severity, mapped as vmray.c's top comment says (a word outside
 * the document's lists is unknown, never clean); *word points into
 * sample. False, and nothing set, when the object carries neither field
 * (an incomplete search hit, §3.1). */
bool vmray_sample_status(const struct cJSON *sample, enum lookup_status *status,
			 const char **word);

/* Whether VMRay has the sample but no verdict yet: sample_verdict
 * not_available (§1), what the sample says while its analysis runs. A
 * server without sample_verdict (only sample_severity) is never taken
 * for running: its "unknown" cannot be told from an analysis without a
 * verdict. */
bool vmray_sample_running(const struct cJSON *sample);

/* The details text of a sample: "malicious, score 80, Trojan.Generic"
 * (word printable; sample_score, else sample_vti_score, else
 * sample_highest_vti_score, a number or a string (§1 pitfall); the first
 * of sample_threat_names), without ';'. g_malloc'd, never NULL. */
char *vmray_sample_details(const struct cJSON *sample, const char *word);

#endif
