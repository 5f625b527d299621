/* engine.h: every lookup of every message in flight at once.
 *
 * One engine thread owns an epoll loop driving a curl multi handle
 * (socket API) and one c-ares channel per DNS integration. Callers (milter
 * threads, the scan command) hand it a batch of lookups and wait for all
 * of them or their deadline; nothing they do blocks the loop.
 *
 * Identical lookups in flight are joined (single-flight), answers are
 * cached per integration, requests are bounded by MaxInFlight and
 * RateLimit, failing integrations are cut off by a circuit breaker. A
 * request whose callers gave up (deadline) still completes and fills the
 * cache for later messages. */
#ifndef TM_ENGINE_H
#define TM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "lookup/lookup.h"

struct engine;
struct tm_config;

struct engine_options {
	const char *ca_file;	/* CA bundle for TLS verification; NULL: system */
	unsigned breaker_threshold;	/* consecutive failures; 0: default 5 */
	unsigned breaker_cooldown_ms;	/* 0: default 30 s */
};

/* Starts the engine thread. NULL with err set on failure. */
struct engine *engine_new(const struct engine_options *options,
			  char *err, size_t errlen);
/* Stops the thread; transfers still running are abandoned. */
void engine_free(struct engine *engine);

/* Runs lookups[0..n-1] (their integration pointers must belong to cfg,
 * which the engine keeps a reference to while it needs it) and returns
 * when every one has a result or at deadline_ms (engine_now_ms() clock);
 * a lookup unfinished then is `error` with details "deadline". */
void engine_run(struct engine *engine, struct tm_config *cfg,
		struct lookup *const *lookups, size_t n, int64_t deadline_ms);

/* Monotonic milliseconds. */
int64_t engine_now_ms(void);

struct engine_stats {
	uint64_t requests;	/* provider requests sent (HTTP + DNS, retries included) */
	uint64_t cache_hits;
	uint64_t joined;	/* lookups that joined a flight already running */
};
void engine_get_stats(struct engine *engine, struct engine_stats *out);

#endif
