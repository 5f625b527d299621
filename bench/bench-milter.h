/*
 * bench-milter.h: what bench/null-milter.c and bench/body-milter.c share,
 * the listening socket and the main loop of a libmilter benchmark filter.
 *
 * Static functions in a header, included by each filter's one source
 * file, so that each filter still builds from its .c file alone (as
 * tests/e2e/test-harness.sh builds bench/null-milter.c).
 *
 * TCP_NODELAY: the milter protocol is a request/reply ping-pong of small
 * packets, where Nagle's algorithm combined with delayed ACKs can add tens
 * of milliseconds per message. threatmilter sets it on its listener, so
 * the benchmark filters do too (unless told not to). libmilter does not
 * expose its socket, so we look for it among our own descriptors; Linux
 * passes the option on to every socket accept() returns.
 */
#ifndef BENCH_MILTER_H
#define BENCH_MILTER_H

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static bool is_listening_tcp_socket(int fd)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(int);
	int listening = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
	    !listening)
		return false;
	len = sizeof(addr);
	if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		return false;
	return addr.ss_family == AF_INET || addr.ss_family == AF_INET6;
}

/*
 * Sets TCP_NODELAY on every listening TCP socket among our descriptors
 * (libmilter opens exactly one). Returns how many were set, -1 on error.
 */
static int set_nodelay_on_listener(const char *name)
{
	DIR *fds = opendir("/proc/self/fd");
	struct dirent *entry;
	int set = 0;

	if (fds == NULL) {
		fprintf(stderr, "%s: /proc/self/fd: %s\n", name, strerror(errno));
		return -1;
	}
	while ((entry = readdir(fds)) != NULL) {
		char *end;
		long fd = strtol(entry->d_name, &end, 10);
		int on = 1;

		if (*entry->d_name == '\0' || *end != '\0' || fd == dirfd(fds))
			continue;
		if (!is_listening_tcp_socket((int)fd))
			continue;
		if (setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &on,
			       sizeof(on)) != 0) {
			fprintf(stderr, "%s: TCP_NODELAY on fd %ld: %s\n",
				name, fd, strerror(errno));
			closedir(fds);
			return -1;
		}
		set++;
	}
	closedir(fds);
	return set;
}

/*
 * Registers desc, opens socket_spec (unix:/path or inet:PORT@HOST; a stale
 * unix socket is removed), sets TCP_NODELAY on a listening TCP socket
 * unless nodelay is false, backlog > 0 sets listen(2)'s backlog. Then runs
 * smfi_main(). Returns the exit status for main(): 0 after a clean stop,
 * 1 on any error (said on stderr, prefixed with desc->xxfi_name).
 */
static int bench_milter_run(struct smfiDesc *desc, const char *socket_spec, bool nodelay,
			    int backlog)
{
	const char *name = desc->xxfi_name;

	if (smfi_setconn((char *)socket_spec) != MI_SUCCESS ||
	    (backlog > 0 && smfi_setbacklog(backlog) != MI_SUCCESS) ||
	    smfi_register(*desc) != MI_SUCCESS) {
		fprintf(stderr, "%s: cannot set up %s\n", name, socket_spec);
		return 1;
	}
	/* true: remove a stale UNIX socket left by an earlier run */
	if (smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "%s: cannot open %s\n", name, socket_spec);
		return 1;
	}
	if (nodelay) {
		int set = set_nodelay_on_listener(name);

		if (set < 0)
			return 1;
		if (set > 0)
			fprintf(stderr, "%s: TCP_NODELAY set on the listening socket\n",
				name);
	} else {
		fprintf(stderr, "%s: TCP_NODELAY left unset (-n)\n", name);
	}
	fprintf(stderr, "%s: listening on %s\n", name, socket_spec);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}

#endif
