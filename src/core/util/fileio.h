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

/* Opens path for reading as a configuration file must be opened: never
 * blocking (O_NONBLOCK, so a FIFO or a device cannot hang the caller in
 * open()), O_CLOEXEC, O_NOCTTY; then it must be a regular file, and
 * O_NONBLOCK is cleared again. Its descriptor, or -1 with errno set
 * (EINVAL: not a regular file) and err "PATH: reason" ("PATH: not a
 * regular file" for a FIFO, a directory, a device or a socket). */
int fileio_open_regular(const char *path, char *err, size_t errlen);

/* The whole regular file at path (opened by fileio_open_regular), NUL-
 * terminated, to g_free (*len its size in bytes when len is not NULL);
 * NULL with errno set and err "what: PATH: reason" when it cannot be read ("what: PATH:
 * not a regular file" for anything but a regular file; what NULL: "PATH:
 * reason"). Every file the
 * daemon and threatmilterctl read as configuration comes through here. */
char *fileio_read_all(const char *path, gsize *len, const char *what, char *err, size_t errlen);

#endif
