/* html_gumbo.c: the cost and the findings of threatmilter's HTML
 * tokenizer (src/core/analysis/html.c) against gumbo, Debian's
 * HTML5-conformant parser (libgumbo-dev), on the text/html parts of a
 * set of messages (issue 16 B). Not built by default:
 *   cc -O2 -D_GNU_SOURCE -Isrc/core -Isrc -I. bench/html_gumbo.c \
 *      libthreatmilter.a $(pkg-config --cflags --libs gmime-3.0 gumbo \
 *      libcurl libcares libcjson) -o html_gumbo
 *   ./html_gumbo ../shared/corpus/phishing_pot/ *.eml
 * Prints CPU time per parser (best of 5 rounds) and the href/src values
 * each one found that the other did not. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <gmime/gmime.h>
#include <gumbo.h>

#include "analysis/html.h"

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void gumbo_links(const GumboNode *node, GHashTable *out)
{
	if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE)
		return;
	static const char *const names[] = { "href", "src" };
	for (size_t i = 0; i < 2; i++) {
		GumboAttribute *a = gumbo_get_attribute(&node->v.element.attributes, names[i]);

		if (a != NULL)
			g_hash_table_add(out, g_strdup(a->value));
	}
	const GumboVector *children = &node->v.element.children;
	for (unsigned i = 0; i < children->length; i++)
		gumbo_links(children->data[i], out);
}

static void collect_html(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	(void)parent;
	GPtrArray *docs = data;
	GMimeContentType *type = g_mime_object_get_content_type(part);

	if (!GMIME_IS_PART(part) || !g_mime_content_type_is_type(type, "text", "html"))
		return;
	GByteArray *bytes = g_byte_array_new();
	GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(part));
	if (content != NULL)
		g_mime_data_wrapper_write_to_stream(content, mem);
	g_object_unref(mem);
	if (bytes->len > 0) {
		/* the input stream preprocessing (§13.2.3.5): CR LF and CR as LF,
		 * so that both sides see the same text */
		GString *lf = g_string_sized_new(bytes->len);
		for (guint i = 0; i < bytes->len; i++) {
			if (bytes->data[i] == '\r') {
				g_string_append_c(lf, '\n');
				if (i + 1 < bytes->len && bytes->data[i + 1] == '\n')
					i++;
			} else {
				g_string_append_c(lf, (char)bytes->data[i]);
			}
		}
		g_ptr_array_add(docs, g_utf8_make_valid(lf->str, (gssize)lf->len));
		g_string_free(lf, TRUE);
	}
	g_byte_array_unref(bytes);
}

int main(int argc, char **argv)
{
	GPtrArray *docs = g_ptr_array_new_with_free_func(g_free);
	size_t total = 0;
	unsigned only_gumbo = 0, only_ours = 0, both = 0;
	double best_ours = 1e9, best_gumbo = 1e9;

	g_mime_init();
	for (int i = 1; i < argc; i++) {
		GMimeStream *s = g_mime_stream_file_open(argv[i], "r", NULL);
		if (s == NULL)
			continue;
		GMimeParser *p = g_mime_parser_new_with_stream(s);
		GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
		if (m != NULL) {
			g_mime_message_foreach(m, collect_html, docs);
			g_object_unref(m);
		}
		g_object_unref(p);
		g_object_unref(s);
	}
	for (guint i = 0; i < docs->len; i++)
		total += strlen(g_ptr_array_index(docs, i));
	for (int round = 0; round < 5; round++) {
		double t0 = cpu_now();
		for (guint i = 0; i < docs->len; i++) {
			const char *d = g_ptr_array_index(docs, i);
			html_content_free(html_tokenize(d, strlen(d), false));
		}
		double t1 = cpu_now();
		for (guint i = 0; i < docs->len; i++) {
			const char *d = g_ptr_array_index(docs, i);
			GHashTable *links = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
			GumboOutput *out = gumbo_parse_with_options(&kGumboDefaultOptions, d, strlen(d));
			gumbo_links(out->root, links);
			gumbo_destroy_output(&kGumboDefaultOptions, out);
			g_hash_table_unref(links);
		}
		double t2 = cpu_now();
		best_ours = MIN(best_ours, t1 - t0);
		best_gumbo = MIN(best_gumbo, t2 - t1);
	}
	for (guint i = 0; i < docs->len; i++) {
		const char *d = g_ptr_array_index(docs, i);
		GHashTable *g = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		GHashTable *o = g_hash_table_new(g_str_hash, g_str_equal);
		GumboOutput *out = gumbo_parse_with_options(&kGumboDefaultOptions, d, strlen(d));
		struct html_content *c = html_tokenize(d, strlen(d), false);

		gumbo_links(out->root, g);
		for (guint k = 0; k < c->links->len; k++)
			g_hash_table_add(o, ((struct html_link *)g_ptr_array_index(c->links, k))->value);
		GHashTableIter it;
		gpointer key;
		g_hash_table_iter_init(&it, g);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			if (g_hash_table_contains(o, key))
				both++;
			else {
				only_gumbo++;
				printf("only gumbo (doc %u): %.80s\n", i, (char *)key);
			}
		}
		g_hash_table_iter_init(&it, o);
		while (g_hash_table_iter_next(&it, &key, NULL))
			if (!g_hash_table_contains(g, key)) {
				only_ours++;
				printf("only ours (doc %u): %.80s\n", i, (char *)key);
			}
		gumbo_destroy_output(&kGumboDefaultOptions, out);
		html_content_free(c);
		g_hash_table_unref(g);
		g_hash_table_unref(o);
	}
	printf("%u HTML parts, %.1f MB\n", docs->len, (double)total / 1e6);
	printf("ours:  %.1f ms CPU (%.0f MB/s)\n", best_ours * 1e3, (double)total / 1e6 / best_ours);
	printf("gumbo: %.1f ms CPU (%.0f MB/s), %.1fx ours\n", best_gumbo * 1e3,
	       (double)total / 1e6 / best_gumbo, best_gumbo / best_ours);
	printf("distinct links per document: both %u, only gumbo %u, only ours %u\n", both, only_gumbo,
	       only_ours);
	g_ptr_array_unref(docs);
	return 0;
}
