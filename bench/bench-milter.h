/*
 * bench-milter.h: what bench/null-milter.c and bench/body-milter.c share,
 * the listening socket and the main loop of a libmilter benchmark filter.
 */
#ifndef BENCH_MILTER_H
#define BENCH_MILTER_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

/*
 * Registers desc, opens socket_spec (unix:/path or inet:PORT@HOST; a stale
 * unix socket is removed), sets TCP_NODELAY on a listening TCP socket
 * unless nodelay is false (libmilter does not expose its socket, so we
 * look for it among our descriptors; Linux passes the option on to every
 * accepted socket), backlog > 0 sets listen(2)'s backlog. Then runs
 * smfi_main(). Returns the exit status for main(): 0 after a clean stop,
 * 1 on any error (said on stderr, prefixed with desc->xxfi_name).
 */
int bench_milter_run(struct smfiDesc *desc, const char *socket_spec, bool nodelay,
		     int backlog);

#endif
