/*
 * body-milter: a libmilter filter that does what every content filter
 * must do and nothing more, the floor threatmilter is measured against in
 * issue 19: it keeps the message's headers and body in memory and adds one
 * header at the end of the message, then accepts it.
 *
 * Build (from the top directory):
 *	make -f bench/Makefile.null
 *
 * Usage: body-milter -p SOCKET [-d MS] [-i N] [-n] [-b BACKLOG]
 *	-p SOCKET	unix:/path/to/socket or inet:PORT@HOST
 *	-d MS		also sleep MS milliseconds at end of message, before
 *			the header is added (the floor for threatmilter with
 *			one provider answering in MS: bench/postfix.py's
 *			"sleep filter")
 *	-i N		insert N headers at the top (smfi_insheader at index
 *			0, as threatmilter does) instead of adding one at the
 *			end: what the header modifications cost the MTA
 *	-n		do not set TCP_NODELAY on the listening TCP socket
 *	-b BACKLOG	listen(2) backlog (libmilter's default otherwise)
 *
 * It negotiates the same protocol steps as bench/null-milter.c (no HELO,
 * RCPT, DATA or unknown commands; no reply after each header) plus the
 * add-header action, and answers every body chunk, as threatmilter does.
 * The header it adds, "X-Bench-Body: N bytes", is one line, like
 * threatmilter's result header of a clean message.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-milter.h"

/* Set once by main() before smfi_main() starts any thread, read-only after. */
static long sleep_ms;
static int insert_headers;	/* -i: 0 = add one header at the end */

/* One per connection: the current message, headers then body. */
struct message {
	char *data;
	size_t len, cap;
};

static struct message *message_of(SMFICTX *ctx)
{
	struct message *m = smfi_getpriv(ctx);

	if (m == NULL) {
		m = calloc(1, sizeof(*m));
		if (m != NULL)
			smfi_setpriv(ctx, m);
	}
	return m;
}

/* Appends len bytes; false when out of memory. */
static bool append(struct message *m, const void *data, size_t len)
{
	if (m->len + len > m->cap) {
		size_t cap = m->cap ? m->cap : 32768;
		char *bigger;

		while (cap < m->len + len)
			cap *= 2;
		bigger = realloc(m->data, cap);
		if (bigger == NULL)
			return false;
		m->data = bigger;
		m->cap = cap;
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
	return true;
}

static sfsistat body_envfrom(SMFICTX *ctx, char **argv)
{
	struct message *m = message_of(ctx);

	(void)argv;
	if (m == NULL)
		return SMFIS_TEMPFAIL;
	m->len = 0;
	return SMFIS_CONTINUE;
}

static sfsistat body_header(SMFICTX *ctx, char *name, char *value)
{
	struct message *m = smfi_getpriv(ctx);

	if (m == NULL || !append(m, name, strlen(name)) || !append(m, ": ", 2) ||
	    !append(m, value, strlen(value)) || !append(m, "\r\n", 2))
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

static sfsistat body_eoh(SMFICTX *ctx)
{
	struct message *m = smfi_getpriv(ctx);

	return m != NULL && append(m, "\r\n", 2) ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

static sfsistat body_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct message *m = smfi_getpriv(ctx);

	return m != NULL && append(m, chunk, len) ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

static sfsistat body_eom(SMFICTX *ctx)
{
	struct message *m = smfi_getpriv(ctx);
	char value[64];

	if (m == NULL)
		return SMFIS_TEMPFAIL;
	if (sleep_ms > 0) {
		struct timespec ts = { sleep_ms / 1000, (sleep_ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	snprintf(value, sizeof(value), "%zu bytes", m->len);
	if (insert_headers == 0 && smfi_addheader(ctx, "X-Bench-Body", value) != MI_SUCCESS)
		return SMFIS_TEMPFAIL;
	for (int i = 0; i < insert_headers; i++)
		if (smfi_insheader(ctx, 0, "X-Bench-Body", value) != MI_SUCCESS)
			return SMFIS_TEMPFAIL;
	m->len = 0;
	return SMFIS_ACCEPT;
}

static sfsistat body_close(SMFICTX *ctx)
{
	struct message *m = smfi_getpriv(ctx);

	if (m != NULL) {
		free(m->data);
		free(m);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

/* The null filter's steps (bench/null-milter.c), plus adding headers. */
static sfsistat body_negotiate(SMFICTX *ctx,
			       unsigned long f0, unsigned long f1,
			       unsigned long f2, unsigned long f3,
			       unsigned long *pf0, unsigned long *pf1,
			       unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long wanted = SMFIP_NOHELO | SMFIP_NORCPT |
				     SMFIP_NOUNKNOWN | SMFIP_NODATA |
				     SMFIP_NR_HDR;

	(void)ctx;
	(void)f2;
	(void)f3;
	if (!(f0 & SMFIF_ADDHDRS))
		return SMFIS_REJECT;
	*pf0 = SMFIF_ADDHDRS;
	*pf1 = f1 & wanted;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static struct smfiDesc body_filter = {
	.xxfi_name = "body-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_envfrom = body_envfrom,
	.xxfi_header = body_header,
	.xxfi_eoh = body_eoh,
	.xxfi_body = body_body,
	.xxfi_eom = body_eom,
	.xxfi_close = body_close,
	.xxfi_negotiate = body_negotiate,
};

static void usage(void)
{
	fprintf(stderr, "usage: body-milter -p unix:/path|inet:PORT@HOST "
		"[-d ms] [-i n] [-n] [-b backlog]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char *socket_spec = NULL;
	bool nodelay = true;
	int backlog = 0;
	int opt;

	while ((opt = getopt(argc, argv, "p:d:i:nb:h")) != -1) {
		switch (opt) {
		case 'p':
			socket_spec = optarg;
			break;
		case 'd':
			sleep_ms = atol(optarg);
			if (sleep_ms < 0)
				usage();
			break;
		case 'i':
			insert_headers = atoi(optarg);
			if (insert_headers < 1 || insert_headers > 100)
				usage();
			break;
		case 'n':
			nodelay = false;
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
	return bench_milter_run(&body_filter, socket_spec, nodelay, backlog);
}
