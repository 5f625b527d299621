/* html.c: a tokenizer after the WHATWG HTML standard (§13.2.5), reduced
 * to what finds links: the data, tag, attribute, comment, bogus-comment
 * and raw-text states. No tree is built: mail HTML is often broken on
 * purpose, and what a browser shows as a link is decided by the
 * tokenizer (the tree builder only moves elements around). Deliberate
 * differences from a browser, both in favour of finding more links:
 * Outlook conditional comments are read as markup, and <noscript> is
 * parsed (mail clients run no scripts). tests/fuzz/fuzz_html_diff.c
 * compares the links with gumbo's. */
#include "analysis/html.h"

#include <string.h>

#include "analysis/html_charref.h"
#include "analysis/url_resolve.h"
#include "analysis/urls.h"

struct tokenizer {
	const char *p, *end;
	const char *limit;	/* run() stops at a tag starting here (<= end) */
	bool outlook;
	unsigned svg, math;	/* open <svg>/<math> elements: foreign content */
	bool in_select;		/* after <select>: raw-text start tags are ignored */
	unsigned depth;		/* nesting of run() for foreign raw-text regions */
	struct html_content *out;
};

/* Bound on run() nesting: "<svg><style><style>..." costs O(depth * n). */
#define FOREIGN_REGION_DEPTH 4

static void run(struct tokenizer *t);

/* The attributes read from a tag: those whose value a browser or mail
 * client follows as a URL (or a list of them), and those that say
 * whether <meta content> is one. */
enum attr {
	ATTR_HREF, ATTR_SRC, ATTR_XLINK_HREF,
	ATTR_POSTER, ATTR_BACKGROUND, ATTR_DATA, ATTR_SRCSET,
	ATTR_HTTP_EQUIV, ATTR_CONTENT, ATTR_COUNT
};

static const char *const attr_names[ATTR_COUNT] = {
	[ATTR_HREF] = "href", [ATTR_SRC] = "src", [ATTR_XLINK_HREF] = "xlink:href",
	[ATTR_POSTER] = "poster", [ATTR_BACKGROUND] = "background", [ATTR_DATA] = "data",
	[ATTR_SRCSET] = "srcset", [ATTR_HTTP_EQUIV] = "http-equiv", [ATTR_CONTENT] = "content",
};

/* One tag as read: its name and the first of each attribute it keeps. */
struct tag {
	char name[16];		/* lower-case, truncated; name_len is the full length */
	size_t name_len;
	const char *attr[ATTR_COUNT];	/* raw values (NULL if absent) */
	size_t attr_len[ATTR_COUNT];
	bool self_closing;	/* "/>" */
};

/* Tags that do not break the text flow: "<span>ht</span>tp://" stays one word. */
static const char *const inline_tags[] = {
	"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "em", "font", "i", "kbd", "label",
	"mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "tt", "u",
	"var", "wbr", "o:p",
};

/* Elements whose content is raw text, not shown in a mail client; the
 * tokenizer looks only for their end tag. */
static const char *const rawtext_tags[] = {
	"script", "style", "title", "xmp", "iframe", "noembed", "noframes",
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* (The first letters are compared first: that alone tells most names
 * apart, and each tag is compared with some 40 names.) */
static bool tag_is(const struct tag *tag, const char *name)
{
	return tag->name[0] == name[0] && strlen(name) == tag->name_len &&
	       strcmp(tag->name, name) == 0;
}

static bool name_in(const struct tag *tag, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tag_is(tag, list[i]))
			return true;
	return false;
}

static bool has_prefix_ci(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - p) >= n && g_ascii_strncasecmp(p, prefix, n) == 0;
}

static const char *find_bytes(const char *p, const char *end, const char *needle)
{
	if (p >= end)
		return NULL;
	return memmem(p, (size_t)(end - p), needle, strlen(needle));
}

/* Bogus comment (§13.2.5.41): "<?...", "</1...", "<!DOCTYPE", "<![endif]"
 * and other "<!" declarations end at the first '>'. */
static void bogus_comment(struct tokenizer *t, const char *from)
{
	const char *gt = memchr(from, '>', (size_t)(t->end - from));

	t->p = gt ? gt + 1 : t->end;
}

/* Does the comment end at q, with '>' or with `alt` then '>'? If so
 * t->p moves past it. */
