/* test_html.c: HTML read as a browser tokenizes it (WHATWG) and as
 * Outlook renders it: comment ends, character references, conditional
 * comments, raw-text elements, <base href> (issue 16, classes B and C). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "analysis/html.h"
#include "analysis/html_charref.h"
#include "analysis/url_resolve.h"
#include "analysis/urls.h"

/* html must give exactly the URLs listed (sorted), NULL-terminated. */
static void expect_html(const char *html, ...)
{
	struct url_set *set = url_set_new(0);
	GPtrArray *got;
	va_list ap;
	guint n = 0;

	urls_from_html(html, strlen(html), set);
	got = url_set_sorted(set);
	va_start(ap, html);
	for (const char *want; (want = va_arg(ap, const char *)) != NULL; n++) {
		if (n >= got->len)
			fail_msg("%s: missing %s", html, want);
		if (strcmp(g_ptr_array_index(got, n), want) != 0)
			fail_msg("%s: expected %s, got %s", html, want,
				 (const char *)g_ptr_array_index(got, n));
	}
	va_end(ap);
	if (got->len != n)
		fail_msg("%s: %u URLs, expected %u (first extra %s)", html, got->len, n,
			 (const char *)g_ptr_array_index(got, n));
	g_ptr_array_unref(got);
	url_set_free(set);
}

static void expect_decoded(const char *in, bool attr, const char *want)
{
	GString *out = g_string_new(NULL);

	html_decode_append(out, in, strlen(in), attr);
	if (strcmp(out->str, want) != 0)
		fail_msg("%s: expected \"%s\", got \"%s\"", in, want, out->str);
	g_string_free(out, TRUE);
}

static void test_comment_ends(void **state)
{
	(void)state;
	expect_html("<!--><a href=\"https://a.example/\">x</a>", "https://a.example/", NULL);
	expect_html("<!---><a href=\"https://b.example/\">x</a>", "https://b.example/", NULL);
	expect_html("<!-- x --!><a href=\"https://c.example/\">x</a>", "https://c.example/", NULL);
	expect_html("<!-- x ---><a href=\"https://d.example/\">x</a>", "https://d.example/", NULL);
	expect_html("<!----><a href=\"https://e.example/\">x</a>", "https://e.example/", NULL);
	/* "--!" then more: still in the comment until --> */
	expect_html("<!-- a --!- <a href=\"https://hidden.example/\"> --> https://f.example/",
		    "https://f.example/", NULL);
	/* "- ->" and "-- >" do not end a comment */
	expect_html("<!-- - -> -- > <a href=\"https://hidden.example/\"> -->", NULL);
	/* bogus comments end at the first '>' */
	expect_html("<? x ><a href=\"https://g.example/\">x</a></ 1 ><a href=https://h.example/>",
		    "https://g.example/", "https://h.example/", NULL);
	expect_html("<!DOCTYPE html><![CDATA[ x ]]><a href=\"https://i.example/\">",
		    "https://i.example/", NULL);
	/* text in a comment is not visible */
	expect_html("<!-- https://hidden.example/ --!>https://j.example/", "https://j.example/", NULL);
}

static void test_outlook_conditional_comments(void **state)
{
	(void)state;
	expect_html("<!--[if mso]><a href=\"https://mso.example/\">x</a><![endif]-->",
		    "https://mso.example/", NULL);
	expect_html("<!--[if gte mso 9]><v:roundrect href=\"https://vml.example/b\"></v:roundrect>"
		    "<![endif]--><!--[if !mso]><!--><a href=\"https://web.example/\">y</a><!--<![endif]-->",
		    "https://vml.example/b", "https://web.example/", NULL);
	expect_html("<!--[IF mso]>https://text-in-mso.example/<![endif]-->",
		    "https://text-in-mso.example/", NULL);
	/* not a conditional comment: an ordinary one */
	expect_html("<!-- [if mso]><a href=\"https://hidden.example/\"><![endif]-->", NULL);
}

