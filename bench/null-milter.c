/*
 * null-milter: a libmilter filter that accepts every message, the protocol
 * floor for threatmilter's benchmarks.
 *
 * Build (from the top directory):
 *	make -f bench/Makefile.null
 * or by hand:
 *	cc -O2 -Wall -Wextra -Werror -o bench/null-milter bench/null-milter.c \
 *		-lmilter -lpthread
 *
 * Usage: null-milter -p SOCKET [-n] [-v] [-b BACKLOG]
 *	-p SOCKET	unix:/path/to/socket or inet:PORT@HOST (inet6: works too)
 *	-n		do not set TCP_NODELAY on the listening TCP socket
 *	-v		print one line per accepted message on stderr
 *	-b BACKLOG	listen(2) backlog (libmilter's default otherwise)
 *
 * To be a fair floor for a content filter it stays for the whole message,
 * as threatmilter does: it takes connect, MAIL FROM, every header, the end
 * of headers and every body chunk, and accepts at the end of the message.
 * It asks the MTA not to send what it has no callback for (HELO, RCPT,
 * DATA, unknown commands) and not to wait for a reply after each header,
 * the one step where threatmilter has nothing to say either.
 *
 * TCP_NODELAY: the milter protocol is a request/reply ping-pong of small
 * packets, where Nagle's algorithm combined with delayed ACKs can add tens
 * of milliseconds per message. libmilter does not expose its socket, so
 * after smfi_opensocket() we look for the listening TCP socket among our
 * own descriptors and set TCP_NODELAY on it; Linux passes the option on to
 * every socket accept() returns. -n leaves it unset, so that a benchmark
 * can show the difference.
 */
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

/* Set once by main() before smfi_main() starts any thread, read-only after. */
static bool verbose;

static sfsistat null_connect(SMFICTX *ctx, char *hostname,
			     _SOCK_ADDR *hostaddr)
{
	(void)ctx;
	(void)hostname;
	(void)hostaddr;
	return SMFIS_CONTINUE;
}

static sfsistat null_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat null_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return SMFIS_CONTINUE;
}

static sfsistat null_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat null_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return SMFIS_CONTINUE;
}

static sfsistat null_eom(SMFICTX *ctx)
{
	if (verbose) {
		const char *queue_id = smfi_getsymval(ctx, "i");

		fprintf(stderr, "null-milter: accepted %s\n",
			queue_id ? queue_id : "(no queue id)");
	}
	return SMFIS_ACCEPT;
}

/*
 * f0/f1: the actions and protocol steps the MTA offers; we need no action
 * at all, skip the steps we have no callback for and ask for no reply
 * after headers -- each only if the MTA offers it.
 */
static sfsistat null_negotiate(SMFICTX *ctx,
			       unsigned long f0, unsigned long f1,
			       unsigned long f2, unsigned long f3,
			       unsigned long *pf0, unsigned long *pf1,
			       unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long wanted = SMFIP_NOHELO | SMFIP_NORCPT |
				     SMFIP_NOUNKNOWN | SMFIP_NODATA |
				     SMFIP_NR_HDR;

	(void)ctx;
	(void)f0;
	(void)f2;
	(void)f3;
	*pf0 = 0;
	*pf1 = f1 & wanted;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static struct smfiDesc null_filter = {
	.xxfi_name = "null-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_connect = null_connect,
	.xxfi_envfrom = null_envfrom,
	.xxfi_header = null_header,
	.xxfi_eoh = null_eoh,
	.xxfi_body = null_body,
	.xxfi_eom = null_eom,
	.xxfi_negotiate = null_negotiate,
};

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
static int set_nodelay_on_listener(void)
{
	DIR *fds = opendir("/proc/self/fd");
	struct dirent *entry;
	int set = 0;

	if (fds == NULL) {
		perror("null-milter: /proc/self/fd");
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
			fprintf(stderr, "null-milter: TCP_NODELAY on fd %ld: %s\n",
				fd, strerror(errno));
			closedir(fds);
			return -1;
		}
		set++;
	}
	closedir(fds);
	return set;
}

static void usage(void)
{
	fprintf(stderr, "usage: null-milter -p unix:/path|inet:PORT@HOST "
		"[-n] [-v] [-b backlog]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char *socket_spec = NULL;
	bool nodelay = true;
	int backlog = 0;
	int opt;

	while ((opt = getopt(argc, argv, "p:nvb:h")) != -1) {
		switch (opt) {
		case 'p':
			socket_spec = optarg;
			break;
		case 'n':
			nodelay = false;
			break;
		case 'v':
			verbose = true;
			break;
		case 'b':
			backlog = atoi(optarg);
			if (backlog <= 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (socket_spec == NULL || optind != argc)
		usage();

	if (smfi_setconn(socket_spec) != MI_SUCCESS ||
	    (backlog > 0 && smfi_setbacklog(backlog) != MI_SUCCESS) ||
	    smfi_register(null_filter) != MI_SUCCESS) {
		fprintf(stderr, "null-milter: cannot set up %s\n", socket_spec);
		return 1;
	}
	/* true: remove a stale UNIX socket left by an earlier run */
	if (smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "null-milter: cannot open %s\n", socket_spec);
		return 1;
	}
	if (nodelay) {
		int set = set_nodelay_on_listener();

		if (set < 0)
			return 1;
		if (set > 0)
			fprintf(stderr, "null-milter: TCP_NODELAY set on the "
				"listening socket\n");
	} else {
		fprintf(stderr, "null-milter: TCP_NODELAY left unset (-n)\n");
	}
	fprintf(stderr, "null-milter: listening on %s\n", socket_spec);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
