/* breaker.c: circuit breaker state machine. Owned by the engine thread. */
#include "engine/breaker.h"

void breaker_init(struct breaker *b, unsigned threshold, int64_t cooldown_ms,
		  int64_t max_cooldown_ms)
{
	*b = (struct breaker){
		.state = BREAKER_CLOSED,
		.threshold = threshold,
		.cooldown_ms = cooldown_ms,
		.base_cooldown_ms = cooldown_ms,
		.max_cooldown_ms = max_cooldown_ms,
	};
}

bool breaker_allow(struct breaker *b, int64_t now_ms)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		return true;
	case BREAKER_OPEN:
		if (now_ms < b->open_until_ms)
			return false;
		b->state = BREAKER_HALF_OPEN;
		b->probe_in_flight = true;
		return true;
	case BREAKER_HALF_OPEN:
		if (b->probe_in_flight)
			return false;
		b->probe_in_flight = true;
		return true;
	}
	return false;
}

void breaker_success(struct breaker *b)
{
	b->state = BREAKER_CLOSED;
	b->failures = 0;
	b->probe_in_flight = false;
	b->cooldown_ms = b->base_cooldown_ms;
}

static void open_for(struct breaker *b, int64_t now_ms, int64_t ms)
{
	b->state = BREAKER_OPEN;
	b->open_until_ms = now_ms + ms;
	b->probe_in_flight = false;
}

void breaker_failure(struct breaker *b, int64_t now_ms)
{
	b->failures++;
	if (b->state == BREAKER_HALF_OPEN) {
		b->cooldown_ms *= 2;
		if (b->cooldown_ms > b->max_cooldown_ms)
			b->cooldown_ms = b->max_cooldown_ms;
		open_for(b, now_ms, b->cooldown_ms);
	} else if (b->state == BREAKER_CLOSED && b->failures >= b->threshold) {
		open_for(b, now_ms, b->cooldown_ms);
	}
}

void breaker_open_for(struct breaker *b, int64_t now_ms, int64_t ms)
{
	open_for(b, now_ms, ms);
}
