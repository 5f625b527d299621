/* test_urls.c: URL normalisation, bare URLs in text, URLs in HTML, with
 * the tricky cases rspamd's URL tests collect (zero-width characters,
 * Unicode dots, numeric IPv4 forms, backslashes, parentheses). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "analysis/html.h"
#include "analysis/text_flowed.h"
#include "analysis/url_normalize.h"
#include "analysis/urls.h"

static void expect_norm(const char *raw, const char *expected)
{
	char *got = url_normalize(raw, strlen(raw));

	if (expected == NULL) {
		if (got != NULL)
			fail_msg("%s: expected no URL, got %s", raw, got);
	} else {
		if (got == NULL)
			fail_msg("%s: expected %s, got no URL", raw, expected);
		if (strcmp(got, expected) != 0)
			fail_msg("%s: expected %s, got %s", raw, expected, got);
	}
	g_free(got);
}

static void test_normalize_basics(void **state)
{
	(void)state;
	expect_norm("HTTPS://WWW.Example.COM/Path?Q=A#F", "https://www.example.com/Path?Q=A#F");
	expect_norm("http://example.com", "http://example.com/");
	expect_norm("http://example.com:80/a", "http://example.com/a");
	expect_norm("https://example.com:443", "https://example.com/");
	expect_norm("https://example.com:8443/a", "https://example.com:8443/a");
	expect_norm("ftp://files.example.org:21/x", "ftp://files.example.org/x");
	expect_norm("https://user:pw@portal.example.com:8443/p", "https://user:pw@portal.example.com:8443/p");
	expect_norm("http://a.example/with space", "http://a.example/with%20space");
	expect_norm("http://a.exa\r\n\tmple/x", "http://a.example/x");
	expect_norm("//cdn.example.net/lib.js", "http://cdn.example.net/lib.js");
	expect_norm("www.example.org/help", "http://www.example.org/help");
	expect_norm("http://example.com./", "http://example.com/");
}

static void test_normalize_rejects(void **state)
{
	(void)state;
	const char *bad[] = { "mailto:a@example.com", "tel:+123", "data:text/html;base64,AAAA",
			      "javascript:alert(1)", "cid:part1@example", "/relative/path",
			      "page.html", "http://localhost/", "http://nodot/", "http://", "http:///x",
			      "http://exa mple.com/", "http://[zz::1]/", "http://a.example:99999/",
			      "http://a.example:12ab/", "www.nodot", "gopher://a.example/", "" };

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		expect_norm(bad[i], NULL);
}

static void test_numeric_ipv4_hosts(void **state)
{
	(void)state;
	expect_norm("http://3232235777/", "http://192.168.1.1/");
	expect_norm("http://0xC0A80101/", "http://192.168.1.1/");
	expect_norm("http://0300.0250.1.1/", "http://192.168.1.1/");
	expect_norm("http://192.168.257/", "http://192.168.1.1/");
	expect_norm("http://0x7f.1/", "http://127.0.0.1/");
	expect_norm("http://203.0.113.77/wp-admin/x.php", "http://203.0.113.77/wp-admin/x.php");
	expect_norm("http://www.bank.example@192.0.2.44/login", "http://www.bank.example@192.0.2.44/login");
	/* not numbers: ordinary names */
	expect_norm("http://1e100.net/", "http://1e100.net/");
	expect_norm("http://256.256.256.256.example/", "http://256.256.256.256.example/");
	expect_norm("http://4294967296/", NULL);
}

static void test_ipv6_hosts(void **state)
{
	(void)state;
	expect_norm("http://[2001:DB8:10:0::5]:8080/owa/", "http://[2001:db8:10::5]:8080/owa/");
	expect_norm("https://[2001:db8:ffff::1]/download", "https://[2001:db8:ffff::1]/download");
}

static void test_idn_and_unicode_tricks(void **state)
{
	(void)state;
	expect_norm("http://bücher.example/", "http://xn--bcher-kva.example/");
	/* ASCII hosts skip IDNA; mixed with non-ASCII they do not */
	expect_norm("http://WWW.Example.ORG/A", "http://www.example.org/A");
	expect_norm("http://B\xc3\x9c" "CHER.example/", "http://xn--bcher-kva.example/");
	expect_norm("http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/");
	/* ideographic and full-width dots */
	expect_norm("http://evil\xe3\x80\x82" "example/", "http://evil.example/");
	expect_norm("http://evil\xef\xbc\x8e" "example/", "http://evil.example/");
	/* zero-width characters hide in hosts */
	expect_norm("http://ev\xe2\x80\x8bil.exa\xe2\x80\x8dmple/", "http://evil.example/");
	expect_norm("http://\xef\xbb\xbf" "bad.example/", "http://bad.example/");
	/* backslashes mean slashes in the authority and path */
	expect_norm("http:\\\\evil.example\\path\\x", "http://evil.example/path/x");
	expect_norm("http:/\\evil.example/", "http://evil.example/");
	/* invalid UTF-8: no crash, no URL */
	expect_norm("http://\xff\xfe.example/", NULL);
}

