/* urls.c: bare URLs in text, and the set that collects them. */
#include "analysis/urls.h"

#include <string.h>

#include "analysis/url_normalize.h"

struct url_set {
	GHashTable *urls;	/* normalised URL -> itself (owned) */
	GHashTable *dropped;	/* distinct URLs over the cap */
	GHashTable *seen;	/* candidates already added (NULL: none yet) */
	unsigned max_urls;
};

struct url_set *url_set_new(unsigned max_urls)
{
	struct url_set *set = g_new0(struct url_set, 1);

	set->urls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	set->dropped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	set->max_urls = max_urls;
	return set;
}

void url_set_free(struct url_set *set)
{
	if (set == NULL)
		return;
	g_hash_table_unref(set->urls);
	g_hash_table_unref(set->dropped);
	if (set->seen != NULL)
		g_hash_table_unref(set->seen);
	g_free(set);
}

bool url_set_add(struct url_set *set, const char *url)
{
	if (g_hash_table_contains(set->urls, url))
		return true;
	if (set->max_urls > 0 && g_hash_table_size(set->urls) >= set->max_urls) {
		/* Counting distinct drops needs memory too: bounded, then approximate. */
		if (g_hash_table_size(set->dropped) < 100000)
			g_hash_table_add(set->dropped, g_strdup(url));
		return false;
	}
	g_hash_table_add(set->urls, g_strdup(url));
	return true;
}

/* Bounds of the memory of candidates: enough for the links of a message,
 * which repeats them (text and HTML alternatives, link and link text). */
#define SEEN_MAX 1024
#define SEEN_LEN_MAX 256

void url_set_add_candidate(struct url_set *set, const char *raw, size_t len)
{
	char key[SEEN_LEN_MAX];
	bool memo = len < sizeof(key) && memchr(raw, '\0', len) == NULL;

	/* url_normalize is a function of the bytes, and adding a URL again
	 * changes nothing (the set is unique, and full stays full): a
	 * candidate seen before can be skipped. */
	if (memo) {
		memcpy(key, raw, len);
		key[len] = '\0';
		if (set->seen == NULL)
			set->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		if (g_hash_table_contains(set->seen, key))
			return;
		if (g_hash_table_size(set->seen) < SEEN_MAX)
			g_hash_table_add(set->seen, g_strdup(key));
	}
	char *url = url_normalize(raw, len);

	if (url != NULL)
		url_set_add(set, url);
	g_free(url);
}

unsigned url_set_count(const struct url_set *set)
{
	return g_hash_table_size(set->urls);
}

unsigned url_set_dropped(const struct url_set *set)
{
	return g_hash_table_size(set->dropped);
}

static gint by_bytes(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *url_set_sorted(const struct url_set *set)
{
	GPtrArray *out = g_ptr_array_sized_new(g_hash_table_size(set->urls));
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, set->urls);
	while (g_hash_table_iter_next(&it, &key, NULL))
		g_ptr_array_add(out, key);
	g_ptr_array_sort(out, by_bytes);
	return out;
}

/* CJK and full-width punctuation ends a bare URL as ASCII punctuation
 * does (issue 16 C): "https://example.jp/a。次" stops before "。". */
static bool is_cjk_punctuation(gunichar c)
{
	return (c >= 0x3000 && c <= 0x303F) ||	/* CJK symbols and punctuation 、。「」 */
	       (c >= 0xFE10 && c <= 0xFE1F) ||	/* vertical forms */
	       (c >= 0xFE30 && c <= 0xFE6B) ||	/* CJK compatibility and small forms */
	       (c >= 0xFF01 && c <= 0xFF0F) ||	/* ！＂＃...（）＊＋，－．／ */
	       (c >= 0xFF1A && c <= 0xFF20) ||	/* ：；＜＝＞？＠ */
	       (c >= 0xFF3B && c <= 0xFF40) ||	/* ［＼］＾＿｀ */
	       (c >= 0xFF5B && c <= 0xFF65);	/* ｛｜｝～ and half-width 。「」、・ */
}

/* Length of the character at p if it ends a bare URL, else 0: ASCII
 * whitespace, controls, < > " ' `, NBSP, Unicode quotes and CJK or
 * full-width punctuation. */
