/* msgbuf.c: memory first, then an unlinked temporary file. */
#include "util/msgbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/fileio.h"

struct msgbuf {
	GByteArray *memory;
	int fd;			/* -1 until spilled */
	size_t offered;		/* bytes given to msgbuf_append */
	size_t spill_at, limit;
	char *tmp_dir;
};

struct msgbuf *msgbuf_new(size_t spill_at, size_t limit, const char *tmp_dir)
{
	struct msgbuf *buf = g_new0(struct msgbuf, 1);

	buf->memory = g_byte_array_new();
	buf->fd = -1;
	buf->spill_at = spill_at;
	buf->limit = limit;
	buf->tmp_dir = g_strdup(tmp_dir && *tmp_dir ? tmp_dir : "/tmp");
	return buf;
}

void msgbuf_free(struct msgbuf *buf)
{
	if (buf == NULL)
		return;
	g_byte_array_unref(buf->memory);
	if (buf->fd >= 0)
		close(buf->fd);
	g_free(buf->tmp_dir);
	g_free(buf);
}

/* The file is unlinked at once: nothing is left behind if we crash, and
 * the message never lies readable in TmpDir. */
static bool spill(struct msgbuf *buf, char *err, size_t errlen)
{
	int fd = fileio_open_unlinked(buf->tmp_dir, "threatmilter.");

	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file in %s: %s", buf->tmp_dir,
			 strerror(errno));
		return false;
	}
	if (!fileio_write_all(fd, buf->memory->data, buf->memory->len)) {
		snprintf(err, errlen, "cannot write a temporary file in %s: %s", buf->tmp_dir,
			 strerror(errno));
		close(fd);
		return false;
	}
	g_byte_array_set_size(buf->memory, 0);
	buf->fd = fd;
	return true;
}

bool msgbuf_append(struct msgbuf *buf, const void *data, size_t len, char *err, size_t errlen)
{
	size_t stored = buf->offered;

	buf->offered += len;
	/* always a bound: 0 stores nothing (MaxMessageSize refuses 0, so
	 * the daemon and `scan` agree on what is too large) */
	if (stored >= buf->limit)
		return true;
	if (len > buf->limit - stored)
		len = buf->limit - stored;
	if (buf->fd < 0 && buf->memory->len + len > buf->spill_at && !spill(buf, err, errlen))
		return false;
	if (buf->fd >= 0) {
		if (!fileio_write_all(buf->fd, data, len)) {
			snprintf(err, errlen, "cannot write a temporary file: %s", strerror(errno));
			return false;
		}
		return true;
	}
	g_byte_array_append(buf->memory, data, (guint)len);
	return true;
}

bool msgbuf_append_header(struct msgbuf *buf, const char *name, const char *value,
			  char *err, size_t errlen)
{
	/* libmilter hands values without the leading space and with bare \n
	 * in folded headers; GMime reads either line ending. */
	return msgbuf_append(buf, name, strlen(name), err, errlen) &&
	       msgbuf_append(buf, ": ", 2, err, errlen) &&
	       msgbuf_append(buf, value, strlen(value), err, errlen) &&
	       msgbuf_append(buf, "\r\n", 2, err, errlen);
}

size_t msgbuf_size(const struct msgbuf *buf)
{
	return buf->offered;
}

bool msgbuf_too_large(const struct msgbuf *buf)
{
	return buf->offered > buf->limit;	/* as `scan` judges it */
}

bool msgbuf_spilled(const struct msgbuf *buf)
{
	return buf->fd >= 0;
}

GMimeStream *msgbuf_stream(struct msgbuf *buf)
{
	if (buf->fd >= 0) {
		int fd = dup(buf->fd);

		if (fd < 0)
			return NULL;
		lseek(fd, 0, SEEK_SET);
		GMimeStream *stream = g_mime_stream_fs_new(fd);
		g_mime_stream_fs_set_owner(GMIME_STREAM_FS(stream), TRUE);
		return stream;
	}
	/* The memory stream does not own the array: the buffer does. */
	GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(buf->memory);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	return stream;
}