static bool comment_ends_at(struct tokenizer *t, const char *q, char alt)
{
	if (q < t->end && *q == '>') {
		t->p = q + 1;
		return true;
	}
	if (t->end - q >= 2 && q[0] == alt && q[1] == '>') {
		t->p = q + 2;
		return true;
	}
	return false;
}

/* After "<!--" (§13.2.5.43 to §13.2.5.52): "<!-->" and "<!--->" end at
 * once; else the first "--" followed by any '-'s and '>' or "!>" ends it.
 * An Outlook conditional comment "<!--[if ...]>" ends at its "]>" when
 * that comes before any comment end. */
static void comment(struct tokenizer *t, const char *q)
{
	const char *end = t->end;

	if (t->outlook && has_prefix_ci(q, end, "[if")) {
		const char *cond_end = find_bytes(q, end, "]>");
		const char *comment_end = find_bytes(q, end, "-->");

		if (cond_end != NULL && (comment_end == NULL || cond_end < comment_end)) {
			t->p = cond_end + 2;
			return;
		}
	}
	if (comment_ends_at(t, q, '-'))
		return;		/* "<!-->", "<!--->" */
	for (;;) {
		const char *dashes = find_bytes(q, end, "--");

		if (dashes == NULL) {
			t->p = end;
			return;
		}
		q = dashes + 2;
		while (q < end && *q == '-')
			q++;
		if (comment_ends_at(t, q, '!'))
			return;		/* "-->", "--!>" */
	}
}

/* Keeps the first of each attribute in enum attr (a repeated attribute
 * is dropped, §13.2.5.33). */
static void keep_attribute(struct tag *tag, const char *name, size_t name_len,
			   const char *value, size_t value_len)
{
	int slot = -1;

	for (int i = 0; i < ATTR_COUNT && slot < 0; i++)
		if (strlen(attr_names[i]) == name_len &&
		    g_ascii_strncasecmp(name, attr_names[i], name_len) == 0)
			slot = i;
	if (slot < 0 || tag->attr[slot] != NULL)
		return;
	tag->attr[slot] = value;
	tag->attr_len[slot] = value_len;
}

/* The attribute states (§13.2.5.32 to §13.2.5.40) from p to the tag's
 * '>'. Returns the position after '>', or end. A browser drops a tag cut
 * by the end of input (eof-in-tag); its links are kept here, since a
 * truncated message is more likely an evasion than an accident. */
static const char *read_attributes(const char *p, const char *end, struct tag *tag)
{
	for (;;) {
		while (p < end && (is_ws(*p) || *p == '/'))
			p++;
		if (p >= end)
			return end;
		if (*p == '>') {
			tag->self_closing = p[-1] == '/';
			return p + 1;
		}
		/* attribute name: a leading '=' belongs to it */
		const char *name = p++;
		while (p < end && !is_ws(*p) && *p != '/' && *p != '>' && *p != '=')
			p++;
		size_t name_len = (size_t)(p - name);
		while (p < end && is_ws(*p))
			p++;
		if (p >= end || *p != '=') {
			keep_attribute(tag, name, name_len, name, 0);	/* "<a href>": empty */
			continue;
		}
		p++;
		while (p < end && is_ws(*p))
			p++;
		if (p >= end)
			return end;
		const char *value = p, *value_end;
		if (*p == '"' || *p == '\'') {
			value = p + 1;
			value_end = memchr(value, *p, (size_t)(end - value));
			if (value_end == NULL)
				value_end = end;
			p = value_end < end ? value_end + 1 : end;
		} else {
			while (p < end && !is_ws(*p) && *p != '>')
				p++;
			value_end = p;
		}
		keep_attribute(tag, name, name_len, value, (size_t)(value_end - value));
	}
}

/* Content of a raw-text element: up to "</name" followed by a blank, '/'
 * or '>' (§13.2.5.12 to §13.2.5.14). Returns where that end tag starts. */
static const char *rawtext_end(const char *p, const char *end, const struct tag *tag)
{
	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		const char *after = p + 2 + tag->name_len;

		if (end - p >= 2 && p[1] == '/' && after <= end &&
		    g_ascii_strncasecmp(p + 2, tag->name, tag->name_len) == 0 &&
		    (after == end || is_ws(*after) || *after == '/' || *after == '>'))
			return p;
		p++;
	}
	return end;
}

