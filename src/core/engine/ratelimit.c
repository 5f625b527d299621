/* ratelimit.c: RateLimit as a sliding window per item (ratelimit.h). */
#include "engine/ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

/* One "N/period" item: the times of its grants still in the window, at
 * most N, oldest first. They are appended; those that left the window
 * are skipped (first) and dropped once they are half the array, so an
 * item of 100000/day holds what its traffic of one period holds. */
struct window {
	unsigned limit;		/* N */
	int64_t period_ms;
	GArray *grants;		/* int64_t ms; NULL until the first grant */
	guint first;		/* the oldest still in the window */
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
	for (size_t i = 0; i < rl->count; i++) {
		if (rl->items[i].grants != NULL)
			g_array_free(rl->items[i].grants, TRUE);
	}
	g_free(rl);
}

static guint in_window(const struct window *w)
{
	return w->grants == NULL ? 0 : w->grants->len - w->first;
}

static int64_t oldest(const struct window *w)
{
	return g_array_index(w->grants, int64_t, w->first);
}

/* Skips the grants that left the window (time <= now - period); drops
 * them once they are half the array (amortised O(1) a grant). */
static void expire(struct window *w, int64_t now_ms)
{
	while (in_window(w) > 0 && oldest(w) <= now_ms - w->period_ms)
		w->first++;
	if (w->first > 0 && w->first >= w->grants->len / 2) {
		g_array_remove_range(w->grants, 0, w->first);
		w->first = 0;
	}
}

/* Counts a grant at now_ms. A clock that went back is read as the last
 * grant's time, keeping the grants in order. */
static void record(struct window *w, int64_t now_ms)
{
	if (w->grants == NULL)
		w->grants = g_array_new(FALSE, FALSE, sizeof(int64_t));
	if (w->grants->len > 0) {
		int64_t last = g_array_index(w->grants, int64_t, w->grants->len - 1);

		if (now_ms < last)
			now_ms = last;
	}
	g_array_append_val(w->grants, now_ms);
}

bool ratelimit_take(struct ratelimit *rl, int64_t now_ms)
{
	for (size_t i = 0; i < rl->count; i++) {
		expire(&rl->items[i], now_ms);
		if (in_window(&rl->items[i]) >= rl->items[i].limit)
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

		/* full: its last N grants are kept, the oldest first */
		if (in_window(w) >= w->limit && oldest(w) + w->period_ms - now_ms > wait)
			wait = oldest(w) + w->period_ms - now_ms;
	}
	return wait;
}

void ratelimit_carry(struct ratelimit *to, const struct ratelimit *from)
{
	const struct window *longest = NULL;

	for (size_t i = 0; i < from->count; i++)
		if (longest == NULL || from->items[i].period_ms > longest->period_ms)
			longest = &from->items[i];
	if (longest == NULL || in_window(longest) == 0)
		return;
	for (size_t i = 0; i < to->count; i++) {
		struct window *w = &to->items[i];
		guint n = MIN(in_window(longest), w->limit);

		/* the most recent N decide exactly as all of them would */
		for (guint k = longest->grants->len - n; k < longest->grants->len; k++)
			record(w, g_array_index(longest->grants, int64_t, k));
	}
}

bool ratelimit_item(const struct ratelimit *rl, size_t i, unsigned *n, int64_t *period_ms)
{
	if (rl == NULL || i >= rl->count)
		return false;
	*n = rl->items[i].limit;
	*period_ms = rl->items[i].period_ms;
	return true;
}
