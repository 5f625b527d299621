/* values.c: booleans, integers, sizes, durations and enumerations. */
#include "config/values.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

bool value_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };
	static const char *const no[] = { "no", "false", "0", "off" };

	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

const char *value_format_bool(bool value)
{
	return value ? "yes" : "no";
}

/* The leading decimal number; *rest points after it. */
static bool leading_number(const char *text, unsigned long long *out, const char **rest)
{
	char *end;

	if (!g_ascii_isdigit(*text))
		return false;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 10);
	if (errno != 0)
		return false;
	*out = n;
	*rest = end;
	return true;
}

bool value_parse_uint(const char *text, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	unsigned long long n;
	const char *rest;

	if (!leading_number(text, &n, &rest) || *rest != '\0' || n < min || n > max)
		return false;
	*out = n;
	return true;
}

/* *out = n * unit when that neither overflows nor falls outside
 * [min, max]; otherwise false and *out untouched. */
static bool scale_in_range(unsigned long long n, unsigned long long unit, unsigned long long min,
			   unsigned long long max, unsigned long long *out)
{
	if (unit != 0 && n > ULLONG_MAX / unit)
		return false;
	if (n * unit < min || n * unit > max)
		return false;
	*out = n * unit;
	return true;
}

bool value_parse_size(const char *text, unsigned long long min, unsigned long long max,
		      unsigned long long *bytes)
{
	static const struct { char suffix; unsigned long long unit; } units[] = {
		{ '\0', 1 }, { 'k', 1024ULL }, { 'm', 1024ULL * 1024 },
		{ 'g', 1024ULL * 1024 * 1024 },
	};
	unsigned long long n;
	const char *rest;

	if (!leading_number(text, &n, &rest) || (*rest != '\0' && rest[1] != '\0'))
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
		if (g_ascii_tolower(*rest) == units[i].suffix)
			return scale_in_range(n, units[i].unit, min, max, bytes);
	return false;
}

char *value_format_size(unsigned long long bytes)
{
	static const struct { const char *suffix; unsigned long long unit; } units[] = {
		{ "G", 1024ULL * 1024 * 1024 }, { "M", 1024ULL * 1024 }, { "K", 1024ULL },
	};

	for (size_t i = 0; bytes != 0 && i < G_N_ELEMENTS(units); i++)
		if (bytes % units[i].unit == 0)
			return g_strdup_printf("%llu%s", bytes / units[i].unit, units[i].suffix);
	return g_strdup_printf("%llu", bytes);
}

static const struct { const char *unit; unsigned long long ms; } duration_units[] = {
	{ "h", 3600000ULL }, { "m", 60000ULL }, { "s", 1000ULL }, { "ms", 1ULL },
	{ "", 1000ULL },	/* a bare number: seconds */
};

bool value_parse_duration_ms(const char *text, unsigned long long min_ms,
			     unsigned long long max_ms, unsigned long long *ms)
{
	unsigned long long n;
	const char *rest;

	if (!leading_number(text, &n, &rest))
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(duration_units); i++)
		if (strcmp(rest, duration_units[i].unit) == 0)
			return scale_in_range(n, duration_units[i].ms, min_ms, max_ms, ms);
	return false;
}

char *value_format_duration_ms(unsigned long long ms)
{
	if (ms == 0)
		return g_strdup("0");
	for (size_t i = 0; i < G_N_ELEMENTS(duration_units) - 1; i++)
		if (ms % duration_units[i].ms == 0)
			return g_strdup_printf("%llu%s", ms / duration_units[i].ms,
					       duration_units[i].unit);
	return g_strdup_printf("%llums", ms);	/* not reached: "ms" divides all */
}

int value_parse_enum(const char *text, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (g_ascii_strcasecmp(text, names[i]) == 0)
			return (int)i;
	return -1;
}
