/* pidfile.h: the PidFile as the single-instance guard (issue 18, 3;
 * issue 17, 7).
 *
 * The file is opened without following a symbolic link (O_NOFOLLOW), an
 * existing file that is not a regular file is refused, and it is locked
 * (flock, kept across fork) before the daemon touches its socket: a
 * second instance is refused while the first runs, instead of deleting
 * the live socket. Only the instance holding the lock removes the file. */
#ifndef TM_PIDFILE_H
#define TM_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pidfile;

/* Opens (mode 0644, created if missing) and locks `path`. Returns NULL
 * with err set when it is a link or not a regular file, cannot be
 * opened, or another process holds the lock (err names its pid). */
struct pidfile *pidfile_acquire(const char *path, char *err, size_t errlen);

/* Replaces the content with "pid\n". Returns false with err set. */
bool pidfile_write(struct pidfile *pf, pid_t pid, char *err, size_t errlen);

/* Removes the file (it is ours: we hold the lock), unlocks, frees.
 * NULL is ignored. */
void pidfile_release(struct pidfile *pf);

#endif
