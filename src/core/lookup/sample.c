/* sample.c: an attachment's bytes for uploads (see sample.h). In memory
 * up to a bound, beyond it in an unlinked file of TmpDir. */
#include <autoconfig.h>

#include "lookup/sample.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "providers/provider_http.h"
#include "util/fileio.h"

#define SAMPLE_NAME_MAX 200

struct sample {
	gint refs;
	char *name;
	char *sha256;
	bool is_pe;
	size_t size;
	GBytes *bytes;		/* in memory, or NULL when spilled */
	int fd;			/* the unlinked TmpDir file, or -1 */
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

static struct sample *sample_alloc(const char *name, const char *sha256, bool is_pe, size_t len)
{
	struct sample *s = g_new0(struct sample, 1);

	s->refs = 1;
	s->name = safe_name(name);
	s->sha256 = g_ascii_strdown(sha256 ? sha256 : "", -1);
	s->is_pe = is_pe;
	s->size = len;
	s->fd = -1;
	return s;
}

struct sample *sample_new(const char *name, const char *sha256, bool is_pe,
			  const void *data, size_t len)
{
	struct sample *s = sample_alloc(name, sha256, is_pe, len);

	s->bytes = g_bytes_new(data, len);
	return s;
}

struct sample *sample_new_bounded(const char *name, const char *sha256, bool is_pe,
				  const void *data, size_t len, size_t memory_limit,
				  const char *tmp_dir, char *err, size_t errlen)
{
	if (len <= memory_limit)
		return sample_new(name, sha256, is_pe, data, len);

	int fd = fileio_open_unlinked(tmp_dir != NULL && *tmp_dir != '\0' ? tmp_dir : "/tmp",
				      "threatmilter-sample-");

	if (fd < 0) {
		snprintf(err, errlen, "cannot create a file in TmpDir: %s", g_strerror(errno));
		return NULL;
	}
	if (!fileio_write_all(fd, data, len)) {
		snprintf(err, errlen, "cannot write %zu bytes to TmpDir: %s", len,
			 g_strerror(errno));
		close(fd);
		return NULL;
	}
	struct sample *s = sample_alloc(name, sha256, is_pe, len);

	s->fd = fd;
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
	if (s->bytes != NULL)
		g_bytes_unref(s->bytes);
	if (s->fd >= 0)
		close(s->fd);
	g_free(s->name);
	g_free(s->sha256);
	g_free(s);
}

const char *sample_name(const struct sample *s) { return s->name; }
const char *sample_sha256(const struct sample *s) { return s->sha256; }
size_t sample_size(const struct sample *s) { return s->size; }
bool sample_is_pe(const struct sample *s) { return s->is_pe; }
bool sample_spilled(const struct sample *s) { return s->fd >= 0; }

void sample_add_part(const struct sample *s, struct http_request *req, const char *field)
{
	if (s->fd >= 0) {
		/* curl opens the path: the unlinked file through our descriptor */
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
		http_request_add_file_part(req, field, s->name, "application/octet-stream", path);
		return;
	}
	gsize len;
	const void *data = g_bytes_get_data(s->bytes, &len);

	http_request_add_part(req, field, s->name, "application/octet-stream", data, len);
}

/* The file read into memory: the fallback when it cannot be mapped. */
static GBytes *read_back(const struct sample *s)
{
	unsigned char *buf = g_malloc(s->size);
	size_t got = 0;

	while (got < s->size) {
		ssize_t n = pread(s->fd, buf + got, s->size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	return g_bytes_new_take(buf, s->size);
}

GBytes *sample_bytes(const struct sample *s)
{
	if (s->fd < 0)
		return g_bytes_ref(s->bytes);
	if (s->size == 0)
		return g_bytes_new(NULL, 0);

	/* a private read-only mapping of the file: no copy on the heap */
	GMappedFile *map = g_mapped_file_new_from_fd(s->fd, FALSE, NULL);

	if (map == NULL)
		return read_back(s);
	GBytes *bytes = g_mapped_file_get_bytes(map);

	g_mapped_file_unref(map);
	return bytes;
}
