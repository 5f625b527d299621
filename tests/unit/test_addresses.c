/* test_addresses.c: From:/Reply-To: addresses as INDICATOR_EMAIL facts
 * (analysis/addresses.h): what is kept, how it is normalised, what is
 * dropped so that no address can carry header or log injection. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <gmime/gmime.h>

#include "analysis/addresses.h"

static void assert_norm(const char *in, const char *want)
{
	char *got = address_normalize(in);

	if (want == NULL) {
		if (got != NULL)
			fail_msg("'%s' kept as '%s'", in ? in : "(null)", got);
	} else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	g_free(got);
}

static void test_normalize(void **state)
{
	(void)state;
	assert_norm("Bob@Mailinator.COM", "Bob@mailinator.com");
	assert_norm("bob.smith+tag@example.com.", "bob.smith+tag@example.com");
	assert_norm("x@b\xc3\xbc" "cher.example", "x@xn--bcher-kva.example");
	assert_norm("bob@localhost", NULL);			/* one label */
	assert_norm("\"quoted local\"@example.com", NULL);
	assert_norm("a\r\nX-Injected: 1@example.com", NULL);
	assert_norm("bob@exa mple.com", NULL);
	assert_norm("bob@-example.com", NULL);
	assert_norm(".bob@example.com", NULL);
	assert_norm("@example.com", NULL);
	assert_norm("bob", NULL);
	assert_norm(NULL, NULL);
}

static void test_collect(void **state)
{
	static const char raw[] =
		"From: Bob <BOB@Example.COM>, undisclosed: a@one.example, b@two.example;\r\n"
		"Reply-To: bob@example.com, \"C\" <c@three.example>\r\n"
		"Subject: x\r\n\r\nbody\r\n";
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw, sizeof(raw) - 1);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	(void)state;
	assert_non_null(msg);
	addresses_collect(msg, out);
	assert_int_equal(out->len, 5);
	assert_string_equal(g_ptr_array_index(out, 0), "BOB@example.com");
	assert_string_equal(g_ptr_array_index(out, 1), "a@one.example");
	assert_string_equal(g_ptr_array_index(out, 2), "b@two.example");
	assert_string_equal(g_ptr_array_index(out, 3), "bob@example.com");
	assert_string_equal(g_ptr_array_index(out, 4), "c@three.example");
	g_ptr_array_unref(out);
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_collect),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
