/* test_analyze.c: the MIME walk of analyze.c on messages built in memory:
 * limits, reported messages, filenames, executables and lenient decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "analysis/analyze.h"
#include "config/config.h"

#define HEADERS \
	"Received: from a.example (a.example [198.51.100.9])\r\n" \
	"\tby mx.example with ESMTP id T; Tue, 2 Jan 2024 10:00:00 +0000\r\n" \
	"From: a@example.net\r\nTo: b@example.com\r\nSubject: test\r\n" \
	"MIME-Version: 1.0\r\n"

static struct tm_config *cfg;

static struct facts *analyze_text(const char *text)
{
	return analyze_buffer(text, strlen(text), cfg);
}

static const struct attachment_fact *attachment(const struct facts *f, guint i)
{
	assert_true(i < f->attachments->len);
	return g_ptr_array_index(f->attachments, i);
}

static bool has_url(const struct facts *f, const char *url)
{
	for (guint i = 0; i < f->urls->len; i++)
		if (strcmp(g_ptr_array_index(f->urls, i), url) == 0)
			return true;
	return false;
}

static void test_sender_ip_and_body_url(void **state)
{
	(void)state;
	struct facts *f = analyze_text(HEADERS "Content-Type: text/plain\r\n\r\n"
				       "see https://x.badhost.example/a now\r\n");
	assert_string_equal(f->sender_ip, "198.51.100.9");
	assert_int_equal(f->urls->len, 1);
	assert_true(has_url(f, "https://x.badhost.example/a"));
	assert_int_equal(f->attachments->len, 0);
	assert_int_equal(f->limits, 0);
	facts_free(f);
}

/* Nested multiparts deeper than MaxMimeDepth: the walk stops there and
 * says so, the shallower parts still count. */
static void test_mime_depth_limit(void **state)
{
	(void)state;
	GString *msg = g_string_new(HEADERS);
	unsigned levels = 12;

	for (unsigned i = 0; i < levels; i++)
		g_string_append_printf(msg, "Content-Type: multipart/mixed; boundary=\"b%u\"\r\n\r\n--b%u\r\n", i, i);
	g_string_append(msg, "Content-Type: text/plain\r\n\r\nhttps://deep.badhost.example/\r\n");
	for (unsigned i = levels; i-- > 0;)
		g_string_append_printf(msg, "--b%u--\r\n", i);

	cfg->max_mime_depth = 4;
	struct facts *f = analyze_text(msg->str);
	assert_true(f->limits & LIMIT_MIME_DEPTH);
	assert_false(has_url(f, "https://deep.badhost.example/"));
	facts_free(f);

	cfg->max_mime_depth = 32;
	f = analyze_text(msg->str);
	assert_false(f->limits & LIMIT_MIME_DEPTH);
	assert_true(has_url(f, "https://deep.badhost.example/"));
	facts_free(f);
	g_string_free(msg, TRUE);
}

static char *nested_rfc822(unsigned levels)
{
	GString *msg = g_string_new("");

	for (unsigned i = 0; i < levels; i++)
		g_string_append_printf(msg,
			"Subject: level %u\r\nMIME-Version: 1.0\r\n"
			"Content-Type: multipart/mixed; boundary=\"r%u\"\r\n\r\n"
			"--r%u\r\nContent-Type: text/plain\r\n\r\nhttps://level%u.badhost.example/\r\n"
			"--r%u\r\nContent-Type: message/rfc822\r\n\r\n", i, i, i, i, i);
	g_string_append(msg, "Subject: innermost\r\n\r\nhttps://innermost.badhost.example/\r\n");
	for (unsigned i = levels; i-- > 0;)
		g_string_append_printf(msg, "\r\n--r%u--\r\n", i);
	return g_string_free(msg, FALSE);
}

