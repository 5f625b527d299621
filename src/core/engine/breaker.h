/* breaker.h: a circuit breaker per integration.
 *
 * After `threshold` consecutive failures the breaker opens: lookups are
 * answered at once (skipped) instead of each waiting for a dead provider.
 * When the cool-down has passed, one probe request is let through
 * (half-open); its success closes the breaker, its failure reopens it
 * for twice as long (up to a cap). A provider's own "come back later"
 * (Retry-After, exhausted quota) opens it for the time it asks. */
#ifndef TM_BREAKER_H
#define TM_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
	enum breaker_state state;
	unsigned failures;		/* consecutive */
	unsigned threshold;
	int64_t open_until_ms;
	int64_t cooldown_ms;		/* current cool-down */
	int64_t base_cooldown_ms;
	int64_t max_cooldown_ms;
	bool probe_in_flight;
};

void breaker_init(struct breaker *b, unsigned threshold, int64_t cooldown_ms,
		  int64_t max_cooldown_ms);
/* May a request go now? In half-open state the first caller gets the
 * probe (and must report its outcome), the others are refused. */
bool breaker_allow(struct breaker *b, int64_t now_ms);
void breaker_success(struct breaker *b);
void breaker_failure(struct breaker *b, int64_t now_ms);
/* Opens for exactly `ms` (Retry-After, quota), whatever the count. */
void breaker_open_for(struct breaker *b, int64_t now_ms, int64_t ms);

#endif
