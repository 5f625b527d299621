/* test_base64.c: canonical base64 gives GMime's bytes; any other input
 * is refused with the output untouched, for GMime to decode (base64.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "analysis/base64.h"

static GByteArray *gmime_decoded(const char *in, size_t len)
{
	GMimeEncoding state;
	GByteArray *out = g_byte_array_sized_new((guint)len + 8);
	size_t n;

	g_byte_array_set_size(out, (guint)len + 8);
	g_mime_encoding_init_decode(&state, GMIME_CONTENT_ENCODING_BASE64);
	n = g_mime_encoding_step(&state, in, len, (char *)out->data);
	n += g_mime_encoding_flush(&state, "", 0, (char *)out->data + n);
	g_byte_array_set_size(out, (guint)n);
	return out;
}

static void expect(const char *in, size_t len, bool canonical)
{
	GByteArray *out = g_byte_array_new();
	bool ok;

	g_byte_array_append(out, (const guint8 *)"x", 1);	/* appended after */
	ok = base64_decode_canonical((const guint8 *)in, len, out);
	if (ok != canonical)
		fail_msg("\"%s\": %s, expected %s", in, ok ? "decoded" : "refused",
			 canonical ? "decoded" : "refused");
	if (ok) {
		GByteArray *want = gmime_decoded(in, len);

		assert_int_equal(out->len, want->len + 1);
		assert_memory_equal(out->data + 1, want->data, want->len);
		g_byte_array_unref(want);
	} else {
		assert_int_equal(out->len, 1);
	}
	g_byte_array_unref(out);
}

static void test_canonical(void **state)
{
	(void)state;
	const char *in[] = {
		"", "\r\n", "QUJD", "QUJDRA==", "QUJDREU=", "QUJD\r\nREVG\r\n", "QUJD\nRA==\n\n",
		"+/+/", "QQ==\r\n\r\n",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(in); i++)
		expect(in[i], strlen(in[i]), true);
	/* random files as encoders write them: 76-letter CRLF lines */
	for (guint size = 0; size < 3000; size += 97) {
		guint8 *data = g_malloc(size + 1);
		GString *text = g_string_new(NULL);
		char *b64;

		for (guint i = 0; i < size; i++)
			data[i] = (guint8)(i * 131 + size);
		b64 = g_base64_encode(data, size);
		for (size_t i = 0; b64[i] != '\0'; i++) {
			if (i > 0 && i % 76 == 0)
				g_string_append(text, "\r\n");
			g_string_append_c(text, b64[i]);
		}
		expect(text->str, text->len, true);
		g_string_free(text, TRUE);
		g_free(b64);
		g_free(data);
	}
}

/* GMime skips stray bytes and decodes cut groups and text after '='
 * its own (version-dependent) way: none of that is decoded here. */
static void test_refused(void **state)
{
	(void)state;
	const char *in[] = {
		"QUJD RA==", "QUJD\tRA==", "QUJDRA", "QUJDR", "QQ=A", "Q===", "QUJD=",
		"QUJD\r\nRA==QUJD", "QUJDRA==\r\nx", "\x80QUJD", "QUJD-_==", "A", "QQ=",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(in); i++)
		expect(in[i], strlen(in[i]), false);
	expect("QU\0D", 4, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_refused),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
