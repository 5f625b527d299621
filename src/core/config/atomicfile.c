/* atomicfile.c: temp file + fsync + rename. */
#include "config/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>

/* Sets the mode, writes, syncs and closes fd (in every case). */
static bool write_and_sync(int fd, mode_t mode, const char *data, size_t len)
{
	FILE *f = fdopen(fd, "w");
	bool ok;

	if (f == NULL) {
		close(fd);
		return false;
	}
	ok = fchmod(fd, mode) == 0 && fwrite(data, 1, len, f) == len && fflush(f) == 0 &&
	     fsync(fd) == 0;
	return fclose(f) == 0 && ok;
}

/* Creates the temp file; its name in *tmp_path (g_free). */
static int create_temp(const char *path, mode_t mode, char **tmp_path)
{
	char *dir = g_path_get_dirname(path), *base = g_path_get_basename(path);
	int fd = -1;

	for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
		char *name = g_strdup_printf(".%s.%08x.tmp", base, g_random_int());

		g_free(*tmp_path);
		*tmp_path = g_build_filename(dir, name, NULL);
		g_free(name);
		fd = open(*tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	g_free(dir);
	g_free(base);
	return fd;
}

static void sync_dir(const char *path)
{
	char *dir = g_path_get_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);	/* best effort: the rename itself is done */
		close(fd);
	}
	g_free(dir);
}

bool atomic_replace(const char *path, const char *data, size_t len, mode_t mode,
		    atomic_check_fn check, void *userdata, char *err, size_t errlen)
{
	char *tmp = NULL;
	struct stat old;
	int fd = create_temp(path, mode, &tmp);
	bool ok = false;

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create a temporary file: %s", path,
			 g_strerror(errno));
		g_free(tmp);
		return false;
	}
	/* the file keeps its owner and group (root:threatmilter) when the
	 * caller may give them; an unprivileged user keeps its own */
	if (lstat(path, &old) == 0 && S_ISREG(old.st_mode) &&
	    fchown(fd, old.st_uid, old.st_gid) != 0) {
		/* EPERM: not root; the new file is the caller's */
	}
	if (!write_and_sync(fd, mode, data, len)) {
		snprintf(err, errlen, "%s: cannot write %s: %s", path, tmp, g_strerror(errno));
		goto out;
	}
	if (check != NULL && !check(tmp, userdata, err, errlen))
		goto out;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot replace: %s", path, g_strerror(errno));
		goto out;
	}
	sync_dir(path);
	ok = true;
out:
	if (!ok)
		unlink(tmp);
	g_free(tmp);
	return ok;
}
