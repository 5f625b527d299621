/* test_attached.c: attachments and attached messages outside the obvious
 * MIME shape (issue 16 D): message/rfc822 and message/global whatever
 * their transfer encoding and file name, uuencoded files in text bodies,
 * nested multiparts whose boundary begins with the outer one, and a bare
 * "Content-Type: text". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "analysis/analyze.h"
#include "analysis/uuencode.h"
#include "config/config.h"

#define HEADERS \
	"From: a@example.net\r\nTo: b@example.com\r\nSubject: test\r\nMIME-Version: 1.0\r\n"

#define INNER \
	"Received: from evil.example (evil.example [203.0.113.45]) by mx.example; Sat, 29 Nov 2026\r\n" \
	"Subject: locked\r\nContent-Type: text/plain\r\n\r\n" \
	"Unlock at https://unlock.example.org/verify?u=1\r\n"

static struct tm_config *cfg;

static bool has_url(const struct facts *f, const char *url)
{
	for (guint i = 0; i < f->urls->len; i++)
		if (strcmp(g_ptr_array_index(f->urls, i), url) == 0)
			return true;
	return false;
}

/* One reported message with INNER's facts and nothing else outside. */
static void expect_reported_inner(const char *msg)
{
	struct facts *f = analyze_buffer(msg, strlen(msg), cfg);

	assert_int_equal(f->attachments->len, 0);
	assert_int_equal(f->urls->len, 0);
	assert_int_equal(f->reported->len, 1);
	struct facts *inner = g_ptr_array_index(f->reported, 0);
	assert_string_equal(inner->sender_ip, "203.0.113.45");
	assert_true(has_url(inner, "https://unlock.example.org/verify?u=1"));
	facts_free(f);
}

static char *wrap(const char *part_headers, const char *body)
{
	return g_strdup_printf(HEADERS "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
			       "--m\r\n%s\r\n%s\r\n--m--\r\n", part_headers, body);
}

static void test_message_part_any_encoding_and_name(void **state)
{
	(void)state;
	char *b64 = g_base64_encode((const guchar *)INNER, strlen(INNER));
	char *msg;

	msg = wrap("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n", b64);
	expect_reported_inner(msg);
	g_free(msg);
	msg = wrap("Content-Type: message/global; name=\"scan.pdf\"\r\n"
		   "Content-Disposition: attachment; filename=\"scan.pdf\"\r\n"
		   "Content-Transfer-Encoding: BASE64\r\n", b64);
	expect_reported_inner(msg);
	g_free(msg);
	/* quoted-printable, with a soft break inside the URL */
	msg = wrap("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n",
		   "Received: from evil.example (evil.example [203.0.113.45]) by mx.example; Sat\r\n"
		   "Subject: locked\r\nContent-Type: text/plain\r\n\r\n"
		   "Unlock at https://unlock.example.org/ver=\r\nify?u=3D1\r\n");
	expect_reported_inner(msg);
	g_free(msg);
	/* 7bit message/global with a .txt name */
	msg = wrap("Content-Type: message/global\r\nContent-Disposition: attachment; filename=x.txt\r\n",
		   INNER);
	expect_reported_inner(msg);
	g_free(msg);
	g_free(b64);
}

static void test_uuencoded_files(void **state)
{
	(void)state;
	/* "Cat" uuencoded: length 3 -> '#', then "0V%T" */
	const char *msg = HEADERS "Content-Type: text/plain\r\n\r\n"
		"See https://before.example.net/a and the file.\r\n"
		"begin 644 invoice.pdf.exe\r\n#0V%T\r\n`\r\nend\r\n"
		"after https://after.example.net/b\r\n"
		"begin 600 notes.txt\r\n#0V%T\r\n`\r\nend\r\n";
	struct facts *f = analyze_buffer(msg, strlen(msg), cfg);

	assert_int_equal(f->attachments->len, 2);
	const struct attachment_fact *a = g_ptr_array_index(f->attachments, 0);
	assert_string_equal(a->filename, "invoice.pdf.exe");
	assert_string_equal(a->extension, "exe");
	assert_int_equal(a->size, 3);
	char *md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, "Cat", 3);
	assert_string_equal(a->md5, md5);
	g_free(md5);
	assert_string_equal(((struct attachment_fact *)g_ptr_array_index(f->attachments, 1))->filename,
			    "notes.txt");
	assert_int_equal(f->urls->len, 2);
	assert_true(has_url(f, "https://before.example.net/a"));
	assert_true(has_url(f, "https://after.example.net/b"));
	facts_free(f);
}

