/* ratelimit.c: RateLimit as a sliding window per item (ratelimit.h). */
#include "engine/ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

/* One "N/period" item: the times of its grants still in the window, at
 * most N, oldest first, in a ring. The ring grows (doubling, up to N)
 * only when the grants of one period fill it, so an item of 100000/day
 * costs what its traffic holds, not N slots up front. */
struct window {
	unsigned limit;		/* N */
	int64_t period_ms;
	int64_t *grants;	/* ring of cap grant times (ms) */
	size_t cap;
	size_t head;		/* the oldest */
	size_t len;		/* <= limit */
};

struct ratelimit {
	size_t count;
	struct window items[];
};

static const struct {
	const char *name;
	int64_t ms;
} periods[] = {
	{ "second", 1000 }, { "minute", 60000 }, { "hour", 3600000 }, { "day", 86400000 },
};

/* One "N/period" item. */
static bool parse_item(const char *item, struct window *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(item, &end, 10);

	if (end == item || errno != 0 || n == 0 || n > 100000000 || *end != '/') {
		snprintf(err, errlen, "'%s': expected N/second, N/minute, N/hour or N/day with N > 0", item);
		return false;
	}
	const char *unit = end + 1;
	for (size_t i = 0; i < G_N_ELEMENTS(periods); i++) {
		if (g_ascii_strcasecmp(unit, periods[i].name) == 0) {
			out->limit = (unsigned)n;
			out->period_ms = periods[i].ms;
			return true;
		}
	}
	snprintf(err, errlen, "'%s': unknown period '%s' (second, minute, hour, day)", item, unit);
	return false;
}

static struct ratelimit *parse(const char *spec, char *err, size_t errlen)
{
	char **items = g_strsplit(spec ? spec : "", ",", -1);
	guint n = g_strv_length(items);
	struct ratelimit *rl = g_malloc0(sizeof(*rl) + n * sizeof(struct window));

	for (guint i = 0; i < n; i++) {
		char *item = g_strstrip(items[i]);

		if (*item == '\0')
			continue;
		if (!parse_item(item, &rl->items[rl->count], err, errlen)) {
			g_free(rl);
			rl = NULL;
			break;
		}
		rl->count++;
	}
	g_strfreev(items);
	return rl;
}

struct ratelimit *ratelimit_new(const char *spec, char *err, size_t errlen)
{
	return parse(spec, err, errlen);
}

bool ratelimit_spec_valid(const char *spec, char *err, size_t errlen)
{
	struct ratelimit *rl = parse(spec, err, errlen);

	ratelimit_free(rl);
	return rl != NULL;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	for (size_t i = 0; i < rl->count; i++)
		g_free(rl->items[i].grants);
	g_free(rl);
}

static int64_t oldest(const struct window *w)
{
	return w->grants[w->head];
}

/* Forgets the grants that left the window (time <= now - period). */
static void expire(struct window *w, int64_t now_ms)
{
	while (w->len > 0 && oldest(w) <= now_ms - w->period_ms) {
		w->head = (w->head + 1) % w->cap;
		w->len--;
	}
}

/* Doubles the ring (at most to N), the oldest first again. */
static void grow(struct window *w)
{
	size_t cap = w->cap == 0 ? 4 : w->cap * 2;
	int64_t *grants;

	if (cap > w->limit)
		cap = w->limit;
	grants = g_new(int64_t, cap);
	for (size_t i = 0; i < w->len; i++)
		grants[i] = w->grants[(w->head + i) % w->cap];
	g_free(w->grants);
	w->grants = grants;
	w->cap = cap;
	w->head = 0;
}

/* Counts a grant at now_ms; the caller saw len < limit. A clock that went
 * back is read as the last grant's time, keeping the ring in order. */
static void record(struct window *w, int64_t now_ms)
{
	if (w->len == w->cap)
		grow(w);
	if (w->len > 0) {
		int64_t last = w->grants[(w->head + w->len - 1) % w->cap];

		if (now_ms < last)
			now_ms = last;
	}
	w->grants[(w->head + w->len) % w->cap] = now_ms;
	w->len++;
}

bool ratelimit_take(struct ratelimit *rl, int64_t now_ms)
{
	for (size_t i = 0; i < rl->count; i++) {
		expire(&rl->items[i], now_ms);
		if (rl->items[i].len >= rl->items[i].limit)
			return false;
	}
	for (size_t i = 0; i < rl->count; i++)
		record(&rl->items[i], now_ms);
	return true;
}

int64_t ratelimit_wait_ms(const struct ratelimit *rl, int64_t now_ms)
{
	int64_t wait = 0;

	for (size_t i = 0; i < rl->count; i++) {
		const struct window *w = &rl->items[i];

		/* full: the last N grants are all in the ring, oldest at head */
		if (w->len >= w->limit && oldest(w) + w->period_ms - now_ms > wait)
			wait = oldest(w) + w->period_ms - now_ms;
	}
	return wait;
}

bool ratelimit_bucket(const struct ratelimit *rl, size_t i, unsigned *n, int64_t *period_ms)
{
	if (rl == NULL || i >= rl->count)
		return false;
	*n = rl->items[i].limit;
	*period_ms = rl->items[i].period_ms;
	return true;
}
