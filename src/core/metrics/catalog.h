/* catalog.h: threatmilter's metrics (issue 15, "Metrics"; README
 * "Metrics"), on top of the generic registry (registry.h).
 *
 * Names follow the Prometheus conventions: threatmilter_ prefix, base
 * units (seconds, bytes), _total for counters. Per integration (label
 * integration = its Name):
 *   threatmilter_provider_requests_total{result}   requests and DNS queries
 *       answered (retries count again): answered | refused (the provider
 *       refused this indicator, 4xx) | failed (5xx, transport, timeout,
 *       unreadable) | auth | quota
 *   threatmilter_provider_request_duration_seconds   histogram, same events
 *   threatmilter_provider_errors_total{error}       lookups the engine ended
 *       as error or rate_limited, by kind (lookup_error_name())
 *   threatmilter_cache_lookups_total{backend,result}  hit | miss
 *   threatmilter_provider_in_flight                  requests out now
 *   threatmilter_provider_queue_waits_total          flights queued behind MaxInFlight
 *   threatmilter_provider_rate_limited_total         refused by our RateLimit
 *   threatmilter_provider_breaker_state              0 closed, 1 half-open, 2 open
 *   threatmilter_jobs_submitted_total / threatmilter_jobs_pending /
 *   threatmilter_jobs_finished_total{result}         sandbox jobs
 *   threatmilter_uploads_total / threatmilter_upload_bytes_total
 * Per daemon:
 *   threatmilter_messages_total{verdict,action}  verdict "not_scanned" for a
 *       message not analysed (authenticated, too large, internal error)
 *   threatmilter_message_duration_seconds        histogram of eom_process()
 *   threatmilter_messages_in_progress            (a computed gauge, daemon.c)
 *   threatmilter_reloads_total{result}            ok | failed
 *   threatmilter_redis_fallbacks_total            shared-cache calls answered by
 *       the local fallback (Redis down or slower than its bound)
 *   threatmilter_build_info{version} 1, threatmilter_start_time_seconds
 *
 * Every function accepts NULL for its metrics and does nothing then
 * (scan, test and the unit tests run without). Updates are lock-free
 * (registry.h); tm_metrics_integration() takes the registry's lock and is
 * called once per integration name (engine thread, istate creation). */
#ifndef TM_METRICS_CATALOG_H
#define TM_METRICS_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "engine/breaker.h"
#include "lookup/lookup.h"
#include "metrics/registry.h"
#include "providers/provider_http.h"

struct tm_metrics;
struct tm_integration_metrics;

enum tm_cache_backend {
	TM_CACHE_MEMORY,		/* label backend="memory" */
	TM_CACHE_SHARED,		/* backend="redis" (engine_options.cache_new) */
	TM_CACHE_BACKENDS
};

/* The registry with every daemon-wide family; version: the build_info
 * label (PACKAGE_VERSION). Free with tm_metrics_free(). */
struct tm_metrics *tm_metrics_new(const char *version);
void tm_metrics_free(struct tm_metrics *m);
/* The underlying registry (metrics_render(), metrics_gauge_fn()). */
struct metrics *tm_metrics_registry(struct tm_metrics *m);

/* The series of integration `name`, created at 0 the first time; valid
 * until tm_metrics_free(). NULL when m is NULL. */
struct tm_integration_metrics *tm_metrics_integration(struct tm_metrics *m, const char *name);

/* Engine thread, at the points named in engine/request.c, admission.c,
 * flights.c and jobs.c. elapsed_ms: monotonic milliseconds. */
void tm_metrics_request(struct tm_integration_metrics *im, enum answer_class class,
			int64_t elapsed_ms);
/* Counts one upload and its bytes when req carries a multipart body
 * (the file parts' sizes; a part read from a path by its size now). */
void tm_metrics_upload(struct tm_integration_metrics *im, const struct http_request *req);
/* A lookup the engine ended: errors by kind (status error/rate_limited). */
void tm_metrics_lookup_end(struct tm_integration_metrics *im, const struct lookup_result *res);
/* Any thread (the cache fast path runs on the caller's). */
void tm_metrics_cache(struct tm_integration_metrics *im, enum tm_cache_backend backend, bool hit);
void tm_metrics_in_flight(struct tm_integration_metrics *im, unsigned requests_out);
void tm_metrics_queue_wait(struct tm_integration_metrics *im);
void tm_metrics_rate_limited(struct tm_integration_metrics *im, unsigned lookups);
/* The breaker's state, exposed as 0 closed, 1 half-open, 2 open (or
 * paused by the provider) so that higher is worse. */
void tm_metrics_breaker(struct tm_integration_metrics *im, enum breaker_state state);
void tm_metrics_job_submitted(struct tm_integration_metrics *im);
/* A submitted job ended (its flight finished) with status. */
void tm_metrics_job_finished(struct tm_integration_metrics *im, enum lookup_status status);

/* Milter threads: one message at its end (output/eom.c). scanned false:
 * verdict label "not_scanned". elapsed_ms: eom_process()'s time. */
void tm_metrics_message(struct tm_metrics *m, bool scanned, const char *verdict,
			enum tm_action action, int64_t elapsed_ms);
/* Signal thread: one configuration reload (daemon.c). */
void tm_metrics_reload(struct tm_metrics *m, bool ok);
/* The shared (Redis) cache backend, any thread: one call that fell back
 * to the local cache and budget (Redis down or slower than its bound). */
void tm_metrics_redis_fallback(struct tm_metrics *m);

#endif
