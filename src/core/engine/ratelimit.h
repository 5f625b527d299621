/* ratelimit.h: an integration's request budget, as token buckets.
 *
 * "4/minute,500/day" is two buckets; a request needs a token from every
 * bucket. A bucket of N per period starts full and refills continuously
 * at N per period. Over budget the lookup is `rate_limited` at once: a
 * queue would only outlive the message's deadline. */
#ifndef TM_RATELIMIT_H
#define TM_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* NULL or "" means unlimited (an object that always grants). NULL with
 * err set on a bad specification. */
struct ratelimit *ratelimit_new(const char *spec, char *err, size_t errlen);
bool ratelimit_spec_valid(const char *spec, char *err, size_t errlen);
void ratelimit_free(struct ratelimit *rl);
/* Takes one token from every bucket if each has one. Not thread-safe:
 * the engine thread owns it. */
bool ratelimit_take(struct ratelimit *rl, int64_t now_ms);
/* Milliseconds until ratelimit_take() could succeed (0 = now). */
int64_t ratelimit_wait_ms(const struct ratelimit *rl, int64_t now_ms);
/* Bucket i of rl ("N/period" item i): N and the period in ms; false past
 * the last bucket (a shared budget keeps the same buckets elsewhere). */
bool ratelimit_bucket(const struct ratelimit *rl, size_t i, unsigned *n, int64_t *period_ms);

#endif
