/* ratelimit.c: token buckets for RateLimit. */
#include "engine/ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

struct bucket {
	double capacity;	/* N */
	double tokens;
	double per_ms;		/* refill rate: N / period */
	int64_t updated_ms;
	int64_t period_ms;
};

struct ratelimit {
	size_t count;
	struct bucket buckets[];
};

static const struct {
	const char *name;
	int64_t ms;
} periods[] = {
	{ "second", 1000 }, { "minute", 60000 }, { "hour", 3600000 }, { "day", 86400000 },
};

/* One "N/period" item. */
static bool parse_item(const char *item, struct bucket *out, char *err, size_t errlen)
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
			out->capacity = out->tokens = (double)n;
			out->per_ms = (double)n / (double)periods[i].ms;
			out->updated_ms = INT64_MIN;
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
	struct ratelimit *rl = g_malloc0(sizeof(*rl) + n * sizeof(struct bucket));

	for (guint i = 0; i < n; i++) {
		char *item = g_strstrip(items[i]);

		if (*item == '\0')
			continue;
		if (!parse_item(item, &rl->buckets[rl->count], err, errlen)) {
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

	g_free(rl);
	return rl != NULL;
}

void ratelimit_free(struct ratelimit *rl)
{
	g_free(rl);
}

static void refill(struct bucket *b, int64_t now_ms)
{
	if (b->updated_ms != INT64_MIN && now_ms > b->updated_ms) {
		b->tokens += (double)(now_ms - b->updated_ms) * b->per_ms;
		if (b->tokens > b->capacity)
			b->tokens = b->capacity;
	}
	b->updated_ms = now_ms;
}

bool ratelimit_take(struct ratelimit *rl, int64_t now_ms)
{
	for (size_t i = 0; i < rl->count; i++) {
		refill(&rl->buckets[i], now_ms);
		if (rl->buckets[i].tokens < 1.0)
			return false;
	}
	for (size_t i = 0; i < rl->count; i++)
		rl->buckets[i].tokens -= 1.0;
	return true;
}

int64_t ratelimit_wait_ms(const struct ratelimit *rl, int64_t now_ms)
{
	int64_t wait = 0;

	for (size_t i = 0; i < rl->count; i++) {
		const struct bucket *b = &rl->buckets[i];
		double tokens = b->tokens;

		if (b->updated_ms != INT64_MIN && now_ms > b->updated_ms)
			tokens += (double)(now_ms - b->updated_ms) * b->per_ms;
		if (tokens < 1.0) {
			int64_t w = (int64_t)((1.0 - tokens) / b->per_ms) + 1;
			if (w > wait)
				wait = w;
		}
	}
	return wait;
}

bool ratelimit_bucket(const struct ratelimit *rl, size_t i, unsigned *n, int64_t *period_ms)
{
	if (rl == NULL || i >= rl->count)
		return false;
	*n = (unsigned)rl->buckets[i].capacity;
	*period_ms = rl->buckets[i].period_ms;
	return true;
}