static void test_character_references(void **state)
{
	(void)state;
	expect_decoded("&#104&#116tps", false, "https");
	expect_decoded("&#x3a//&#X2F;", true, "://\x2f");
	expect_decoded("a&amp;b&ampc&lt&gt;", false, "a&b&c<>");
	expect_decoded("&Tab;&NewLine;&colon;&period;&sol;", true, "\t\n:./");
	expect_decoded("&notit; &notin;", false, "\xc2\xacit; \xe2\x88\x89");
	/* the attribute rule: a legacy name followed by '=' or alnum stays */
	expect_decoded("?a=1&copy=2&not3&amp", true, "?a=1&copy=2&not3&");
	expect_decoded("?a=1&copy=2", false, "?a=1\xc2\xa9=2");
	/* numeric: 0, surrogates, too large -> U+FFFD; C1 -> Windows-1252 */
	expect_decoded("&#0;&#xD800;&#x110000;&#128;&#x9f", false,
		       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xe2\x82\xac\xc5\xb8");
	/* not references */
	expect_decoded("&# &#x; &unknown; & &;", false, "&# &#x; &unknown; & &;");
	expect_decoded("&CounterClockwiseContourIntegral;", false, "\xe2\x88\xb3");

	expect_html("<a href=\"&#104&#116&#116&#112&#115&#58//pay-a.example.net/i\">x</a>",
		    "https://pay-a.example.net/i", NULL);
	expect_html("<a href=\"https&#x3a//pay-b.example.net/i\">", "https://pay-b.example.net/i", NULL);
	expect_html("<a href=\"https://pay-c&#46example&period;net/i\">", "https://pay-c.example.net/i",
		    NULL);
	expect_html("<a href=\"ht&Tab;tps&colon;//pay-d&NewLine;.example.net/i\">",
		    "https://pay-d.example.net/i", NULL);
	expect_html("<p>h&#116tps://pay-e.example.net/i and &#x68;ttp&#x3A;&#x2f;/pay-f.example.net/</p>",
		    "http://pay-f.example.net/", "https://pay-e.example.net/i", NULL);
	expect_html("<a href=\"https://x.example/?a=1&copy=2&amp;b=3\">",
		    "https://x.example/?a=1&copy=2&b=3", NULL);
}

static void test_tag_and_attribute_states(void **state)
{
	(void)state;
	/* the first of a duplicated attribute wins */
	expect_html("<a href=\"https://first.example/\" HREF=\"https://second.example/\">",
		    "https://first.example/", NULL);
	/* attributes without blanks between them, and after a '/' */
	expect_html("<a title=\"x\"href=\"https://k.example/\">", "https://k.example/", NULL);
	expect_html("<a/href=https://l.example/>", "https://l.example/", NULL);
	/* an end tag's attributes are no links */
	expect_html("</a href=\"https://hidden.example/\">", NULL);
	/* raw-text elements: their text is no visible text and holds no tags */
	expect_html("<title>https://t.example/</title><textarea><a href=x.example>"
		    "https://ta.example/</textarea>", "https://ta.example/", NULL);
	expect_html("<style>a{}</stylex><a href=\"https://hidden.example/\"></style >"
		    "<xmp><a href=\"https://hidden2.example/\"></xmp>https://m.example/",
		    "https://m.example/", NULL);
	/* '<' not starting a tag is text */
	expect_html("1 <2 https://n.example/", "https://n.example/", NULL);
}

/* A NUL in a tag name is part of the name: "<a\0b>" is not the inline
 * <a>, so it breaks the word (tag_is compares the whole name). */
static void test_tag_name_with_nul(void **state)
{
	(void)state;
	static const char html[] = "ht<a\0b>tp://x.example/ ht<a>tp://y.example/";
	struct url_set *set = url_set_new(0);
	GPtrArray *got;

	urls_from_html(html, sizeof(html) - 1, set);
	got = url_set_sorted(set);
	assert_int_equal(got->len, 1);
	assert_string_equal(g_ptr_array_index(got, 0), "http://y.example/");
	g_ptr_array_unref(got);
	url_set_free(set);
}

/* Where only a tree builder could tell, both readings count (found by the
 * gumbo differential fuzzer). */
static void test_ambiguous_rawtext(void **state)
{
	(void)state;
	/* in SVG <style> is an ordinary element */
	expect_html("<svg><style><a href=\"https://svg.example/\"></a></style></svg>"
		    "<style><a href=\"https://hidden.example/\"></style>", "https://svg.example/", NULL);
	/* <style> in <select> is ignored: its content is markup */
	expect_html("<select><style><a href=\"https://sel.example/\"></style></select>",
		    "https://sel.example/", NULL);
	/* never closed: the start tag may have been ignored */
	expect_html("<iframe><a href=\"https://open.example/\">", "https://open.example/", NULL);
	/* a stray end tag may have left foreign content: a comment inside a
	 * foreign <script> does not hide what follows its end tag */
	expect_html("<math><script><!--</script><a href=\"https://after.example/\">",
		    "https://after.example/", NULL);
	/* plaintext in SVG is an ordinary element */
	expect_html("<svg><plaintext><a href=\"https://pt.example/\">", "https://pt.example/", NULL);
}

static void test_base_href(void **state)
{
	(void)state;
	expect_html("<base href=\"https://base.example/dir/page.html\"><a href=\"next/x?y=1\">"
		    "<img src=\"/img/a.png\"><a href=\"//cdn.example/c\"><a href=\"?q=2\">",
		    "https://base.example/dir/next/x?y=1", "https://base.example/dir/page.html",
		    "https://base.example/dir/page.html?q=2", "https://base.example/img/a.png",
		    "https://cdn.example/c", NULL);
	/* links before the base resolve against it too; the first base counts */
	expect_html("<a href=\"../up\"></a><base href=\"http://b2.example/a/b/\">"
		    "<base href=\"http://other.example/\">",
		    "http://b2.example/a/b/", "http://b2.example/a/up", "http://other.example/", NULL);
	/* a relative base is no base; without one relative links are nothing */
	expect_html("<base href=\"/rel/\"><a href=\"x.html\"><a href=\"#top\">", NULL);
	/* "https:path" is relative to an https base */
	expect_html("<base href=\"https://b3.example/d/\"><a href=\"https:e\">",
		    "https://b3.example/d/", "https://b3.example/d/e", NULL);
}

static void test_resolve(void **state)
{
	(void)state;
	char *r;

	r = url_resolve("  //h.example/x ", NULL);
	assert_string_equal(r, "http://h.example/x");
	g_free(r);
	r = url_resolve("//h.example/x", "https://b.example/");
	assert_string_equal(r, "https://h.example/x");
	g_free(r);
	r = url_resolve("#f", "https://b.example/p?q#old");
	assert_string_equal(r, "https://b.example/p?q#f");
	g_free(r);
	assert_null(url_resolve("page.html", NULL));
	assert_true(url_is_absolute_web(" HTTPS://x.example/"));
	assert_false(url_is_absolute_web("mailto:x@y.example"));
}

/* Links a browser follows that are neither href nor src (issue 16,
 * class B): refresh, srcset and media attributes. */
static void test_meta_refresh(void **state)
{
	(void)state;
	expect_html("<meta http-equiv=\"refresh\" content=\"0; URL=https://a.example/x\">",
		    "https://a.example/x", NULL);
	expect_html("<META HTTP-EQUIV=Refresh CONTENT=\"5;url='https://b.example/y'\">",
		    "https://b.example/y", NULL);
	expect_html("<meta content=\"0 , url = &quot;https://c.example/z&quot; x\" "
		    "http-equiv=\"REFRESH\">", "https://c.example/z", NULL);
	expect_html("<meta http-equiv=refresh content=\"1.5;https://d.example/\">",
		    "https://d.example/", NULL);
	expect_html("<base href=\"https://e.example/a/\">"
		    "<meta http-equiv=refresh content=\"0;URL=next.html\">",
		    "https://e.example/a/", "https://e.example/a/next.html", NULL);
	/* not a refresh, or no time: no link */
	expect_html("<meta name=description content=\"https-less text\">", NULL);
	expect_html("<meta http-equiv=refresh content=\"url=https://f.example/\">", NULL);
}

static void test_srcset(void **state)
{
	(void)state;
	expect_html("<img srcset=\"https://a.example/1.png 1x, https://b.example/2.png 2x\">",
		    "https://a.example/1.png", "https://b.example/2.png", NULL);
	expect_html("<picture><source srcset=\"https://c.example/a.webp\"></picture>",
		    "https://c.example/a.webp", NULL);
	expect_html("<img srcset=\"https://d.example/x,y.png 100w,https://e.example/z.png\">",
		    "https://d.example/x,y.png", "https://e.example/z.png", NULL);
	expect_html("<img srcset=\"https://f.example/a.png,, https://g.example/b.png "
		    "(x, y) 2x , https://h.example/c.png\">",
		    "https://f.example/a.png", "https://g.example/b.png", "https://h.example/c.png",
		    NULL);
	expect_html("<base href=\"https://i.example/\"><img srcset=\"p.png 1x\">",
		    "https://i.example/", "https://i.example/p.png", NULL);
}

static void test_media_attributes(void **state)
{
	(void)state;
	expect_html("<svg><a xlink:href=\"https://a.example/x\"><text>t</text></a></svg>",
		    "https://a.example/x", NULL);
	expect_html("<video poster=\"https://b.example/p.jpg\"></video>",
		    "https://b.example/p.jpg", NULL);
	expect_html("<body background=\"https://c.example/bg.gif\"><table background="
		    "https://d.example/t.gif><tr><td BACKGROUND='https://e.example/c.gif'>",
		    "https://c.example/bg.gif", "https://d.example/t.gif", "https://e.example/c.gif",
		    NULL);
	expect_html("<object data=\"https://f.example/doc.pdf\"></object>",
		    "https://f.example/doc.pdf", NULL);
	expect_html("<base href=\"https://g.example/\"><svg><image xlink:href=\"i.png\"/></svg>",
		    "https://g.example/", "https://g.example/i.png", NULL);
	/* data on other elements, and data-* attributes, are not links */
	expect_html("<div data=\"https://h.example/\" data-url=\"https://i.example/\">", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comment_ends),
		cmocka_unit_test(test_outlook_conditional_comments),
		cmocka_unit_test(test_character_references),
		cmocka_unit_test(test_tag_and_attribute_states),
		cmocka_unit_test(test_tag_name_with_nul),
		cmocka_unit_test(test_ambiguous_rawtext),
		cmocka_unit_test(test_base_href),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_meta_refresh),
		cmocka_unit_test(test_srcset),
		cmocka_unit_test(test_media_attributes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
