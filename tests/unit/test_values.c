/* test_values.c: the value parsers both configuration files use
 * (config/values.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <cmocka.h>
#include <glib.h>

#include "config/values.h"

static void test_bool(void **state)
{
	(void)state;
	bool b = false;

	assert_true(value_parse_bool("YES", &b) && b);
	assert_true(value_parse_bool("off", &b) && !b);
	assert_true(value_parse_bool("1", &b) && b);
	assert_true(value_parse_bool("False", &b) && !b);
	b = true;
	assert_false(value_parse_bool("maybe", &b));
	assert_false(value_parse_bool("", &b));
	assert_true(b);		/* untouched on error */
	assert_string_equal(value_format_bool(true), "yes");
}

static void test_uint(void **state)
{
	(void)state;
	unsigned long long n = 7;

	assert_true(value_parse_uint("42", 0, 100, &n) && n == 42);
	assert_false(value_parse_uint("-1", 0, 100, &n));
	assert_false(value_parse_uint("+1", 0, 100, &n));
	assert_false(value_parse_uint("101", 0, 100, &n));
	assert_false(value_parse_uint("0", 1, 100, &n));
	assert_false(value_parse_uint("12abc", 0, 100, &n));
	assert_false(value_parse_uint("99999999999999999999999", 0, ULLONG_MAX, &n));
	assert_int_equal(n, 42);
}

static void test_size(void **state)
{
	(void)state;
	unsigned long long n = 0;

	assert_true(value_parse_size("1000", 0, ULLONG_MAX, &n) && n == 1000);
	assert_true(value_parse_size("10K", 0, ULLONG_MAX, &n) && n == 10240);
	assert_true(value_parse_size("32m", 0, ULLONG_MAX, &n) && n == 32ULL << 20);
	assert_true(value_parse_size("2G", 0, ULLONG_MAX, &n) && n == 2ULL << 30);
	assert_false(value_parse_size("10X", 0, ULLONG_MAX, &n));
	assert_false(value_parse_size("10KB", 0, ULLONG_MAX, &n));
	assert_false(value_parse_size("K", 0, ULLONG_MAX, &n));
	assert_false(value_parse_size("20M", 0, 10ULL << 20, &n));
	/* would overflow when scaled */
	assert_false(value_parse_size("18014398509481984G", 0, ULLONG_MAX, &n));
	char *s = value_format_size(32ULL << 20);
	assert_string_equal(s, "32M");
	g_free(s);
	s = value_format_size(1536);
	assert_string_equal(s, "1536");	/* not a whole K: 1.5K is not a size */
	g_free(s);
}

static void test_duration_bare_number_is_seconds(void **state)
{
	(void)state;
	unsigned long long ms = 0;

	assert_true(value_parse_duration_ms("10", 0, ULLONG_MAX, &ms));
	assert_int_equal(ms, 10000);
	assert_true(value_parse_duration_ms("10s", 0, ULLONG_MAX, &ms) && ms == 10000);
	assert_true(value_parse_duration_ms("500ms", 0, ULLONG_MAX, &ms) && ms == 500);
	assert_true(value_parse_duration_ms("2m", 0, ULLONG_MAX, &ms) && ms == 120000);
	assert_true(value_parse_duration_ms("1h", 0, ULLONG_MAX, &ms) && ms == 3600000);
	assert_true(value_parse_duration_ms("0", 0, ULLONG_MAX, &ms) && ms == 0);
	assert_false(value_parse_duration_ms("0", 1, ULLONG_MAX, &ms));
	assert_false(value_parse_duration_ms("5 s", 0, ULLONG_MAX, &ms));
	assert_false(value_parse_duration_ms("5d", 0, ULLONG_MAX, &ms));
	assert_false(value_parse_duration_ms("soon", 0, ULLONG_MAX, &ms));
	assert_false(value_parse_duration_ms("11m", 0, 600000, &ms));
	assert_false(value_parse_duration_ms("18446744073709551615h", 0, ULLONG_MAX, &ms));
	/* every formatted value reads back to itself */
	const unsigned long long samples[] = { 0, 1, 999, 1000, 1500, 60000, 90000, 3600000,
					       7200000, 86400000 };
	for (size_t i = 0; i < G_N_ELEMENTS(samples); i++) {
		char *text = value_format_duration_ms(samples[i]);

		assert_true(value_parse_duration_ms(text, 0, ULLONG_MAX, &ms));
		assert_int_equal(ms, samples[i]);
		g_free(text);
	}
	char *text = value_format_duration_ms(300000);
	assert_string_equal(text, "5m");
	g_free(text);
}

static void test_enum(void **state)
{
	(void)state;
	static const char *const names[] = { "inline", "report" };

	assert_int_equal(value_parse_enum("REPORT", names, 2), 1);
	assert_int_equal(value_parse_enum("inline", names, 2), 0);
	assert_int_equal(value_parse_enum("sideways", names, 2), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration_bare_number_is_seconds),
		cmocka_unit_test(test_enum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
