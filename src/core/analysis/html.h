/* html.h: URLs from an HTML part, with the HTML read as a browser
 * tokenizes it (WHATWG HTML §13.2.5) and as Outlook renders it
 * (../shared/corpus/README.md, "HTML"):
 *   - href, src, xlink:href, poster, background attributes of any
 *     start tag, data of <object>, every URL of a
 *     srcset (WHATWG §4.8.4.3.10) and the URL of <meta http-equiv=refresh
 *     content="N; url=..."> (§4.2.5.3); character references decoded
 *     (html_charref.h); the first of a duplicated attribute;
 *   - bare URLs in the visible text: outside tags, comments, <script>,
 *     <style>, <title> and the other raw-text elements; inline tags such
 *     as <span> or <wbr> do not split a URL;
 *   - comments end at <!-->, <!--->, the first --> or --!>; the content
 *     of an Outlook conditional comment (<!--[if ...]> ... <![endif]-->)
 *     is markup like any other;
 *   - relative and protocol-relative links are resolved against the
 *     first <base href> that is an absolute http/https/ftp URL (which
 *     counts as a link too); without a base "//host" is http.
 * Where only a browser's tree builder could tell (raw-text elements in
 * SVG/MathML or <select>, or never closed; a tag cut by the end of
 * input), both readings are taken, so the links found are a superset of
 * an HTML5 parser's (tests/fuzz/fuzz_html_diff.c checks this against
 * gumbo). Tolerant of any malformed input; at most 5 passes over any byte. */
#ifndef TM_HTML_H
#define TM_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct url_set;

/* One link value as the tokenizer saw it (one srcset candidate). */
struct html_link {
	char tag[16];		/* element name, lower-case, truncated */
	char *value;		/* attribute value, references decoded (owned) */
};

/* What the tokenizer found in a document. */
struct html_content {
	GPtrArray *links;	/* struct html_link *, document order */
	GString *text;		/* visible text, references decoded */
	char *base;		/* value of the first usable <base href>, or NULL */
};

/* Tokenizes html (UTF-8, not NUL terminated). outlook: read the content
 * of conditional comments as markup (true for mail); false reads them as
 * comments, as HTML5 does (for the differential fuzzer). The result is
 * freed with html_content_free. */
struct html_content *html_tokenize(const char *html, size_t len, bool outlook);
void html_content_free(struct html_content *content);

/* html: UTF-8, already transfer- and charset-decoded. Adds the
 * normalised URLs to out. */
void urls_from_html(const char *html, size_t len, struct url_set *out);

#endif