/* Candidates over 256 bytes are judged by their first cleaned bytes when
 * their scheme is another (url_normalize): the same answers as a full
 * read, blanks and invisible characters around the scheme included. */
static void test_long_candidates(void **state)
{
	(void)state;
	GString *tail = g_string_new(NULL);

	for (int i = 0; i < 60; i++)
		g_string_append(tail, "/abcd");
	char *data = g_strconcat("data:image/png;base64,", tail->str, NULL);
	char *js = g_strconcat("  java\tscript:alert(1)", tail->str, NULL);
	char *cut = g_strconcat("\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\th"
				"\xe2\x80\x8bttps://long.example", tail->str, NULL);
	char *www = g_strconcat("www.long.example:8080", tail->str, NULL);
	char *want_cut = g_strconcat("https://long.example", tail->str, NULL);
	char *want_www = g_strconcat("http://www.long.example:8080", tail->str, NULL);

	expect_norm(data, NULL);
	expect_norm(js, NULL);
	expect_norm(cut, want_cut);
	expect_norm(www, want_www);
	g_free(want_www);
	g_free(want_cut);
	g_free(www);
	g_free(cut);
	g_free(js);
	g_free(data);
	g_string_free(tail, TRUE);
}

static void test_url_host(void **state)
{
	(void)state;
	char *h;

	h = url_host("https://user:pw@Portal.example.com:8443/p");
	assert_string_equal(h, "Portal.example.com");
	g_free(h);
	h = url_host("http://[2001:db8::1]:8080/");
	assert_string_equal(h, "2001:db8::1");
	g_free(h);
	assert_null(url_host("not a url"));
}

static GPtrArray *text_urls(const char *text, struct url_set **set)
{
	*set = url_set_new(0);
	urls_from_text(text, strlen(text), *set);
	return url_set_sorted(*set);
}

static void expect_text(const char *text, const char *const *expected, size_t n)
{
	struct url_set *set;
	GPtrArray *got = text_urls(text, &set);

	if (got->len != n)
		fail_msg("%s: %u URLs, expected %zu (first: %s)", text, got->len, n,
			 got->len ? (char *)g_ptr_array_index(got, 0) : "-");
	for (size_t i = 0; i < n; i++)
		assert_string_equal(g_ptr_array_index(got, i), expected[i]);
	g_ptr_array_unref(got);
	url_set_free(set);
}

static void test_text_boundaries(void **state)
{
	(void)state;
	const char *e1[] = { "https://a.example/x" };
	expect_text("See <https://a.example/x>.", e1, 1);
	expect_text("(https://a.example/x)", e1, 1);
	expect_text("\"https://a.example/x\", and", e1, 1);
	expect_text("url: https://a.example/x!?", e1, 1);
	expect_text("\xe2\x80\x9chttps://a.example/x\xe2\x80\x9d", e1, 1);
	const char *e2[] = { "https://wiki.example/page_(info)" };
	expect_text("at https://wiki.example/page_(info).", e2, 1);
	const char *e3[] = { "http://www.a.example/", "https://b.example/q?x=1" };
	expect_text("WWW.A.example and HTTPS://b.example/q?x=1;", e3, 2);
	/* not starting a word; mailto; hosts without a dot */
	expect_text("xhttp://a.example/ mailto:me@a.example wwwx.example www.nodot", NULL, 0);
	const char *e4[] = { "http://a.example/abc" };
	expect_text("http://a.example/a\xe2\x80\x8b" "bc end", e4, 1);
}

/* The scan jumps between ':' and '.' (urls_from_text): starts next to
 * each other, at the very start and end of the text, and a URL inside a
 * URL are found as the byte-by-byte scan found them. */
static void test_text_anchors(void **state)
{
	(void)state;
	const char *e1[] = { "http://a.example/http://b.example/" };
	expect_text("http://a.example/http://b.example/", e1, 1);
	const char *e2[] = { "ftp://c.example/", "http://a.example/", "http://www.b.example/" };
	expect_text("http://a.example/ www.b.example\tftp://c.example", e2, 3);
	const char *e3[] = { "https://d.example/" };
	expect_text("xwww.a.example. https:https://d.example", e3, 1);
	expect_text("http:/", NULL, 0);
	expect_text("www.", NULL, 0);
	expect_text("a.b: c.d. www", NULL, 0);
}

/* A candidate seen again is skipped (url_set_add_candidate): under the
 * cap the repeats neither add nor count as drops twice. */
