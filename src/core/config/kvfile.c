/* kvfile.c: `Key value` lines. */
#include "config/kvfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "util/fileio.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

const char *kvfile_comment_start(const char *line, size_t len)
{
	for (const char *q = line; q < line + len; q++)
		if (*q == '#' && (q == line || is_blank(q[-1])))
			return q;
	return NULL;
}

void kvfile_split_line(const char *line, size_t len, struct kv_line *out)
{
	const char *p = line, *stop = line + len;

	memset(out, 0, sizeof(*out));
	out->comment = kvfile_comment_start(line, len);
	if (out->comment != NULL)
		stop = out->comment;
	while (p < stop && is_blank(*p))
		p++;
	while (stop > p && is_blank(stop[-1]))
		stop--;
	if (p == stop)
		return;
	const char *key_end = p;
	while (key_end < stop && !is_blank(*key_end))
		key_end++;
	const char *value = key_end;
	while (value < stop && is_blank(*value))
		value++;
	out->key = p;
	out->key_len = (size_t)(key_end - p);
	out->value = value;
	out->value_len = (size_t)(stop - value);
}

bool kvfile_parse(const char *name, const char *buf, size_t len, kv_setting_fn fn,
		  void *userdata, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	unsigned line = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *stop = eol ? eol : end;
		struct kv_line kv;
		char msg[512];

		line++;
		if (memchr(p, '\0', (size_t)(stop - p)) != NULL) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", name, line);
			return false;
		}
		kvfile_split_line(p, (size_t)(stop - p), &kv);
		if (kv.key != NULL) {
			char *key = g_strndup(kv.key, kv.key_len);
			char *val = g_strndup(kv.value, kv.value_len);
			bool ok;

			msg[0] = '\0';
			if (!g_utf8_validate(key, -1, NULL) || !g_utf8_validate(val, -1, NULL)) {
				snprintf(msg, sizeof(msg), "not valid UTF-8");
				ok = false;
			} else {
				ok = fn(key, val, name, line, userdata, msg, sizeof(msg));
			}
			g_free(key);
			g_free(val);
			if (!ok) {
				snprintf(err, errlen, "%s:%u: %s", name, line, msg);
				return false;
			}
		}
		p = eol ? eol + 1 : end;
	}
	return true;
}

bool kvfile_read(const char *path, kv_setting_fn fn, void *userdata, char *err, size_t errlen)
{
	gsize len = 0;
	char *contents = fileio_read_all(path, &len, NULL, err, errlen);

	if (contents == NULL)
		return false;
	bool ok = kvfile_parse(path, contents, len, fn, userdata, err, errlen);
	g_free(contents);
	return ok;
}
