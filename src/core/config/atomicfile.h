/* atomicfile.h: replacing a file so that a reader sees the old content or
 * the new, never a mix, and a crash leaves the old file (temp file in the
 * same directory, fsync, rename, fsync of the directory). */
#ifndef TM_ATOMICFILE_H
#define TM_ATOMICFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Called with the complete, synced temp file before it replaces the old
 * one; returning false (reason in err) abandons the replacement. The
 * admin tool uses it to check the new file with the daemon's loader. */
typedef bool (*atomic_check_fn)(const char *tmp_path, void *userdata,
				char *err, size_t errlen);

/* Writes len bytes of data to `path`: a temp file ".NAME.XXXXXX.tmp" in
 * the same directory created with O_CREAT|O_EXCL|O_NOFOLLOW and exactly
 * `mode` (umask does not apply), owner and group of the replaced file
 * when the caller may set them, fsync, `check` (may be NULL), rename()
 * over path, fsync of the directory. A symlink at `path` is replaced, not
 * followed. Returns false with "path: reason" in err; then the old file is
 * untouched and the temp file removed. */
bool atomic_replace(const char *path, const char *data, size_t len, mode_t mode,
		    atomic_check_fn check, void *userdata, char *err, size_t errlen);

#endif