static void test_url_set_candidate_repeats(void **state)
{
	(void)state;
	struct url_set *set = url_set_new(1);
	const char *text = "http://a.example/ http://b.example/ http://b.example/ "
			   "http://a.example/ HTTP://A.example";

	urls_from_text(text, strlen(text), set);
	url_set_add_candidate(set, "http://c.example/", 17);
	url_set_add_candidate(set, "http://c.example/", 17);
	assert_int_equal(url_set_count(set), 1);
	assert_int_equal(url_set_dropped(set), 2);
	url_set_free(set);
	/* the NUL is dropped by url_normalize, but the bytes after it count */
	set = url_set_new(0);
	url_set_add_candidate(set, "http://d.example/\0a", 19);
	url_set_add_candidate(set, "http://d.example/\0b", 19);
	assert_int_equal(url_set_count(set), 2);
	url_set_free(set);
}

static void test_url_set_cap(void **state)
{
	(void)state;
	struct url_set *set = url_set_new(2);

	assert_true(url_set_add(set, "http://b.example/"));
	assert_true(url_set_add(set, "http://a.example/"));
	assert_true(url_set_add(set, "http://a.example/"));	/* duplicate, not a drop */
	assert_false(url_set_add(set, "http://c.example/"));
	assert_false(url_set_add(set, "http://c.example/"));
	assert_false(url_set_add(set, "http://d.example/"));
	assert_int_equal(url_set_count(set), 2);
	assert_int_equal(url_set_dropped(set), 2);
	GPtrArray *sorted = url_set_sorted(set);
	assert_string_equal(g_ptr_array_index(sorted, 0), "http://a.example/");
	g_ptr_array_unref(sorted);
	url_set_free(set);
}

/* Class C (issue 16): hosts parsed as the WHATWG URL parser does. */
static void test_normalize_whatwg_host(void **state)
{
	(void)state;
	/* percent-encoded host decoded before it is validated */
	expect_norm("http://%77ww.account-check.example.net/verify",
		    "http://www.account-check.example.net/verify");
	expect_norm("https://%73%65%63%75%72%65-login.example.net/l", "https://secure-login.example.net/l");
	expect_norm("https://pay%2Eexample%2enet/", "https://pay.example.net/");
	expect_norm("http://%31%39%32.0.2.1/", "http://192.0.2.1/");
	expect_norm("http://b%C3%BCcher.example/", "http://xn--bcher-kva.example/");
	expect_norm("http://a%2Fb.example/", NULL);	/* forbidden code point once decoded */
	expect_norm("http://%zz.example/", NULL);
	/* a last label that is a number: a valid IPv4 address or no URL */
	expect_norm("http://999.1.2.3/", NULL);
	expect_norm("http://502.234/", NULL);
	expect_norm("http://256.1.1.1/", NULL);
	expect_norm("http://example.0x1g/", "http://example.0x1g/");	/* not a number */
	expect_norm("http://host.example.123/", NULL);
	expect_norm("http://host.example.0x10/", NULL);
	expect_norm("http://1.2.3.4./x", "http://1.2.3.4/x");
	expect_norm("http://0x7f.1/", "http://127.0.0.1/");
	expect_norm("http://example.123a/", "http://example.123a/");
	/* no slashes after a special scheme, and dot segments */
	expect_norm("https:noslash.example/a", "https://noslash.example/a");
	expect_norm("http://d.example/a/b/../c/./d", "http://d.example/a/c/d");
	expect_norm("http://d.example/a/%2e%2E/b/..", "http://d.example/");
	expect_norm("http://d.example/a/..?x=/../", "http://d.example/?x=/../");
}

static void test_text_cjk_punctuation(void **state)
{
	(void)state;
	const char *e1[] = { "https://cjk.example.jp/a" };
	expect_text("\xe8\xa9\xb3\xe7\xb4\xb0\xe3\x80\x8chttps://cjk.example.jp/a\xe3\x80\x8d\xe3\x80\x82", e1, 1);
	expect_text("https://cjk.example.jp/a\xe3\x80\x82\xe6\xac\xa1", e1, 1);
	expect_text("https://cjk.example.jp/a\xe3\x80\x81more", e1, 1);
	expect_text("\xef\xbc\x88https://cjk.example.jp/a\xef\xbc\x89", e1, 1);
	expect_text("https://cjk.example.jp/a\xef\xbc\x8c\xef\xbc\x81", e1, 1);
	expect_text("https://cjk.example.jp/a\xef\xbd\xa1", e1, 1);
	/* CJK letters are part of a URL path */
	const char *e2[] = { "https://cjk.example.jp/\xe6\x97\xa5\xe6\x9c\xac" };
	expect_text("https://cjk.example.jp/\xe6\x97\xa5\xe6\x9c\xac\xe3\x80\x82", e2, 1);
}

