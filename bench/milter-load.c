/*
 * milter-load: a load generator that speaks the milter protocol (version 6)
 * as an MTA does, to measure a filter without an MTA in the way.
 *
 *	milter-load -s SOCKET [-c CONNECTIONS] [-n MESSAGES] [-m PER_CONNECTION] [-v]
 *		FILE.eml...
 *
 * SOCKET is unix:/path or inet:PORT@HOST. CONNECTIONS threads each open a
 * connection, negotiate, and send messages (the files in turn, headers one
 * by one, the body in 64 KiB chunks) until MESSAGES are done in total, a
 * new connection every PER_CONNECTION messages. Like Postfix, it skips what
 * the filter asked not to get (SMFIP_NO*) and does not wait where the
 * filter said it will not answer (SMFIP_NR_*). Prints one JSON object:
 * messages, seconds, msgs_per_s, p50_ms, p99_ms, max_ms (end-of-message latency:
 * from the first command of a message to the filter's final answer),
 * max_setup_ms (the slowest connect + option negotiation + CONNECT: the
 * time a new MTA connection waited for the filter to take it), the final
 * replies by kind, errors, and what the filter sent per message: replies
 * (every answer, acknowledgements included), their bytes, and the message
 * modifications by kind (add/insert/change header, quarantine, other).
 * -v prints the first message's modifications on stderr.
 *
 * The body goes out as Postfix sends it, with CRLF line ends (a file with
 * bare LF line ends is converted); headers are unfolded-as-stored, one per
 * command, as Postfix sends them.
 *
 * Build: make -f bench/Makefile.null (it builds this too). Needs only libc
 * and pthreads.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define P_NOCONNECT 0x1
#define P_NOHELO 0x2
#define P_NOMAIL 0x4
#define P_NORCPT 0x8
#define P_NOBODY 0x10
#define P_NOHDRS 0x20
#define P_NOEOH 0x40
#define P_NR_HDR 0x80
#define P_NODATA 0x200
#define P_NR_CONN 0x1000
#define P_NR_HELO 0x2000
#define P_NR_MAIL 0x4000
#define P_NR_RCPT 0x8000
#define P_NR_DATA 0x10000
#define P_NR_EOH 0x40000
#define P_NR_BODY 0x80000

struct message {
	char **names, **values;
	size_t nheaders;
	char *body;
	size_t body_len;
};

struct shared {
	const char *socket_spec;
	struct message *messages;
	size_t nmessages;
	long total, per_connection;
	pthread_mutex_t lock;
	long next;		/* messages handed out */
	double *latencies;	/* ms, one per message */
	long replies[6];	/* accept, continue, reject, tempfail, discard, other */
	double max_setup_ms;	/* slowest connect + negotiation + CONNECT */
	long errors;
	bool verbose;		/* -v: print message 0's modifications */
	/* what the filter sent, summed over all messages */
	long filter_replies, filter_bytes;
	long mods[5];		/* add header, insert header, change header, quarantine, other */
};

