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
 * TCP_NODELAY is set on a listening TCP socket (bench/bench-milter.h says
 * why); -n leaves it unset, so that a benchmark can show the difference.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench-milter.h"

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

	return bench_milter_run(&null_filter, socket_spec, nodelay, backlog);
}
