/* cache.h: answers kept for reuse, per integration (the seed's Cache
 * option): an answer is reused for CacheHours and at most CacheMaxHits
 * times, then asked again; at most CacheMaxEntries answers are kept, the
 * least recently used going first. Errors are never cached (the engine
 * does not offer them).
 *
 * The cache sits behind a small backend interface so that a shared
 * backend (Redis, for several MTAs) can replace the in-memory one. */
#ifndef TM_CACHE_H
#define TM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lookup/lookup.h"

struct cache;

struct cache_backend_ops {
	/* On a hit, fills status and details (g_malloc'd) and counts the hit. */
	bool (*get)(struct cache *cache, const char *key, int64_t now_ms,
		    enum lookup_status *status, char **details);
	void (*put)(struct cache *cache, const char *key, enum lookup_status status,
		    const char *details, int64_t expires_ms, unsigned max_hits);
	size_t (*count)(struct cache *cache);
	void (*destroy)(struct cache *cache);
};

struct cache {
	const struct cache_backend_ops *ops;
};

/* The embedded default: an in-process LRU, thread-safe. */
struct cache *cache_memory_new(size_t max_entries);

static inline bool cache_get(struct cache *cache, const char *key, int64_t now_ms,
			     enum lookup_status *status, char **details)
{
	return cache->ops->get(cache, key, now_ms, status, details);
}

static inline void cache_put(struct cache *cache, const char *key,
			     enum lookup_status status, const char *details,
			     int64_t expires_ms, unsigned max_hits)
{
	cache->ops->put(cache, key, status, details, expires_ms, max_hits);
}

static inline void cache_free(struct cache *cache)
{
	if (cache != NULL)
		cache->ops->destroy(cache);
}

#endif