/* Adds value (decoded, owned) as a link of tag. */
static void add_decoded_link(struct tokenizer *t, const struct tag *tag, char *value)
{
	struct html_link *link = g_new0(struct html_link, 1);

	g_strlcpy(link->tag, tag->name, sizeof(link->tag));
	link->value = value;
	g_ptr_array_add(t->out->links, link);
}

static char *decode_attribute(const char *value, size_t len)
{
	if (memchr(value, '&', len) == NULL) {	/* no reference: the bytes as they are */
		char *copy = g_malloc(len + 1);

		memcpy(copy, value, len);
		copy[len] = '\0';
		return copy;
	}
	GString *decoded = g_string_sized_new(len);

	html_decode_append(decoded, value, len, true);
	return g_string_free(decoded, FALSE);
}

static const char *skip_ws(const char *p)
{
	while (is_ws(*p))
		p++;
	return p;
}

/* The URLs of a srcset value (decoded, NUL terminated), as WHATWG "parse
 * a srcset attribute" (§4.8.4.3.10) collects them: candidates separated
 * by commas, each a URL then descriptors; commas ending a URL are not
 * part of it; a comma inside parentheses in the descriptors does not end
 * the candidate. */
static void add_srcset_links(struct tokenizer *t, const struct tag *tag, const char *s)
{
	for (;;) {
		while (is_ws(*s) || *s == ',')
			s++;
		if (*s == '\0')
			return;
		const char *url = s;

		while (*s != '\0' && !is_ws(*s))
			s++;
		const char *url_end = s;

		while (url_end > url && url_end[-1] == ',')
			url_end--;
		add_decoded_link(t, tag, g_strndup(url, (size_t)(url_end - url)));
		if (url_end < s)
			continue;	/* "url," has no descriptors */
		for (int paren = 0; *s != '\0' && (*s != ',' || paren); s++)
			paren = *s == '(' ? 1 : *s == ')' ? 0 : paren;
	}
}

/* The URL of a <meta http-equiv=refresh> content value (decoded, NUL
 * terminated), by the "shared declarative refresh steps" of WHATWG HTML
 * §4.2.5.3: a time, then optionally ';' or ',', "url" and '=' (any case,
 * blanks around), then the URL, optionally quoted. NULL when the value
 * has no time or no URL. */
static char *refresh_url(const char *s)
{
	s = skip_ws(s);
	if (!g_ascii_isdigit(*s) && *s != '.')
		return NULL;
	while (g_ascii_isdigit(*s) || *s == '.')
		s++;
	if (*s != '\0' && !is_ws(*s) && *s != ';' && *s != ',')
		return NULL;
	s = skip_ws(s);
	if (*s == ';' || *s == ',')
		s = skip_ws(s + 1);
	const char *url = s;

	if (g_ascii_strncasecmp(s, "url", 3) == 0) {
		const char *q = skip_ws(s + 3);

		if (*q == '=')
			url = skip_ws(q + 1);
	}
	const char *url_end = url + strlen(url);

	if (*url == '"' || *url == '\'') {
		const char *close = strchr(url + 1, *url);

		url_end = close ? close : url_end;
		url++;
	}
	while (url < url_end && is_ws(*url))
		url++;
	while (url_end > url && is_ws(url_end[-1]))
		url_end--;
	return url_end > url ? g_strndup(url, (size_t)(url_end - url)) : NULL;
}

/* The links of one attribute of tag, in the way that attribute holds a URL. */
static void add_attribute_links(struct tokenizer *t, const struct tag *tag, enum attr a)
{
	char *value;

	if (tag->attr[a] == NULL)
		return;
	if (a == ATTR_DATA && !tag_is(tag, "object"))
		return;		/* data="" is a URL on <object> only */
	value = decode_attribute(tag->attr[a], tag->attr_len[a]);
	if (a == ATTR_SRCSET) {
		add_srcset_links(t, tag, value);
		g_free(value);
		return;
	}
	add_decoded_link(t, tag, value);
	if (a == ATTR_HREF && tag_is(tag, "base") && t->out->base == NULL &&
	    url_is_absolute_web(value))
		t->out->base = url_resolve(value, NULL);
}

