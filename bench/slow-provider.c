/*
 * slow-provider: the benchmark's "provider that takes D ms", in C.
 *
 * The cold rows of bench/postfix.py measure what the filter adds to a
 * provider's latency. The Python mock servers (tests/mock) behave like
 * the real APIs but spend a millisecond of CPU per request: at a few
 * thousand requests a second they take a core of a 2-core machine away
 * from Postfix and the filter, which a real provider (on its own
 * machines) does not. This server answers every request with a
 * VirusTotal v3 "clean" object (../shared/providers/virustotal.md §3:
 * data.attributes.last_analysis_stats + last_analysis_date) after D ms,
 * over plain HTTP/1.1 with keep-alive, in one epoll thread.
 *
 *	slow-provider [-d MS] [-p PORT]
 *
 * Listens on 127.0.0.1:PORT (0: any free port), prints the port on
 * stdout, serves until killed. Requests with a body are read by their
 * Content-Length; chunked bodies are not supported (the filter sends
 * none to VirusTotal's lookup endpoints).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 65536
#define IN_SIZE 65536

static const char body[] =
	"{\"data\": {\"id\": \"bench\", \"type\": \"url\", \"attributes\": {"
	"\"last_analysis_date\": 1764374400, \"last_analysis_stats\": {"
	"\"harmless\": 70, \"malicious\": 0, \"suspicious\": 0, "
	"\"undetected\": 10, \"timeout\": 0}}}}";

struct conn {
	unsigned gen;		/* which connection on this fd a due answer is for */
	bool open;
	size_t in_len;
	char in[IN_SIZE];
	char *out;		/* what the socket did not take yet */
	size_t out_len;
};

struct due {
	long long at_ms;
	int fd;
	unsigned gen;
};

struct server {
	int ep;
	long delay_ms;
	struct conn *conns[MAX_FD];
	/* answers in order of due time: every request waits the same
	 * delay, so arrival order is due order (a ring buffer) */
	struct due *queue;
	size_t q_cap, q_head, q_len;
	char response[512];
	size_t response_len;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void conn_close(struct server *s, int fd)
{
	struct conn *c = s->conns[fd];

	epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	c->open = false;
	c->gen++;
	c->in_len = 0;
	free(c->out);
	c->out = NULL;
	c->out_len = 0;
}

static void enqueue(struct server *s, int fd)
{
	if (s->q_len == s->q_cap) {
		size_t cap = s->q_cap ? 2 * s->q_cap : 1024;
		struct due *q = calloc(cap, sizeof(*q));

		if (q == NULL)
			die("calloc");
		for (size_t i = 0; i < s->q_len; i++)
			q[i] = s->queue[(s->q_head + i) % s->q_cap];
		free(s->queue);
		s->queue = q;
		s->q_cap = cap;
		s->q_head = 0;
	}
	s->queue[(s->q_head + s->q_len) % s->q_cap] =
		(struct due){ now_ms() + s->delay_ms, fd, s->conns[fd]->gen };
	s->q_len++;
}

/* Whole requests in the input buffer, each queued for an answer. */
static void take_requests(struct server *s, int fd)
{
	struct conn *c = s->conns[fd];

	for (;;) {
		char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);

		if (end == NULL)
			return;
		size_t head = (size_t)(end - c->in) + 4, length = 0;
		for (char *line = memchr(c->in, '\n', head); line != NULL && line < end;
		     line = memchr(line + 1, '\n', (size_t)(end - line)))
			if (strncasecmp(line + 1, "Content-Length:", 15) == 0)
				length = strtoul(line + 16, NULL, 10);
		if (head + length > c->in_len)
			return;
		memmove(c->in, c->in + head + length, c->in_len - head - length);
		c->in_len -= head + length;
		enqueue(s, fd);
	}
}

static void conn_read(struct server *s, int fd)
{
	struct conn *c = s->conns[fd];

	for (;;) {
		if (c->in_len == IN_SIZE) {	/* a request larger than we take */
			conn_close(s, fd);
			return;
		}
		ssize_t n = read(fd, c->in + c->in_len, IN_SIZE - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		conn_close(s, fd);
		return;
	}
	take_requests(s, fd);
}

static void conn_flush(struct server *s, int fd)
{
	struct conn *c = s->conns[fd];

	while (c->out_len > 0) {
		ssize_t n = send(fd, c->out, c->out_len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			conn_close(s, fd);
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	struct epoll_event ev = { .events = EPOLLIN | (c->out_len ? EPOLLOUT : 0), .data.fd = fd };
	epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev);
}

static void answer(struct server *s, int fd)
{
	struct conn *c = s->conns[fd];
	char *out = realloc(c->out, c->out_len + s->response_len);

	if (out == NULL)
		die("realloc");
	memcpy(out + c->out_len, s->response, s->response_len);
	c->out = out;
	c->out_len += s->response_len;
	conn_flush(s, fd);
}

static void accept_all(struct server *s, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (fd >= MAX_FD) {
			close(fd);
			continue;
		}
		if (s->conns[fd] == NULL && (s->conns[fd] = calloc(1, sizeof(struct conn))) == NULL)
			die("calloc");
		s->conns[fd]->open = true;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl");
	}
}

static int listen_on(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		die("listen");
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	return fd;
}

int main(int argc, char **argv)
{
	static struct server s;
	int opt, port = 0;

	s.delay_ms = 100;
	while ((opt = getopt(argc, argv, "d:p:")) != -1) {
		if (opt == 'd')
			s.delay_ms = atol(optarg);
		else if (opt == 'p')
			port = atoi(optarg);
		else {
			fprintf(stderr, "usage: slow-provider [-d MS] [-p PORT]\n");
			return 2;
		}
	}
	s.response_len = (size_t)snprintf(s.response, sizeof(s.response),
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	int lfd = listen_on(port);
	if ((s.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	if (epoll_ctl(s.ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll_ctl");
	for (;;) {
		int timeout = -1;
		if (s.q_len > 0) {
			long long wait = s.queue[s.q_head].at_ms - now_ms();
			timeout = wait > 0 ? (int)wait : 0;
		}
		struct epoll_event evs[256];
		int n = epoll_wait(s.ep, evs, 256, timeout);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd)
				accept_all(&s, lfd);
			else {
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_read(&s, fd);
				if ((evs[i].events & EPOLLOUT) && s.conns[fd]->open)
					conn_flush(&s, fd);
			}
		}
		for (long long t = now_ms(); s.q_len > 0 && s.queue[s.q_head].at_ms <= t;) {
			struct due d = s.queue[s.q_head];
			s.q_head = (s.q_head + 1) % s.q_cap;
			s.q_len--;
			if (s.conns[d.fd]->open && s.conns[d.fd]->gen == d.gen)
				answer(&s, d.fd);
		}
	}
}