static size_t url_stop_len(const unsigned char *p, size_t left)
{
	if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '"' || *p == '\'' ||
	    *p == '`')
		return 1;
	if (*p < 0x80)
		return 0;
	if (left >= 2 && p[0] == 0xc2 && (p[1] == 0xa0 || p[1] == 0xab || p[1] == 0xbb))
		return 2;	/* NBSP, guillemets */
	if (left >= 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] == 0x98 || p[2] == 0x99 || p[2] == 0x9c || p[2] == 0x9d || p[2] == 0xa8 ||
	     p[2] == 0xa9))
		return 3;	/* curly quotes, line/paragraph separators */
	if (left >= 3 && (p[0] == 0xe3 || p[0] == 0xef)) {
		gunichar c = g_utf8_get_char_validated((const char *)p, 3);

		if (c < 0x110000 && is_cjk_punctuation(c))
			return 3;
	}
	return 0;
}

static const char *const url_starts[] = {
	"http://", "https://", "ftp://", "http:\\\\", "https:\\\\", "www.",
};

static size_t url_start_at(const char *p, size_t left)
{
	/* Every start begins with h, f or w: most bytes of a text are
	 * rejected here without a comparison (the profile's hot spot). */
	char c = g_ascii_tolower(*p);

	if (c != 'h' && c != 'f' && c != 'w')
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(url_starts); i++) {
		size_t n = strlen(url_starts[i]);

		if (url_starts[i][0] == c && left > n && g_ascii_strncasecmp(p, url_starts[i], n) == 0)
			return n;
	}
	return 0;
}

/* Drops trailing punctuation and closing brackets without an opening one. */
static size_t trim_url_end(const char *start, size_t len)
{
	for (;;) {
		if (len == 0)
			return 0;
		char c = start[len - 1];

		if (strchr(".,;:!?'\"*", c) != NULL) {
			len--;
			continue;
		}
		const char *pair = c == ')' ? "(" : c == ']' ? "[" : c == '}' ? "{" : NULL;
		if (pair != NULL) {
			int open = 0, close = 0;

			for (size_t i = 0; i < len; i++) {
				if (start[i] == pair[0])
					open++;
				else if (start[i] == c)
					close++;
			}
			if (close > open) {
				len--;
				continue;
			}
		}
		return len;
	}
}

/* Where the next ':' and '.' are (len: none left). Every start has one
 * at a fixed offset: "ftp:", "http:", "https:", "www.". */
struct anchors {
	size_t colon, dot;
};

static size_t next_of(const char *text, size_t len, size_t from, char c)
{
	const char *p = from < len ? memchr(text + from, c, len - from) : NULL;

	return p ? (size_t)(p - text) : len;
}

/* The first ':' or '.' at or after from, or len. */
static size_t next_anchor(struct anchors *an, const char *text, size_t len, size_t from)
{
	if (an->colon < from)
		an->colon = next_of(text, len, from, ':');
	if (an->dot < from)
		an->dot = next_of(text, len, from, '.');
	return MIN(an->colon, an->dot);
}

/* A URL starts a word: not in the middle of letters/digits. */
static bool starts_word(const char *text, size_t i)
{
	return i == 0 || !(g_ascii_isalnum(text[i - 1]) || text[i - 1] == '.' ||
			   text[i - 1] == '/' || text[i - 1] == '@' || text[i - 1] == '-');
}

/* Only the bytes 3 to 5 before a ':' or '.' can start a URL, so the scan
 * jumps from one such anchor to the next (memchr) instead of trying every
 * byte. The starts are still found left to right: the letters before a
 * start's anchor hold no other anchor. */
void urls_from_text(const char *text, size_t len, struct url_set *out)
{
	const unsigned char *t = (const unsigned char *)text;
	struct anchors an = { next_of(text, len, 0, ':'), next_of(text, len, 0, '.') };
	size_t i = 0;	/* no URL starts before i */
	size_t a = next_anchor(&an, text, len, 0);

	while (a < len) {
		size_t start = 0, prefix = 0;

		for (size_t back = 5; back >= 3 && prefix == 0; back--) {
			if (a < back || a - back < i || !starts_word(text, a - back))
				continue;
			start = a - back;
			prefix = url_start_at(text + start, len - start);
		}
		if (prefix == 0) {
			a = next_anchor(&an, text, len, a + 1);
			continue;
		}
		size_t end = start + prefix;
		while (end < len && url_stop_len(t + end, len - end) == 0)
			end++;
		size_t url_len = trim_url_end(text + start, end - start);
		if (url_len > prefix)
			url_set_add_candidate(out, text + start, url_len);
		i = end;
		a = next_anchor(&an, text, len, MAX(end, a + 1));
	}
}
