/* pidfile.c: locked PidFile (pidfile.h). */
#include "daemon/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>

struct pidfile {
	char *path;
	int fd;
	dev_t dev;
	ino_t ino;
};

/* The pid written in a file another instance holds, 0 if unreadable. */
static long holder_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

struct pidfile *pidfile_acquire(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		      0644);
	struct stat st;

	if (fd < 0) {
		snprintf(err, errlen, "PidFile %s: %s%s", path, strerror(errno),
			 errno == ELOOP ? " (a symbolic link: refused)" : "");
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "PidFile %s: not a regular file: refused", path);
		close(fd);
		return NULL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		long pid = holder_pid(fd);

		if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "another threatmilter (pid %ld) holds PidFile %s: "
				 "not starting a second instance", pid, path);
		else
			snprintf(err, errlen, "PidFile %s: cannot lock: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	struct pidfile *pf = g_new0(struct pidfile, 1);

	pf->path = g_strdup(path);
	pf->fd = fd;
	pf->dev = st.st_dev;
	pf->ino = st.st_ino;
	return pf;
}

bool pidfile_write(struct pidfile *pf, pid_t pid, char *err, size_t errlen)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);

	if (ftruncate(pf->fd, 0) != 0 || pwrite(pf->fd, buf, (size_t)len, 0) != len) {
		snprintf(err, errlen, "PidFile %s: %s", pf->path, strerror(errno));
		return false;
	}
	return true;
}

void pidfile_release(struct pidfile *pf)
{
	struct stat st;

	if (pf == NULL)
		return;
	/* only the file we locked, not one put in its place since */
	if (lstat(pf->path, &st) == 0 && st.st_dev == pf->dev && st.st_ino == pf->ino)
		unlink(pf->path);
	close(pf->fd);
	g_free(pf->path);
	g_free(pf);
}
