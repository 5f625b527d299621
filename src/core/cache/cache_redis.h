/* cache_redis.h: the shared cache backend (CacheBackend redis, issue 15):
 * every host using the same Redis shares
 *   - cached answers: key PREFIX "c:" NAME ":" KIND ":" INDICATOR, a hash
 *     of status, details and the reads left (CacheMaxHits, decremented
 *     atomically by a Lua script), expiring at the wall-clock second the
 *     engine gives (EXPIREAT);
 *   - single flight: a cache miss takes the lock PREFIX "l:" ... for
 *     LOCK_WINDOW_MS; another host that misses meanwhile waits for the
 *     answer (polling the key) until it comes or the lock ends;
 *   - the RateLimit budget of each integration: per "N/period" item a
 *     sorted set of the grant times of the last period under PREFIX "r:"
 *     NAME ":" ITEM (N "/" period ms), at most N in any window of the
 *     period, on Redis's clock (REDIS_RATE_SCRIPT);
 *   - the sandbox job registry: a lease PREFIX "j:" ... held by the host
 *     that runs the job, released when the job ends, and by a graceful
 *     stop (flush: the engine releases, the backend waits for the
 *     releases at most RedisTimeout); after a crash it expires.
 * Redis down or slow, or refusing (error replies; redis_link.h): each
 * call falls back to the host's own memory cache (always written too)
 * and its own budget, at once or after RedisTimeout at most. */
#ifndef TM_CACHE_REDIS_H
#define TM_CACHE_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "cache/redis_settings.h"

struct cache;
struct loop;
struct redis_cache_factory;
struct tm_metrics;

/* A maker of per-integration caches sharing one Redis connection (made
 * with the first cache, closed with the last). Copies s. metrics (may be
 * NULL; borrowed, must outlive the factory) gets every call answered by
 * the local fallback (threatmilter_redis_fallbacks_total). Free it after
 * the engine that used it. */
struct redis_cache_factory *redis_cache_factory_new(const struct redis_settings *s,
						    struct tm_metrics *metrics);
void redis_cache_factory_free(struct redis_cache_factory *factory);

/* Counters since the factory was made, for the metrics endpoint (issue
 * 15 "Metrics": Redis fallbacks, cache hits/misses in Redis). Any thread
 * (atomic reads). */
struct redis_cache_stats {
	uint64_t hits;		/* answers read from Redis */
	uint64_t misses;	/* Redis had none: the provider was asked */
	uint64_t fallbacks;	/* calls answered locally: Redis out or too slow */
};
void redis_cache_factory_stats(const struct redis_cache_factory *factory,
			       struct redis_cache_stats *out);

/* engine_options.cache_new: the cache of integration name on loop (the
 * engine thread), with a memory fallback of max_entries. data is the
 * factory. Never NULL. */
struct cache *redis_cache_new(void *data, struct loop *loop, const char *name,
			      size_t max_entries);

#endif