static void test_reported_depth_limit(void **state)
{
	(void)state;
	char *msg = nested_rfc822(6);

	cfg->max_reported_depth = 2;
	struct facts *f = analyze_text(msg);
	assert_true(has_url(f, "https://level0.badhost.example/"));
	assert_int_equal(f->reported->len, 1);
	struct facts *r1 = g_ptr_array_index(f->reported, 0);
	assert_true(has_url(r1, "https://level1.badhost.example/"));
	assert_false(has_url(r1, "https://level0.badhost.example/"));
	assert_int_equal(r1->reported->len, 1);
	struct facts *r2 = g_ptr_array_index(r1->reported, 0);
	assert_true(has_url(r2, "https://level2.badhost.example/"));
	assert_int_equal(r2->reported->len, 0);
	assert_true(r2->limits & LIMIT_REPORTED_DEPTH);
	facts_free(f);
	cfg->max_reported_depth = 3;
	g_free(msg);
}

/* Mail clients forward a message as an .eml of any content type; its URLs
 * belong to the reported message, the file is an attachment too. */
static void test_eml_attachment_as_text_plain(void **state)
{
	(void)state;
	struct facts *f = analyze_text(HEADERS
		"Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
		"--o\r\nContent-Type: text/plain\r\n\r\nPlease check https://outer.corp.example/\r\n"
		"--o\r\nContent-Type: text/plain; name=\"fwd.eml\"\r\n"
		"Content-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n"
		"Received: from p.example (p.example [203.0.113.5]) by mx; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
		"Subject: inner\r\nContent-Type: text/plain\r\n\r\nhttps://inner.badhost.example/login\r\n"
		"--o--\r\n");
	assert_int_equal(f->urls->len, 1);
	assert_true(has_url(f, "https://outer.corp.example/"));
	assert_int_equal(f->attachments->len, 1);
	assert_string_equal(attachment(f, 0)->filename, "fwd.eml");
	assert_string_equal(attachment(f, 0)->extension, "eml");
	assert_int_equal(f->reported->len, 1);
	struct facts *inner = g_ptr_array_index(f->reported, 0);
	assert_true(has_url(inner, "https://inner.badhost.example/login"));
	assert_string_equal(inner->sender_ip, "203.0.113.5");
	facts_free(f);
}

static void test_eml_attachment_base64_octet_stream(void **state)
{
	(void)state;
	const char *inner = "Subject: inner\r\n\r\nhttps://b64.badhost.example/x\r\n";
	char *b64 = g_base64_encode((const guchar *)inner, strlen(inner));
	char *msg = g_strdup_printf(HEADERS
		"Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
		"--o\r\nContent-Type: text/plain\r\n\r\nfyi\r\n"
		"--o\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment; filename=\"Report.EML\"\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--o--\r\n", b64);
	struct facts *f = analyze_text(msg);
	assert_int_equal(f->reported->len, 1);
	assert_true(has_url(g_ptr_array_index(f->reported, 0), "https://b64.badhost.example/x"));
	assert_int_equal(attachment(f, 0)->size, strlen(inner));
	facts_free(f);
	g_free(msg);
	g_free(b64);
}

static char *message_with_attachment(const char *filename, const unsigned char *data, size_t len)
{
	char *b64 = g_base64_encode(data, len);
	char *msg = g_strdup_printf(HEADERS
		"Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
		"--o\r\nContent-Type: text/plain\r\n\r\nattached\r\n"
		"--o\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment; filename=\"%s\"\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--o--\r\n", filename, b64);
	g_free(b64);
	return msg;
}

/* Executable by content: a PE file named .pdf is executable, a file that
 * merely starts with MZ is not. */
