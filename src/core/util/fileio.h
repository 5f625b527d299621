/* fileio.h: the few file operations several modules need done the same
 * careful way: whole writes, private unlinked temporary files, whole reads
 * with the error as text for a configuration message. */
#ifndef TM_FILEIO_H
#define TM_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

/* Writes the len bytes of data to fd, again after EINTR and short writes.
 * False on an error, errno telling which. */
bool fileio_write_all(int fd, const void *data, size_t len);

/* A new file of dir that no one else can have opened: a random name
 * "dir/prefixXXXXXX" created O_EXCL (never an existing file, never through
 * a link), mode 0600, O_CLOEXEC, and unlinked before anything is written,
 * so nothing is left behind if we crash. Its descriptor, or -1 with errno
 * set (when the name cannot be unlinked the file is closed: -1). */
int fileio_open_unlinked(const char *dir, const char *prefix);

/* The whole file at path, NUL-terminated, to g_free (*len its size in
 * bytes when len is not NULL); NULL with err "what: GLib's reason" (the
 * reason names the path) when it cannot be read. */
char *fileio_read_all(const char *path, gsize *len, const char *what, char *err, size_t errlen);

#endif
