/* virustotal.h: what the VirusTotal lookups (virustotal.c) and uploads
 * (virustotal_upload.c) share; internal to providers/. Everything
 * follows ../shared/providers/virustotal.md. */
#ifndef TM_PROVIDERS_VIRUSTOTAL_H
#define TM_PROVIDERS_VIRUSTOTAL_H

#include <stdbool.h>

#include "providers/provider.h"

struct cJSON;

/* The object report request of one lookup (§3.1-3.4): GET
 * <root>/{urls|domains|ip_addresses|files}/{id} with the x-apikey header.
 * req must be initialised (http_request_init). */
void virustotal_object_request(const struct integration *in, const struct lookup *lookup,
			       struct http_request *req);

/* Every answer but a 200, per the error table (§4): 404 NotFoundError and
 * 400 NotAvailableYet -> unknown (decided); 429 QuotaExceededError /
 * TooManyRequestsError -> rate_limited/quota (ANSWER_QUOTA); 401 ->
 * error/auth (ANSWER_AUTH); 403 -> error/auth, 400 -> error/provider
 * (ANSWER_PERMANENT); 424 -> error (transient); the rest the shared
 * status ladder (5xx transient). Sets batch[0]'s result only. */
enum answer_class virustotal_error(const struct integration *in, struct lookup *const *batch,
				   size_t n, const struct http_response *resp);

/* The verdict of a stats block (§1): an object's last_analysis_stats or
 * a completed analysis' stats (§3.5). malicious >= DetectionThreshold
 * (0: 1) -> malicious; fewer, or any suspicious -> suspicious; analysed
 * (last_analysis_date present / status completed) and some engine said
 * harmless or undetected -> clean; otherwise (never analysed, or only
 * timeouts, failures, unsupported types) -> unknown, never clean.
 * Details "malicious/total" over every numeric counter. Returns
 * ANSWER_DECIDED, or ANSWER_TRANSIENT with error/malformed when stats is
 * not an object. */
enum answer_class virustotal_stats_verdict(const struct integration *in, struct lookup *lookup,
					   const struct cJSON *stats, bool analysed);

/* Uploads (virustotal_upload.c, §3.5): the job interface of provider.h
 * for a hash lookup that carries the file (lookup->sample). */
void virustotal_job_request(const struct integration *in, const struct lookup *lookup,
			    const struct provider_job *job, struct http_request *req);
enum answer_class virustotal_job_parse(const struct integration *in, struct lookup *lookup,
				       struct provider_job *job,
				       const struct http_response *resp);

#endif