static void test_executable_by_content(void **state)
{
	(void)state;
	unsigned char pe[256] = { 'M', 'Z' };
	pe[0x3c] = 0x80;
	memcpy(pe + 0x80, "PE\0\0", 4);
	char *msg = message_with_attachment("invoice.pdf", pe, sizeof(pe));
	struct facts *f = analyze_text(msg);
	assert_true(attachment(f, 0)->executable);
	assert_string_equal(attachment(f, 0)->extension, "pdf");
	assert_int_equal(attachment(f, 0)->size, sizeof(pe));
	facts_free(f);
	g_free(msg);

	unsigned char fake[256] = { 'M', 'Z' };
	fake[0x3c] = 0xf0;	/* points past the PE signature area: not PE */
	msg = message_with_attachment("tool.exe", fake, sizeof(fake));
	f = analyze_text(msg);
	assert_false(attachment(f, 0)->executable);
	facts_free(f);
	g_free(msg);

	static const unsigned char elf[] = "\x7f" "ELF\x02\x01\x01";
	msg = message_with_attachment("update", elf, sizeof(elf));
	f = analyze_text(msg);
	assert_true(attachment(f, 0)->executable);
	assert_string_equal(attachment(f, 0)->extension, "");
	facts_free(f);
	g_free(msg);
}

static void test_filename_rfc2231_and_rfc2047(void **state)
{
	(void)state;
	struct facts *f = analyze_text(HEADERS
		"Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
		"--o\r\nContent-Type: application/pdf\r\n"
		"Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20invoice.PDF\r\n\r\nx\r\n"
		"--o\r\nContent-Type: application/zip; name=\"=?UTF-8?B?w6lsw6h2ZS56aXA=?=\"\r\n\r\ny\r\n"
		"--o--\r\n");
	assert_int_equal(f->attachments->len, 2);
	assert_string_equal(attachment(f, 0)->filename, "\xe2\x82\xac invoice.PDF");
	assert_string_equal(attachment(f, 0)->extension, "pdf");
	assert_string_equal(attachment(f, 1)->filename, "\xc3\xa9l\xc3\xa8ve.zip");
	assert_string_equal(attachment(f, 1)->extension, "zip");
	facts_free(f);
}

/* Broken base64: invalid characters skipped, an incomplete final group
 * dropped; and a missing closing boundary ends the part at the end. */