/* <meta http-equiv=refresh content="N; url=...">: a browser loads the URL. */
static void add_refresh_link(struct tokenizer *t, const struct tag *tag)
{
	if (!tag_is(tag, "meta") || tag->attr[ATTR_HTTP_EQUIV] == NULL ||
	    tag->attr[ATTR_CONTENT] == NULL)
		return;
	char *equiv = decode_attribute(tag->attr[ATTR_HTTP_EQUIV], tag->attr_len[ATTR_HTTP_EQUIV]);
	char *content = g_ascii_strcasecmp(equiv, "refresh") == 0
			? decode_attribute(tag->attr[ATTR_CONTENT], tag->attr_len[ATTR_CONTENT])
			: NULL;
	char *url = content ? refresh_url(content) : NULL;

	if (url != NULL)
		add_decoded_link(t, tag, url);
	g_free(content);
	g_free(equiv);
}

/* Reads a raw-text element's content up to its end tag as markup in a
 * nested run, then skips it as raw text. */
static void rawtext_both_ways(struct tokenizer *t, const struct tag *tag)
{
	struct tokenizer region = *t;
	const char *stop = rawtext_end(t->p, t->end, tag);

	region.limit = stop;
	region.depth++;
	run(&region);
	t->p = stop;
	/* Foreign content opened in the markup reading stays open for what
	 * follows (an inner <math> that one </math> does not close): the
	 * reading that keeps more elements open finds more links. */
	t->svg = MAX(t->svg, region.svg);
	t->math = MAX(t->math, region.math);
	t->in_select = t->in_select || region.in_select;
}

/* Whether a raw-text start tag switches the tokenizer is the tree
 * builder's call: not in SVG or MathML (§13.2.6.5, and a stray end tag
 * can leave those), not for <style> or <iframe> inside <select>
 * (§13.2.6.4.16). Without a tree, the content is
 * read both ways there, and also when the element is never closed (the
 * tag may have been ignored): as markup in a nested run, then skipped as
 * raw text. That finds the links of either reading. Returns true when
 * it handled the element. */
static bool rawtext_ambiguous(struct tokenizer *t, const struct tag *tag)
{
	bool raw = name_in(tag, rawtext_tags, G_N_ELEMENTS(rawtext_tags));

	if (!raw && !tag_is(tag, "textarea"))
		return false;
	if (t->depth >= FOREIGN_REGION_DEPTH)
		return true;	/* deep inside such regions: markup only */
	if (t->svg + t->math > 0 || (t->in_select && raw && !tag_is(tag, "script")) ||
	    rawtext_end(t->p, t->end, tag) == t->end) {
		rawtext_both_ways(t, tag);
		return true;
	}
	return false;
}

/* A start tag's effects: its links, a word break unless inline, and the
 * content model of raw-text elements. */
static void start_tag(struct tokenizer *t, const struct tag *tag)
{
	for (int a = 0; a <= ATTR_SRCSET; a++)
		add_attribute_links(t, tag, (enum attr)a);
	add_refresh_link(t, tag);
	if (!name_in(tag, inline_tags, G_N_ELEMENTS(inline_tags)))
		g_string_append_c(t->out->text, ' ');
	if (tag_is(tag, "svg") && !tag->self_closing)
		t->svg++;
	if (tag_is(tag, "math") && !tag->self_closing)
		t->math++;
	if (tag_is(tag, "select"))
		t->in_select = !t->in_select;	/* <select> in a select closes it */
	if (rawtext_ambiguous(t, tag))
		return;
	if (name_in(tag, rawtext_tags, G_N_ELEMENTS(rawtext_tags))) {
		t->p = rawtext_end(t->p, t->end, tag);
	} else if (tag_is(tag, "textarea")) {
		/* RCDATA: text with references, no tags */
		const char *stop = rawtext_end(t->p, t->end, tag);

		html_decode_append(t->out->text, t->p, (size_t)(stop - t->p), false);
		t->p = stop;
	} else if (tag_is(tag, "plaintext") && t->svg + t->math == 0 && !t->in_select) {
		/* (in SVG/MathML or <select> it is an ordinary element) */
		html_decode_append(t->out->text, t->p, (size_t)(t->end - t->p), false);
		t->p = t->end;
	}
}