/* What the filter sent for one message. */
struct traffic {
	long replies, bytes;
	long mods[5];
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int open_socket(const char *spec)
{
	int fd = -1;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		const char *path = strchr(spec, ':') + 1;

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			close(fd);
			fd = -1;
		}
	} else if (strncmp(spec, "inet:", 5) == 0) {
		char port[16], host[256] = "127.0.0.1";
		const char *at = strchr(spec + 5, '@');
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
		int one = 1;

		snprintf(port, sizeof(port), "%.*s", (int)(at ? at - spec - 5 : 15), spec + 5);
		if (at)
			snprintf(host, sizeof(host), "%s", at + 1);
		if (getaddrinfo(host, port, &hints, &res) != 0)
			return -1;
		fd = socket(res->ai_family, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
		/* We measure the filter: no Nagle stalls on our side. */
		if (fd >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One command: length, command byte, payload. */
static int send_cmd(int fd, char cmd, const void *payload, size_t len)
{
	unsigned char head[5];
	uint32_t n = htonl((uint32_t)len + 1);

	memcpy(head, &n, 4);
	head[4] = (unsigned char)cmd;
	if (write_all(fd, head, 5) != 0)
		return -1;
	return len ? write_all(fd, payload, len) : 0;
}

/* Reads one reply: its command byte, up to max bytes of its payload
 * (the rest discarded); counts it in t when t is not NULL. */
static int recv_reply(int fd, char *cmd, char *payload, size_t max, size_t *got,
		      struct traffic *t)
{
	uint32_t n;
	char c;

	if (read_all(fd, &n, 4) != 0)
		return -1;
	n = ntohl(n);
	if (n == 0 || n > 16 * 1024 * 1024)
		return -1;
	if (read_all(fd, &c, 1) != 0)
		return -1;
	*cmd = c;
	if (t != NULL) {
		t->replies++;
		t->bytes += 4 + (long)n;
	}
	size_t rest = n - 1;
	size_t keep = rest < max ? rest : max;
	if (keep && read_all(fd, payload, keep) != 0)
		return -1;
	for (size_t i = keep; i < rest; i++) {
		char drop;
		if (read_all(fd, &drop, 1) != 0)
			return -1;
	}
	if (got)
		*got = keep;
	return 0;
}

static int expect_reply(int fd, unsigned long protocol, unsigned long nr_flag,
			struct traffic *t)
{
	char cmd, buf[512];

	if (protocol & nr_flag)
		return 0;
	return recv_reply(fd, &cmd, buf, sizeof(buf), NULL, t);
}

static int negotiate(int fd, unsigned long *protocol)
{
	uint32_t v[3] = { htonl(6), htonl(0x1ff), htonl(0x1fffff) };
	char cmd, buf[64];
	size_t got;

	if (send_cmd(fd, 'O', v, sizeof(v)) != 0 || recv_reply(fd, &cmd, buf, sizeof(buf), &got, NULL) != 0 ||
	    cmd != 'O' || got < 12)
		return -1;
	memcpy(v, buf, 12);
	*protocol = ntohl(v[2]);
	return 0;
}

/* Prints one modification: insert and change header start with a 32-bit
 * index; header name and value are NUL-separated. */
static void print_mod(char cmd, const char *payload, size_t len)
{
	size_t i = 0;

	fprintf(stderr, "milter-load: modification '%c':", cmd);
	if ((cmd == 'i' || cmd == 'm') && len >= 4) {
		uint32_t index;

		memcpy(&index, payload, 4);
		fprintf(stderr, " [%u] ", ntohl(index));
		i = 4;
	}
	for (; i < len; i++) {
		unsigned char ch = (unsigned char)payload[i];

		if (ch == '\0')
			fputs(" | ", stderr);
		else if (ch < 0x20 || ch > 0x7e)
			fprintf(stderr, "\\x%02x", ch);
		else
			fputc(ch, stderr);
	}
	fputc('\n', stderr);
}

/* Sends one message; returns the final reply's command byte or 0. What
 * the filter sent is added to t; print: its modifications on stderr. */
static char one_message(int fd, unsigned long protocol, const struct message *m, long id,
			struct traffic *t, bool print)
{
	char buf[1024];
	int len;

	len = snprintf(buf, sizeof(buf), "Mi%c%08lX", 0, id);
	if (send_cmd(fd, 'D', buf, (size_t)len + 1) != 0)
		return 0;
	if (!(protocol & P_NOMAIL)) {
		static const char from[] = "<alice@example.net>";
		if (send_cmd(fd, 'M', from, sizeof(from)) != 0 ||
		    expect_reply(fd, protocol, P_NR_MAIL, t) != 0)
			return 0;
	}
	if (!(protocol & P_NORCPT)) {
		static const char to[] = "<bob@example.com>";
		if (send_cmd(fd, 'R', to, sizeof(to)) != 0 || expect_reply(fd, protocol, P_NR_RCPT, t) != 0)
			return 0;
	}
	if (!(protocol & P_NODATA)) {
		if (send_cmd(fd, 'T', NULL, 0) != 0 || expect_reply(fd, protocol, P_NR_DATA, t) != 0)
			return 0;
	}
	if (!(protocol & P_NOHDRS)) {
		for (size_t i = 0; i < m->nheaders; i++) {
			size_t nl = strlen(m->names[i]) + 1, vl = strlen(m->values[i]) + 1;
			char *p = malloc(nl + vl);

			memcpy(p, m->names[i], nl);
			memcpy(p + nl, m->values[i], vl);
			int rc = send_cmd(fd, 'L', p, nl + vl);
			free(p);
			if (rc != 0 || expect_reply(fd, protocol, P_NR_HDR, t) != 0)
				return 0;
		}
	}
	if (!(protocol & P_NOEOH)) {
		if (send_cmd(fd, 'N', NULL, 0) != 0 || expect_reply(fd, protocol, P_NR_EOH, t) != 0)
			return 0;
	}
	if (!(protocol & P_NOBODY)) {
		for (size_t off = 0; off < m->body_len; off += 65535) {
			size_t chunk = m->body_len - off < 65535 ? m->body_len - off : 65535;
			char cmd;

			if (send_cmd(fd, 'B', m->body + off, chunk) != 0)
				return 0;
			if (!(protocol & P_NR_BODY)) {
				if (recv_reply(fd, &cmd, buf, sizeof(buf), NULL, t) != 0)
					return 0;
				if (cmd == 's')
					break;	/* the filter skips the rest */
			}
		}
	}
	if (send_cmd(fd, 'E', NULL, 0) != 0)
		return 0;
	for (;;) {
		char cmd;
		size_t got;

		if (recv_reply(fd, &cmd, buf, sizeof(buf), &got, t) != 0)
			return 0;
		if (strchr("acrtdy", cmd) != NULL)
			return cmd;
		/* modifications (h, i, m, q...) and progress: keep reading */
		if (cmd == 'p')
			continue;
		t->mods[cmd == 'h' ? 0 : cmd == 'i' ? 1 : cmd == 'm' ? 2 : cmd == 'q' ? 3 : 4]++;
		if (print)
			print_mod(cmd, buf, got);
	}
}

static long take_next(struct shared *sh)
{
	long id;

	pthread_mutex_lock(&sh->lock);
	id = sh->next < sh->total ? sh->next++ : -1;
	pthread_mutex_unlock(&sh->lock);
	return id;
}

static void *worker(void *arg)
{
	struct shared *sh = arg;
	long id = take_next(sh);

	while (id >= 0) {
		unsigned long protocol = 0;
		double setup_start = now_ms();
		int fd = open_socket(sh->socket_spec);

		if (fd < 0 || negotiate(fd, &protocol) != 0) {
			pthread_mutex_lock(&sh->lock);
			sh->errors++;
			pthread_mutex_unlock(&sh->lock);
			if (fd >= 0)
				close(fd);
			usleep(10000);
			id = take_next(sh);
			continue;
		}
		if (!(protocol & P_NOCONNECT)) {
			static const char conn[] = "client.example\0" "4\x00\x19" "192.0.2.1";
			send_cmd(fd, 'C', conn, sizeof(conn));
			expect_reply(fd, protocol, P_NR_CONN, NULL);
		}
		double setup_ms = now_ms() - setup_start;
		pthread_mutex_lock(&sh->lock);
		if (setup_ms > sh->max_setup_ms)
			sh->max_setup_ms = setup_ms;
		pthread_mutex_unlock(&sh->lock);
		for (long done = 0; id >= 0 && done < sh->per_connection; done++) {
			struct traffic t = { 0 };
			double start = now_ms();
			char final = one_message(fd, protocol, &sh->messages[id % (long)sh->nmessages], id,
						 &t, sh->verbose && id == 0);
			double ms = now_ms() - start;
			int kind = final == 'a' ? 0 : final == 'c' ? 1 : final == 'r' ? 2 :
				   final == 't' ? 3 : final == 'd' ? 4 : 5;

			pthread_mutex_lock(&sh->lock);
			sh->latencies[id] = ms;
			sh->filter_replies += t.replies;
			sh->filter_bytes += t.bytes;
			for (int i = 0; i < 5; i++)
				sh->mods[i] += t.mods[i];
			if (final == 0)
				sh->errors++;
			else
				sh->replies[kind]++;
			pthread_mutex_unlock(&sh->lock);
			if (final == 0)
				break;
			id = take_next(sh);
		}
		send_cmd(fd, 'Q', NULL, 0);
		close(fd);
	}
	return NULL;
}

/* A copy of text with every bare LF made CRLF, as Postfix sends a body
 * to a milter; its length in *len. */
static char *crlf(const char *text, size_t *len)
{
	size_t n = strlen(text), extra = 0;
	char *out, *q;

	for (size_t i = 0; i < n; i++)
		if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
			extra++;
	out = malloc(n + extra + 1);
	if (out == NULL)
		return NULL;
	q = out;
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
			*q++ = '\r';
		*q++ = text[i];
	}
	*q = '\0';
	*len = (size_t)(q - out);
	return out;
}

static int load_message(const char *path, struct message *m)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t len = 0, cap = 0, n;
	char buf[65536];

	if (f == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			data = realloc(data, cap);
		}
		memcpy(data + len, buf, n);
		len += n;
	}
	fclose(f);
	if (data == NULL)
		return -1;
	data[len] = '\0';
	memset(m, 0, sizeof(*m));
	char *p = data;
	/* headers, unfolded into name/value pairs; the body as CRLF text */
	while (*p && *p != '\n' && !(p[0] == '\r' && p[1] == '\n')) {
		char *eol = strchr(p, '\n');
		char *colon = strchr(p, ':');
		if (eol == NULL)
			eol = p + strlen(p);
		if (colon != NULL && colon < eol) {
			m->names = realloc(m->names, (m->nheaders + 1) * sizeof(char *));
			m->values = realloc(m->values, (m->nheaders + 1) * sizeof(char *));
			m->names[m->nheaders] = strndup(p, (size_t)(colon - p));
			char *v = colon + 1;
			while (*v == ' ')
				v++;
			char *end = eol;
			/* continuation lines belong to this header */
			while (end[0] == '\n' && (end[1] == ' ' || end[1] == '\t')) {
				char *next = strchr(end + 1, '\n');
				end = next ? next : end + strlen(end);
			}
			size_t vlen = (size_t)(end - v);
			char *value = strndup(v, vlen);
			for (char *q = value; *q; q++)
				if (*q == '\r')
					*q = ' ';
			m->values[m->nheaders++] = value;
			eol = end;
		}
		p = *eol ? eol + 1 : eol;
	}
	if (*p == '\r')
		p++;
	if (*p == '\n')
		p++;
	m->body = crlf(p, &m->body_len);
	free(data);
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct shared sh = { .total = 1000, .per_connection = 100 };
	int connections = 20, c;

	while ((c = getopt(argc, argv, "s:c:n:m:v")) != -1) {
		switch (c) {
		case 's': sh.socket_spec = optarg; break;
		case 'c': connections = atoi(optarg); break;
		case 'n': sh.total = atol(optarg); break;
		case 'm': sh.per_connection = atol(optarg); break;
		case 'v': sh.verbose = true; break;
		default:
			fprintf(stderr, "usage: milter-load -s SOCKET [-c N] [-n N] [-m N] [-v] FILE.eml...\n");
			return 2;
		}
	}
	if (sh.socket_spec == NULL || optind >= argc || connections < 1 || sh.total < 1 ||
	    sh.per_connection < 1) {
		fprintf(stderr, "usage: milter-load -s SOCKET [-c N] [-n N] [-m N] [-v] FILE.eml...\n");
		return 2;
	}
	/* a filter that closes a connection is an error to count, not a
	 * reason to die silently of SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	sh.nmessages = (size_t)(argc - optind);
	sh.messages = calloc(sh.nmessages, sizeof(struct message));
	for (int i = optind; i < argc; i++) {
		if (load_message(argv[i], &sh.messages[i - optind]) != 0 ||
		    sh.messages[i - optind].body == NULL) {
			fprintf(stderr, "milter-load: cannot read %s\n", argv[i]);
			return 2;
		}
	}
	sh.latencies = calloc((size_t)sh.total, sizeof(double));
	pthread_mutex_init(&sh.lock, NULL);
	pthread_t *threads = calloc((size_t)connections, sizeof(pthread_t));
	double start = now_ms();
	for (int i = 0; i < connections; i++)
		pthread_create(&threads[i], NULL, worker, &sh);
	for (int i = 0; i < connections; i++)
		pthread_join(threads[i], NULL);
	double seconds = (now_ms() - start) / 1000.0;
	qsort(sh.latencies, (size_t)sh.total, sizeof(double), by_value);
	printf("{\"messages\": %ld, \"connections\": %d, \"seconds\": %.3f, \"msgs_per_s\": %.1f, "
	       "\"p50_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f, \"max_setup_ms\": %.2f, "
	       "\"replies\": {\"accept\": %ld, \"continue\": %ld, \"reject\": %ld, "
	       "\"tempfail\": %ld, \"discard\": %ld, \"other\": %ld}, "
	       "\"filter_replies_per_msg\": %.2f, \"filter_bytes_per_msg\": %.1f, "
	       "\"mods_per_msg\": {\"add_header\": %.2f, \"insert_header\": %.2f, "
	       "\"change_header\": %.2f, \"quarantine\": %.2f, \"other\": %.2f}, "
	       "\"errors\": %ld}\n",
	       sh.total, connections, seconds, sh.total / seconds,
	       sh.latencies[sh.total / 2], sh.latencies[(sh.total * 99) / 100],
	       sh.latencies[sh.total - 1], sh.max_setup_ms,
	       sh.replies[0], sh.replies[1], sh.replies[2], sh.replies[3], sh.replies[4],
	       sh.replies[5], (double)sh.filter_replies / sh.total,
	       (double)sh.filter_bytes / sh.total, (double)sh.mods[0] / sh.total,
	       (double)sh.mods[1] / sh.total, (double)sh.mods[2] / sh.total,
	       (double)sh.mods[3] / sh.total, (double)sh.mods[4] / sh.total, sh.errors);
	return sh.errors > 0 ? 1 : 0;
}
