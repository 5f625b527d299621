/* values.h: the value syntax shared by threatmilter.conf and the
 * integration files (threatmilter.conf(5), "VALUES").
 *
 * Every parser takes the whole value text (already trimmed by kvfile) and
 * returns false, leaving *out untouched, when the text is not exactly one
 * value of its kind; none of them writes an error message, the caller
 * names the key. Every formatter returns a new string (g_free) that the
 * matching parser reads back to the same value. */
#ifndef TM_VALUES_H
#define TM_VALUES_H

#include <stdbool.h>
#include <stddef.h>

/* yes/no, true/false, on/off, 1/0, case-insensitive. */
bool value_parse_bool(const char *text, bool *out);
const char *value_format_bool(bool value);	/* "yes" / "no", static */

/* A decimal integer in [min, max]; no sign, no suffix. */
bool value_parse_uint(const char *text, unsigned long long min,
		      unsigned long long max, unsigned long long *out);

/* A size in bytes: a number with an optional K, M or G suffix (powers of
 * 1024, either case), in [min, max] bytes. */
bool value_parse_size(const char *text, unsigned long long min,
		      unsigned long long max, unsigned long long *bytes);
/* The shortest exact form: 33554432 -> "32M", 1000 -> "1000". */
char *value_format_size(unsigned long long bytes);

/* A duration in milliseconds: a number with an optional unit ms, s, m or
 * h. A bare number means SECONDS ("10" = "10s"), as in the sample
 * configuration. Result in [min_ms, max_ms]. */
bool value_parse_duration_ms(const char *text, unsigned long long min_ms,
			     unsigned long long max_ms, unsigned long long *ms);
/* The largest exact unit: 300000 -> "5m", 1500 -> "1500ms", 0 -> "0". */
char *value_format_duration_ms(unsigned long long ms);

/* One of `names` (count entries), case-insensitive: its index, or -1. */
int value_parse_enum(const char *text, const char *const *names, size_t count);

#endif
