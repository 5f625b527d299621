/* fileio.c: whole writes, unlinked temporary files, whole reads (fileio.h). */
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

char *fileio_read_all(const char *path, gsize *len, const char *what, char *err, size_t errlen)
{
	gchar *text = NULL;
	GError *error = NULL;

	if (!g_file_get_contents(path, &text, len, &error)) {
		snprintf(err, errlen, "%s: %s", what, error->message);
		g_error_free(error);
		return NULL;
	}
	return text;
}