/* A tag from its name (§13.2.5.8); the name starts with a letter. */
static void read_tag(struct tokenizer *t, const char *name, bool end_tag)
{
	struct tag tag = { .name_len = 0 };
	const char *p = name;

	while (p < t->end && !is_ws(*p) && *p != '/' && *p != '>') {
		if (tag.name_len < sizeof(tag.name) - 1)
			tag.name[tag.name_len] = g_ascii_tolower(*p);
		tag.name_len++;
		p++;
	}
	if (tag.name_len >= sizeof(tag.name))
		tag.name_len = sizeof(tag.name);	/* matches no known name */
	t->p = read_attributes(p, t->end, &tag);
	if (!end_tag)
		start_tag(t, &tag);
	else if (!name_in(&tag, inline_tags, G_N_ELEMENTS(inline_tags)))
		g_string_append_c(t->out->text, ' ');
	if (end_tag && tag_is(&tag, "select"))
		t->in_select = false;
	if (end_tag && t->svg > 0 && tag_is(&tag, "svg"))
		t->svg--;
	if (end_tag && t->math > 0 && tag_is(&tag, "math"))
		t->math--;
}

/* At '<' in the data state (§13.2.5.6). */
static void tag_open(struct tokenizer *t)
{
	const char *q = t->p + 1, *end = t->end;

	if (q < end && *q == '!') {
		if (has_prefix_ci(q + 1, end, "--")) {
			comment(t, q + 3);
		} else if (t->svg + t->math > 0 && has_prefix_ci(q + 1, end, "[CDATA[")) {
			/* A CDATA section in foreign content is text (§13.2.5.69).
			 * Where foreign content ends is the tree builder's call, so
			 * its content is read on as markup: a browser sees either
			 * text or tags there, and this finds the links of both. */
			t->p = q + 8;
		} else {
			bogus_comment(t, q + 1);
		}
	} else if (q < end && *q == '/') {
		q++;
		if (q < end && g_ascii_isalpha(*q))
			read_tag(t, q, true);
		else if (q < end && *q == '>')
			t->p = q + 1;
		else if (q < end)
			bogus_comment(t, q);
		else {
			g_string_append(t->out->text, "</");
			t->p = end;
		}
	} else if (q < end && *q == '?') {
		bogus_comment(t, q);
	} else if (q < end && g_ascii_isalpha(*q)) {
		read_tag(t, q, false);
	} else {
		g_string_append_c(t->out->text, '<');
		t->p = q;
	}
}

/* The data state (§13.2.5.1) from t->p to t->limit. */
static void run(struct tokenizer *t)
{
	while (t->p < t->limit) {
		const char *lt = memchr(t->p, '<', (size_t)(t->limit - t->p));
		const char *stop = lt ? lt : t->limit;

		html_decode_append(t->out->text, t->p, (size_t)(stop - t->p), false);
		t->p = stop;
		if (lt != NULL)
			tag_open(t);
		/* A tag (or comment) that ran past the region's end leaves this
		 * reading out of step with the raw-text one: it goes on to the
		 * end of the input. At most 2^FOREIGN_REGION_DEPTH readings. */
		if (t->p > t->limit)
			t->limit = t->end;
	}
}

static void html_link_free(gpointer data)
{
	struct html_link *link = data;

	g_free(link->value);
	g_free(link);
}

struct html_content *html_tokenize(const char *html, size_t len, bool outlook)
{
	struct html_content *content = g_new0(struct html_content, 1);
	struct tokenizer t = {
		.p = html, .end = html + len, .limit = html + len, .outlook = outlook, .out = content,
	};

	content->links = g_ptr_array_new_with_free_func(html_link_free);
	content->text = g_string_sized_new(len / 2);
	run(&t);
	return content;
}

void html_content_free(struct html_content *content)
{
	if (content == NULL)
		return;
	g_ptr_array_unref(content->links);
	g_string_free(content->text, TRUE);
	g_free(content->base);
	g_free(content);
}

void urls_from_html(const char *html, size_t len, struct url_set *out)
{
	struct html_content *content = html_tokenize(html, len, true);

	for (guint i = 0; i < content->links->len; i++) {
		const struct html_link *link = g_ptr_array_index(content->links, i);
		char *absolute = url_resolve(link->value, content->base);

		if (absolute != NULL)
			url_set_add_candidate(out, absolute, strlen(absolute));
		g_free(absolute);
	}
	urls_from_text(content->text->str, content->text->len, out);
	html_content_free(content);
}