static void test_uuencoded_eml_is_reported(void **state)
{
	(void)state;
	GString *msg = g_string_new(HEADERS "Content-Type: text/plain\r\n\r\nForwarded:\r\nbegin 644 fwd.eml\r\n");
	const char *p = INNER;
	size_t left = strlen(INNER);

	/* encode INNER, 45 bytes a line */
	while (left > 0) {
		size_t n = MIN(left, 45);

		g_string_append_c(msg, (char)(' ' + n));
		for (size_t i = 0; i < n; i += 3) {
			unsigned char b[3] = { 0, 0, 0 };
			memcpy(b, p + i, MIN(3, n - i));
			unsigned v = (unsigned)b[0] << 16 | (unsigned)b[1] << 8 | b[2];
			for (int k = 3; k >= 0; k--) {
				unsigned c = (v >> (6 * k)) & 63;
				g_string_append_c(msg, c == 0 ? '`' : (char)(' ' + c));
			}
		}
		g_string_append(msg, "\r\n");
		p += n;
		left -= n;
	}
	g_string_append(msg, "`\r\nend\r\n");
	struct facts *f = analyze_buffer(msg->str, msg->len, cfg);
	assert_int_equal(f->attachments->len, 1);
	assert_int_equal(((struct attachment_fact *)g_ptr_array_index(f->attachments, 0))->size,
			 strlen(INNER));
	assert_int_equal(f->reported->len, 1);
	assert_true(has_url(g_ptr_array_index(f->reported, 0), "https://unlock.example.org/verify?u=1"));
	assert_int_equal(f->urls->len, 0);
	facts_free(f);
	g_string_free(msg, TRUE);
}

static void test_uu_extract_edges(void **state)
{
	(void)state;
	GString *rest;
	/* not begin lines: no mode, bad mode, no name, indented */
	assert_null(uu_extract("begin here\nbegin 9x4 a\nbegin 644 \n begin 644 a\n", 46, &rest));
	assert_null(rest);
	/* no "end": the block runs to the end; short line reads as zeros */
	const char *t = "x\nbegin 0644 a b.bin\n$0V%T\n";
	GPtrArray *files = uu_extract(t, strlen(t), &rest);
	assert_non_null(files);
	struct uu_file *file = g_ptr_array_index(files, 0);
	assert_string_equal(file->name, "a b.bin");
	assert_int_equal(file->data->len, 4);
	assert_memory_equal(file->data->data, "Cat\0", 4);
	assert_string_equal(rest->str, "x\n\n");
	g_ptr_array_unref(files);
	g_string_free(rest, TRUE);
}

static void test_prefix_boundaries(void **state)
{
	(void)state;
	const char *layouts[][2] = { { "abc", "abc1" }, { "abc1", "abc" }, { "=_b", "=_b=_2" },
				     { "x", "x--" } };

	for (size_t i = 0; i < G_N_ELEMENTS(layouts); i++) {
		char *msg = g_strdup_printf(HEADERS
			"Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
			"--%s\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
			"--%s\r\nContent-Type: text/plain\r\n\r\nhttps://inner-a.example.net/\r\n"
			"--%s\r\nContent-Type: text/html\r\n\r\n<a href=\"https://inner-b.example.net/\">b</a>\r\n"
			"--%s--\r\n\r\n--%s\r\nContent-Type: text/plain\r\n\r\nhttps://outer.example.net/\r\n"
			"--%s--\r\n", layouts[i][0], layouts[i][0], layouts[i][1], layouts[i][1],
			layouts[i][1], layouts[i][1], layouts[i][0], layouts[i][0]);
		struct facts *f = analyze_buffer(msg, strlen(msg), cfg);

		if (f->urls->len != 3 || f->attachments->len != 0)
			fail_msg("outer %s inner %s: %u URLs, %u attachments", layouts[i][0],
				 layouts[i][1], f->urls->len, f->attachments->len);
		facts_free(f);
		g_free(msg);
	}
}

static void test_bare_text_type_is_body(void **state)
{
	(void)state;
	const char *msg = HEADERS "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
		"--m\r\nContent-Type: text\r\n\r\nbare https://bare.example.net/a\r\n"
		"--m\r\nContent-Type: TEXT ; charset=utf-8\r\n\r\nbare https://bare2.example.net/b\r\n"
		"--m\r\nContent-Type: text\r\nContent-Disposition: attachment; filename=\"t.txt\"\r\n\r\n"
		"named\r\n--m--\r\n";
	struct facts *f = analyze_buffer(msg, strlen(msg), cfg);

	assert_true(has_url(f, "https://bare.example.net/a"));
	assert_true(has_url(f, "https://bare2.example.net/b"));
	assert_int_equal(f->attachments->len, 1);
	assert_string_equal(((struct attachment_fact *)g_ptr_array_index(f->attachments, 0))->filename,
			    "t.txt");
	facts_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_part_any_encoding_and_name),
		cmocka_unit_test(test_uuencoded_files),
		cmocka_unit_test(test_uuencoded_eml_is_reported),
		cmocka_unit_test(test_uu_extract_edges),
		cmocka_unit_test(test_prefix_boundaries),
		cmocka_unit_test(test_bare_text_type_is_body),
	};
	analyze_init();
	cfg = config_defaults();
	int failed = cmocka_run_group_tests_name("attached", tests, NULL, NULL);
	config_unref(cfg);
	analyze_shutdown();
	return failed;
}