static void test_lenient_decoding(void **state)
{
	(void)state;
	struct facts *f = analyze_text(HEADERS
		"Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
		"--o\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"aHR0cHM6Ly9i!!!cm9rZW4uYmFkaG9zdC5leGFtcGxlL2I2NA==\r\n"
		"--o\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"QUJD\r\nRA\r\n");
	assert_true(has_url(f, "https://broken.badhost.example/b64"));
	assert_int_equal(f->attachments->len, 1);
	assert_int_equal(attachment(f, 0)->size, 3);	/* "ABC", "RA" dropped */
	facts_free(f);
}

static void test_duplicate_content_type_last_wins(void **state)
{
	(void)state;
	struct facts *f = analyze_text(HEADERS
		"Content-Type: application/octet-stream\r\n"
		"Content-Type: text/html\r\n\r\n"
		"<a href=\"https://dup.badhost.example/h\">x</a>\r\n");
	assert_true(has_url(f, "https://dup.badhost.example/h"));
	assert_int_equal(f->attachments->len, 0);
	facts_free(f);
}

static void test_text_attachment_gives_urls_and_attachment(void **state)
{
	(void)state;
	struct facts *f = analyze_text(HEADERS
		"Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
		"--o\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
		"--o\r\nContent-Type: text/plain; name=\"notes.txt\"\r\n\r\nhttps://notes.badhost.example/n\r\n"
		"--o--\r\n");
	assert_true(has_url(f, "https://notes.badhost.example/n"));
	assert_int_equal(f->attachments->len, 1);
	assert_string_equal(attachment(f, 0)->filename, "notes.txt");
	facts_free(f);
}

static void test_message_size_limit(void **state)
{
	(void)state;
	const char *msg = HEADERS "Content-Type: text/plain\r\n\r\nhttps://big.badhost.example/\r\n";

	cfg->max_message_size = 64;
	struct facts *f = analyze_text(msg);
	assert_true(f->limits & LIMIT_MESSAGE_SIZE);
	assert_int_equal(f->urls->len, 0);
	assert_int_equal(f->size, strlen(msg));
	facts_free(f);
	cfg->max_message_size = 25u << 20;
}

static void test_garbage_input_does_not_crash(void **state)
{
	(void)state;
	static const char garbage[] = "\x00\xff\r\n\r\n--\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n";
	struct facts *f = analyze_buffer(garbage, sizeof(garbage) - 1, cfg);
	assert_non_null(f);
	facts_free(f);
	f = analyze_buffer("", 0, cfg);
	assert_non_null(f);
	assert_null(f->sender_ip);
	facts_free(f);
}

/* Regression (phishing_pot sample-1786): an empty text part with a
 * non-UTF-8 charset crashed the charset conversion. */
static void test_empty_text_part_with_charset(void **state)
{
	(void)state;
	struct facts *f = analyze_text(
		"From: a@example.com\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		"--b\r\nContent-Type: text/html; charset=\"iso-8859-1\"\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n"
		"--b\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n"
		"see http://after-empty.example/\r\n--b--\r\n");

	assert_true(has_url(f, "http://after-empty.example/"));
	facts_free(f);
}

static void test_exclusions_applied_after_extraction(void **state)
{
	(void)state;
	char err[256];
	unsigned char data[] = "%PDF-1.4";
	char *msg = message_with_attachment("a.PDF", data, sizeof(data) - 1);

	struct exclusions *saved = cfg->exclusions;
	cfg->exclusions = exclusions_new();
	assert_true(exclusions_add_extension(cfg->exclusions, "pdf", err, sizeof(err)));
	assert_true(exclusions_add_ip(cfg->exclusions, "198.51.100.0/24", err, sizeof(err)));
	struct facts *f = analyze_text(msg);
	assert_non_null(attachment(f, 0)->excluded);
	assert_string_equal(f->sender_ip, "198.51.100.9");
	assert_non_null(f->sender_ip_excluded);
	facts_free(f);
	exclusions_free(cfg->exclusions);
	cfg->exclusions = saved;
	g_free(msg);
}

/* A multipart in which no part was found (no boundary parameter, or a
 * boundary that never occurs): GMime keeps the whole body as its
 * prologue and finds no part, and mail clients show that body as text.
 * Its URLs are indicators; before, the message had none and a phishing
 * link in it was judged clean by the sender IP alone. */
static void test_multipart_without_parts_scans_its_body(void **state)
{
	(void)state;
	struct facts *f = analyze_text(HEADERS "MIME-Version: 1.0\r\n"
				       "Content-Type: multipart/mixed\r\n\r\n"
				       "--zz\r\nContent-Type: text/plain\r\n\r\n"
				       "see https://nobound.badhost.example/a now\r\n--zz--\r\n");
	assert_true(has_url(f, "https://nobound.badhost.example/a"));
	facts_free(f);
	f = analyze_text(HEADERS "MIME-Version: 1.0\r\n"
			 "Content-Type: multipart/alternative; boundary=\"abc\"\r\n\r\n"
			 "<a href=\"http://wrongbound.badhost.example/\">x</a>\r\n");
	assert_true(has_url(f, "http://wrongbound.badhost.example/"));
	facts_free(f);
}

/* An HTML page attached under any content type (application/octet-stream
 * is the usual one for phishing pages): a browser opens it by its name,
 * so its links count, read as HTML; it stays an attachment. */
static void test_html_attachment_by_name_whatever_its_type(void **state)
{
	(void)state;
	struct facts *f = analyze_text(HEADERS "MIME-Version: 1.0\r\n"
				       "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
				       "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
				       "--b\r\nContent-Type: application/octet-stream\r\n"
				       "Content-Disposition: attachment; filename=\"invoice.HTM\"\r\n\r\n"
				       "<a href=\"&#104;ttps://octet.badhost.example/\">x</a>\r\n"
				       "--b\r\nContent-Type: application/octet-stream; name=\"p.xhtml\"\r\n\r\n"
				       "<a href=\"https://xhtml.badhost.example/\">x</a>\r\n--b--\r\n");
	assert_true(has_url(f, "https://octet.badhost.example/"));
	assert_true(has_url(f, "https://xhtml.badhost.example/"));
	assert_int_equal(f->attachments->len, 2);
	facts_free(f);
}

/* An SVG image opens in the browser, which follows its links: an
 * image/svg+xml part (named or not, inline or attached) and a part
 * named .svg under any type are read as markup; each stays an
 * attachment. */
static void test_svg_part_links(void **state)
{
	(void)state;
	struct facts *f = analyze_text(HEADERS "MIME-Version: 1.0\r\n"
				       "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
				       "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
				       "--b\r\nContent-Type: image/svg+xml\r\n\r\n"
				       "<svg><a xlink:href=\"https://inline.badhost.example/\">"
				       "<rect/></a></svg>\r\n"
				       "--b\r\nContent-Type: IMAGE/SVG+XML; name=\"s.svg\"\r\n"
				       "Content-Transfer-Encoding: base64\r\n\r\n"
				       "PHN2Zz48YSBocmVmPSJodHRwczovL2I2NC5iYWRob3N0LmV4YW1wbGUvIj54PC9hPjwvc3ZnPg==\r\n"
				       "--b\r\nContent-Type: application/octet-stream\r\n"
				       "Content-Disposition: attachment; filename=\"map.SVG\"\r\n\r\n"
				       "<svg><a href=\"https://octet.badhost.example/\">x</a></svg>\r\n"
				       "--b--\r\n");
	assert_true(has_url(f, "https://inline.badhost.example/"));
	assert_true(has_url(f, "https://b64.badhost.example/"));
	assert_true(has_url(f, "https://octet.badhost.example/"));
	assert_int_equal(f->urls->len, 3);
	assert_int_equal(f->attachments->len, 3);
	facts_free(f);
}

/* Issue 19: the milter path asks for SHA-256 only (MD5 and SHA-1 are not
 * computed, left ""); without options or with sha256_only clear (scan)
 * all three digests are there, computed in one pass over 64 KiB chunks:
 * a 150,000-byte file spans three. */
static void expect_digests(const struct analyze_options *opts, const guchar *data,
			   gsize len, bool all)
{
	char *b64 = g_base64_encode(data, len);
	char *msg = g_strdup_printf(HEADERS "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
				    "--m\r\nContent-Type: application/octet-stream; name=\"d.bin\"\r\n"
				    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--m--\r\n", b64);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	struct facts *f = analyze_stream_keep(stream, cfg, opts);
	const struct attachment_fact *a = attachment(f, 0);
	char *sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
	char *md5 = g_compute_checksum_for_data(G_CHECKSUM_MD5, data, len);
	char *sha1 = g_compute_checksum_for_data(G_CHECKSUM_SHA1, data, len);

	assert_int_equal(a->size, len);
	assert_string_equal(a->sha256, sha256);
	assert_string_equal(a->md5, all ? md5 : "");
	assert_string_equal(a->sha1, all ? sha1 : "");
	g_free(sha256);
	g_free(md5);
	g_free(sha1);
	facts_free(f);
	g_object_unref(stream);
	g_free(msg);
	g_free(b64);
}

static void test_digests_sha256_only_in_milter_path(void **state)
{
	(void)state;
	gsize len = 150000;
	guchar *data = g_malloc(len);
	struct analyze_options opts = { 0 };

	for (gsize i = 0; i < len; i++)
		data[i] = (guchar)(i * 7 + i / 251);
	expect_digests(NULL, data, len, true);
	expect_digests(&opts, data, len, true);
	expect_digests(&opts, data, 3, true);
	opts.sha256_only = true;
	expect_digests(&opts, data, len, false);
	expect_digests(&opts, data, 3, false);
	g_free(data);
}

/* The SHA-256 of the one attachment of msg, analysed from a memory
 * stream (memory_stream) or from a file, as a spilled message is. */
static char *attachment_sha256(const char *msg, bool memory_stream)
{
	GMimeStream *stream;
	struct facts *f;
	char *sha256;

	if (memory_stream) {
		stream = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	} else {
		char *path = NULL;
		int fd = g_file_open_tmp("test_analyze-XXXXXX", &path, NULL);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		unlink(path);
		g_free(path);
		stream = g_mime_stream_fs_new(fd);
	}
	f = analyze_stream(stream, cfg);
	sha256 = g_strdup(attachment(f, 0)->sha256);
	facts_free(f);
	g_object_unref(stream);
	return sha256;
}

/* A part of a message in memory is read in place (base64 as encoders
 * write it decoded by base64.h, no transfer encoding copied), anything
 * else and spilled messages through GMime: the bytes are the same each
 * way. */
static void test_in_place_and_gmime_agree(void **state)
{
	(void)state;
	const char *parts[][2] = {
		{ "base64", "QUJD\r\nREVG\r\nRw==\r\n" },	/* canonical: "ABCDEFG" */
		{ "base64", "QUJD\r\n REVG\r\nRw==\r\n" },	/* a blank: GMime skips it */
		{ "base64", "QUJD\r\nREVG\r\nRw\r\n" },	/* no padding: GMime's call */
		{ "8bit", "ABCDEFG\r\n" },
		{ "binary", "ABCDEFG" },
		{ "quoted-printable", "ABC=\r\nDEFG" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(parts); i++) {
		char *msg = g_strdup_printf(HEADERS
			"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
			"--m\r\nContent-Type: application/octet-stream; name=\"d.bin\"\r\n"
			"Content-Transfer-Encoding: %s\r\n\r\n%s\r\n--m--\r\n", parts[i][0],
			parts[i][1]);
		char *in_memory = attachment_sha256(msg, true);
		char *in_file = attachment_sha256(msg, false);

		assert_string_equal(in_memory, in_file);
		g_free(in_file);
		g_free(in_memory);
		g_free(msg);
	}
	/* and the canonical one is what it says */
	char *want = g_compute_checksum_for_string(G_CHECKSUM_SHA256, "ABCDEFG", -1);
	char *msg = g_strdup_printf(HEADERS "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
				    "--m\r\nContent-Type: application/octet-stream; name=\"d.bin\"\r\n"
				    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--m--\r\n",
				    parts[0][1]);
	char *got = attachment_sha256(msg, true);

	assert_string_equal(got, want);
	g_free(got);
	g_free(msg);
	g_free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sender_ip_and_body_url),
		cmocka_unit_test(test_mime_depth_limit),
		cmocka_unit_test(test_reported_depth_limit),
		cmocka_unit_test(test_eml_attachment_as_text_plain),
		cmocka_unit_test(test_eml_attachment_base64_octet_stream),
		cmocka_unit_test(test_executable_by_content),
		cmocka_unit_test(test_filename_rfc2231_and_rfc2047),
		cmocka_unit_test(test_lenient_decoding),
		cmocka_unit_test(test_duplicate_content_type_last_wins),
		cmocka_unit_test(test_text_attachment_gives_urls_and_attachment),
		cmocka_unit_test(test_message_size_limit),
		cmocka_unit_test(test_garbage_input_does_not_crash),
		cmocka_unit_test(test_exclusions_applied_after_extraction),
		cmocka_unit_test(test_empty_text_part_with_charset),
		cmocka_unit_test(test_multipart_without_parts_scans_its_body),
		cmocka_unit_test(test_html_attachment_by_name_whatever_its_type),
		cmocka_unit_test(test_svg_part_links),
		cmocka_unit_test(test_digests_sha256_only_in_milter_path),
		cmocka_unit_test(test_in_place_and_gmime_agree),
	};
	analyze_init();
	cfg = config_defaults();
	int failed = cmocka_run_group_tests_name("analyze", tests, NULL, NULL);
	config_unref(cfg);
	analyze_shutdown();
	return failed;
}
