/* fileio.c: whole writes, unlinked temporary files, whole reads (fileio.h). */
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool fileio_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

int fileio_open_unlinked(const char *dir, const char *prefix)
{
	char *path = g_strdup_printf("%s/%sXXXXXX", dir, prefix);
	int fd = mkostemp(path, O_CLOEXEC);
	int saved = errno;

	if (fd >= 0 && unlink(path) != 0) {
		saved = errno;
		close(fd);
		fd = -1;	/* a file that would stay behind is refused */
	}
	g_free(path);
	errno = saved;
	return fd;
}

/* err "PATH: reason" for error e (EINVAL: not a regular file), fd closed
 * if open; -1 with errno e. */
static int failed(const char *path, int e, int fd, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", path, e == EINVAL ? "not a regular file" : strerror(e));
	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}

int fileio_open_regular(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int flags;

	if (fd < 0)
		return failed(path, errno, -1, err, errlen);
	if (fstat(fd, &st) != 0)
		return failed(path, errno, fd, err, errlen);
	if (!S_ISREG(st.st_mode))
		return failed(path, EINVAL, fd, err, errlen);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
		return failed(path, errno, fd, err, errlen);
	return fd;
}

char *fileio_read_all(const char *path, gsize *len, const char *what, char *err, size_t errlen)
{
	char reason[512];
	int fd = fileio_open_regular(path, reason, sizeof(reason));
	GString *text;
	char chunk[8192];
	ssize_t n;

	if (fd < 0) {
		int e = errno;

		if (what != NULL)
			snprintf(err, errlen, "%s: %s", what, reason);
		else
			g_strlcpy(err, reason, errlen);
		errno = e;
		return NULL;
	}
	text = g_string_new(NULL);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			snprintf(err, errlen, "%s%s%s: %s", what ? what : "", what ? ": " : "", path,
				 strerror(e));
			close(fd);
			errno = e;
			/* the text may be a secret (APIKeyFile): wiped, not just freed */
			memset(text->str, 0, text->len);
			g_string_free(text, TRUE);
			return NULL;
		}
		g_string_append_len(text, chunk, n);
	}
	close(fd);
	memset(chunk, 0, sizeof(chunk));
	if (len != NULL)
		*len = text->len;
	return g_string_free(text, FALSE);
}
