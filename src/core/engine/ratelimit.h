/* ratelimit.h: an integration's request budget (RateLimit), exact.
 *
 * "4/minute,500/day" is two items; each allows at most N requests in any
 * window of its period, as a provider counts its quota: a request at
 * now_ms is granted only if every item has fewer than N grants in
 * (now_ms - period, now_ms], and a grant counts in every item. Each item
 * keeps the times of its last N grants at most (a sliding window), so a
 * full budget is free again exactly when the oldest of those leaves its
 * window, never earlier. Over budget the lookup is `rate_limited` at
 * once: a queue would only outlive the message's deadline. The shared
 * budget of a site (cache_redis.h, REDIS_RATE_SCRIPT) follows the same
 * rule on Redis's clock. */
#ifndef TM_RATELIMIT_H
#define TM_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* spec: "N/period" items, comma separated (period second, minute, hour
 * or day; 0 < N <= 100000000). NULL or "" means unlimited (an object
 * that always grants). Returns a new budget with no grants yet (free it
 * with ratelimit_free), or NULL with a reason in err on a bad spec. */
struct ratelimit *ratelimit_new(const char *spec, char *err, size_t errlen);
/* Whether spec parses (reason in err when not); allocates nothing that
 * outlives the call. */
bool ratelimit_spec_valid(const char *spec, char *err, size_t errlen);
/* Frees rl and its grant times; NULL is a no-op. */
void ratelimit_free(struct ratelimit *rl);
/* At now_ms (a monotonic clock in ms, never going back): true, and the
 * grant counted in every item, if every item has fewer than N grants in
 * (now_ms - period, now_ms]; false and nothing counted otherwise.
 * Amortised O(items): no scan of the grants. Not thread-safe: the engine
 * thread owns it. */
bool ratelimit_take(struct ratelimit *rl, int64_t now_ms);
/* Milliseconds from now_ms until ratelimit_take() would succeed (0 =
 * now): the latest, over the full items, of the moment the oldest of
 * their last N grants leaves the window (its time + period). Exact: a
 * take at now_ms + wait succeeds, one at now_ms + wait - 1 would not. */
int64_t ratelimit_wait_ms(const struct ratelimit *rl, int64_t now_ms);
/* Item i of rl (the i-th "N/period" of its spec): N and the period in
 * ms; false past the last item or for NULL (a shared budget keeps the
 * same items elsewhere: REDIS_RATE_SCRIPT). */
bool ratelimit_item(const struct ratelimit *rl, size_t i, unsigned *n, int64_t *period_ms);
/* A reload that changes RateLimit: the grants `from` still holds count
 * in `to` (each item of `to` takes the most recent N of its own from the
 * item of `from` with the longest period, which holds every grant of its
 * window), so a new specification cannot open a fresh budget on top of
 * requests just made. Neither may be NULL; `from` is not changed. */
void ratelimit_carry(struct ratelimit *to, const struct ratelimit *from);

#endif