static GPtrArray *html_urls(const char *html, struct url_set **set)
{
	*set = url_set_new(0);
	urls_from_html(html, strlen(html), *set);
	return url_set_sorted(*set);
}

static void expect_html(const char *html, const char *const *expected, size_t n)
{
	struct url_set *set;
	GPtrArray *got = html_urls(html, &set);

	if (got->len != n)
		fail_msg("%s: %u URLs, expected %zu", html, got->len, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(g_ptr_array_index(got, i), expected[i]);
	g_ptr_array_unref(got);
	url_set_free(set);
}

static void test_html(void **state)
{
	(void)state;
	const char *e1[] = { "http://evil.example/a?b=1&c=2" };
	expect_html("<a href=\"http://evil.example/a?b=1&amp;c=2\">click</a>", e1, 1);
	expect_html("<A HREF='http&#58;//evil.example/a?b=1&#x26;c=2'>x</A>", e1, 1);
	expect_html("<a href=http://evil.example/a?b=1&amp;c=2>x</a>", e1, 1);
	const char *e2[] = { "http://cdn.example/i.png" };
	expect_html("<img src=\"//cdn.example/i.png\">", e2, 1);
	/* inline tags do not split a URL in text; block tags do */
	const char *e3[] = { "https://split.example/path" };
	expect_html("<p>https://split.<span>example</span>/pa<wbr>th</p>", e3, 1);
	const char *e4[] = { "https://one.example/" };
	expect_html("<div>https://one.example/</div><div>more.text</div>", e4, 1);
	/* scripts, styles and comments are not visible text */
	expect_html("<script>var u='https://s.example/';</script><style>a{background:url("
		    "https://c.example/)}</style><!-- https://hidden.example/ -->", NULL, 0);
	/* mailto/javascript links are not indicators */
	expect_html("<a href=\"mailto:x@a.example\">m</a><a href=\"javascript:go()\">j</a>", NULL, 0);
	/* hostile input: unterminated everything; a link is still a link */
	const char *e6[] = { "http://open.example/" };
	expect_html("<a href=\"http://open.example/", e6, 1);
	const char *e5[] = { "http://after.example/" };
	expect_html("<!-- never closed <a href=x> --", NULL, 0);
	expect_html("a < b http://after.example/ <", e5, 1);
}

static void test_html_huge_attribute(void **state)
{
	(void)state;
	GString *html = g_string_new("<a href=\"http://big.example/");
	struct url_set *set;

	for (int i = 0; i < 200000; i++)
		g_string_append_c(html, 'a');
	g_string_append(html, "\">x</a>");
	GPtrArray *got = html_urls(html->str, &set);
	assert_int_equal(got->len, 1);
	g_ptr_array_unref(got);
	url_set_free(set);
	g_string_free(html, TRUE);
}

static void expect_flowed(const char *in, bool delsp, const char *want)
{
	size_t len;
	char *out = flowed_unwrap(in, strlen(in), delsp, &len);

	if (strcmp(out, want) != 0)
		fail_msg("expected \"%s\", got \"%s\"", want, out);
	assert_int_equal(len, strlen(out));
	g_free(out);
}

static void test_flowed(void **state)
{
	(void)state;
	expect_flowed("see https://a.example/x/ \r\ny/z?q=1 now\r\n", true,
		      "see https://a.example/x/y/z?q=1 now\n");
	expect_flowed("see https://a.example/x \ny now\n", false, "see https://a.example/x y now\n");
	/* space-stuffing and quotes; a quote depth change ends the paragraph */
	expect_flowed(">> https://q.example/a \n>> b\n> c \nd\n", true,
		      ">> https://q.example/ab\n> c\nd\n");
	expect_flowed("> > x\n", true, "> > x\n");	/* depth 1, content "> x" */
	/* the signature separator is not flowed; fixed lines stay */
	expect_flowed("-- \nsig\nfixed\nlines", true, "-- \nsig\nfixed\nlines\n");
	expect_flowed("", true, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_whatwg_host),
		cmocka_unit_test(test_text_cjk_punctuation),
		cmocka_unit_test(test_flowed),
		cmocka_unit_test(test_normalize_basics),
		cmocka_unit_test(test_normalize_rejects),
		cmocka_unit_test(test_numeric_ipv4_hosts),
		cmocka_unit_test(test_ipv6_hosts),
		cmocka_unit_test(test_idn_and_unicode_tricks),
		cmocka_unit_test(test_long_candidates),
		cmocka_unit_test(test_url_host),
		cmocka_unit_test(test_text_boundaries),
		cmocka_unit_test(test_text_anchors),
		cmocka_unit_test(test_url_set_cap),
		cmocka_unit_test(test_url_set_candidate_repeats),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_html_huge_attribute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
