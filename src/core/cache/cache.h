/* cache.h: answers kept for reuse, per integration (the seed's Cache
 * option): an answer is reused until it expires (CacheHours, or the
 * provider's shorter hint) and at most CacheMaxHits times, then asked
 * again; a backend may keep a bounded number (CacheMaxEntries, least
 * recently used first out). Errors are never cached (the engine does
 * not offer them).
 *
 * Expiry is in WALL-CLOCK seconds (time(2)), so that an entry written by
 * one host means the same on another sharing the backend.
 *
 * Two ways to read (issue 11 "Cache interface", issue 19):
 *  - get(): asynchronous, a stage of the lookup's flight on the engine
 *    loop (get -> miss -> request -> put). A network backend (Redis,
 *    issue 15: hiredis async on the engine loop) answers later through
 *    the callback; it never blocks and never runs under a lock from a
 *    milter thread.
 *  - try_get(): optional non-blocking fast path, thread-safe, that
 *    engine_run() calls on the caller's thread before it involves the
 *    engine, so a fully cached message never wakes the engine thread
 *    nor takes the engine lock. Only a backend that can answer from its
 *    own memory offers it (NULL otherwise).
 * put() never blocks either (a network backend sends and forgets).
 *
 * Room for a shared backend: the optional rate_take() (a RateLimit
 * budget shared by every host using the backend) and job_claim() (the
 * shared registry of sandbox jobs: one upload for all hosts). NULL in the
 * memory backend: the engine then keeps both locally. */
#ifndef TM_CACHE_H
#define TM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "lookup/lookup.h"

struct cache;

/* One cached answer: status and details (g_malloc'd when handed out;
 * the receiver frees details). */
struct cache_answer {
	enum lookup_status status;
	char *details;
};

/* hit false: answer is NULL. Called once, possibly before get() returns. */
typedef void (*cache_get_cb)(void *ctx, bool hit, const struct cache_answer *answer);
/* The shared budget's verdict: granted or not (fail closed on errors). */
typedef void (*cache_rate_cb)(void *ctx, bool granted);
/* claimed: this host runs the job; else owner_job_id is the running one. */
typedef void (*cache_claim_cb)(void *ctx, bool claimed, const char *owner_job_id);

struct cache_backend_ops {
	/* Fast path (may be NULL): fills *out on a hit (counts the hit). Any
	 * thread; never blocks beyond the backend's own short lock. */
	bool (*try_get)(struct cache *cache, const char *key, int64_t now_s,
			struct cache_answer *out);
	/* Engine loop: cb(ctx, hit, answer) exactly once. NULL: a backend
	 * that answers from its own memory: its try_get (then not NULL),
	 * answered at once. */
	void (*get)(struct cache *cache, const char *key, int64_t now_s,
		    cache_get_cb cb, void *ctx);
	/* Keeps answer until expires_s (wall clock) or max_hits reads.
	 * max_hits 0: nothing to keep (the flight ended without a cacheable
	 * answer); a shared backend lets go of its single-flight lock. */
	void (*put)(struct cache *cache, const char *key, const struct cache_answer *answer,
		    int64_t expires_s, unsigned max_hits);
	/* Frees the cache; get()s still pending are first answered as
	 * misses (the engine replaces a cache when CacheMaxEntries changes
	 * and must not lose the flights waiting for it). */
	void (*destroy)(struct cache *cache);
	/* Optional (NULL: local only). One request's grant from the budget
	 * named budget ("integration name"), spec as RateLimit; engine loop.
	 * A backend that cannot ask answers from a local budget of its own. */
	void (*rate_take)(struct cache *cache, const char *budget, const char *spec,
			  int64_t now_s, cache_rate_cb cb, void *ctx);
	/* Optional. Claims the job for key for lease_s (renewed by a new
	 * claim) or learns the job id another host runs; engine loop.
	 * job_id NULL: this host's own name. lease_s 0 releases a claim
	 * this host holds (cb may then be NULL). A backend that cannot ask
	 * answers claimed (the job then runs locally). */
	void (*job_claim)(struct cache *cache, const char *key, const char *job_id,
			  int64_t lease_s, cache_claim_cb cb, void *ctx);
	/* Optional (NULL: nothing is ever left unsent). Shutdown only, on
	 * the thread of engine_free() once the engine loop no longer turns:
	 * blocks until what was sent (a put, a released lease) is answered,
	 * at most the backend's own bound (RedisTimeout); callbacks of calls
	 * still pending may run meanwhile. */
	void (*flush)(struct cache *cache);
};

struct cache {
	const struct cache_backend_ops *ops;
};

/* The embedded default: an in-process LRU of at most max_entries,
 * thread-safe under a lock of its own (never the engine's). */
struct cache *cache_memory_new(size_t max_entries);
/* The entries a cache of cache_memory_new() holds now (an expired one
 * goes when it is read or evicted). */
size_t cache_memory_count(struct cache *cache);

/* Non-blocking read, any thread: false on a miss or when the backend
 * has no fast path. */
static inline bool cache_try_get(struct cache *cache, const char *key, int64_t now_s,
				 struct cache_answer *out)
{
	return cache->ops->try_get != NULL && cache->ops->try_get(cache, key, now_s, out);
}

/* The engine loop's read: the backend's get, or its try_get answered at
 * once. */
static inline void cache_get(struct cache *cache, const char *key, int64_t now_s,
			     cache_get_cb cb, void *ctx)
{
	struct cache_answer answer = { 0 };
	bool hit;

	if (cache->ops->get != NULL) {
		cache->ops->get(cache, key, now_s, cb, ctx);
		return;
	}
	hit = cache->ops->try_get(cache, key, now_s, &answer);
	cb(ctx, hit, hit ? &answer : NULL);
	g_free(answer.details);
}

static inline void cache_put(struct cache *cache, const char *key,
			     const struct cache_answer *answer, int64_t expires_s,
			     unsigned max_hits)
{
	cache->ops->put(cache, key, answer, expires_s, max_hits);
}

static inline void cache_free(struct cache *cache)
{
	if (cache != NULL)
		cache->ops->destroy(cache);
}

#endif
