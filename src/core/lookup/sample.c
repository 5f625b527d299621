/* sample.c: an attachment's bytes for uploads (see sample.h). In memory;
 * spilling to TmpDir beyond a bound is the next step of issue 12. */
#include "lookup/sample.h"

#include <string.h>

#include "providers/provider_http.h"

#define SAMPLE_NAME_MAX 200

struct sample {
	gint refs;
	char *name;
	char *sha256;
	bool is_pe;
	GBytes *bytes;
};

/* Printable ASCII, no path separators or quotes: the name goes into a
 * multipart header and a provider's report. */
static char *safe_name(const char *name)
{
	GString *out = g_string_new(NULL);

	for (const char *p = name ? name : ""; *p != '\0' && out->len < SAMPLE_NAME_MAX; p++) {
		unsigned char c = (unsigned char)*p;

		g_string_append_c(out, c > 0x20 && c < 0x7f && c != '/' && c != '\\' &&
				  c != '"' ? (char)c : '_');
	}
	if (out->len == 0)
		g_string_assign(out, "sample");
	return g_string_free(out, FALSE);
}

struct sample *sample_new(const char *name, const char *sha256, bool is_pe,
			  const void *data, size_t len)
{
	struct sample *s = g_new0(struct sample, 1);

	s->refs = 1;
	s->name = safe_name(name);
	s->sha256 = g_ascii_strdown(sha256 ? sha256 : "", -1);
	s->is_pe = is_pe;
	s->bytes = g_bytes_new(data, len);
	return s;
}

struct sample *sample_ref(struct sample *s)
{
	g_atomic_int_inc(&s->refs);
	return s;
}

void sample_unref(struct sample *s)
{
	if (s == NULL || !g_atomic_int_dec_and_test(&s->refs))
		return;
	g_bytes_unref(s->bytes);
	g_free(s->name);
	g_free(s->sha256);
	g_free(s);
}

const char *sample_name(const struct sample *s) { return s->name; }
const char *sample_sha256(const struct sample *s) { return s->sha256; }
size_t sample_size(const struct sample *s) { return g_bytes_get_size(s->bytes); }
bool sample_is_pe(const struct sample *s) { return s->is_pe; }

void sample_add_part(const struct sample *s, struct http_request *req, const char *field)
{
	gsize len;
	const void *data = g_bytes_get_data(s->bytes, &len);

	http_request_add_part(req, field, s->name, "application/octet-stream", data, len);
}

GBytes *sample_bytes(const struct sample *s)
{
	return g_bytes_ref(s->bytes);
}
