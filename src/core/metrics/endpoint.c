/* endpoint.c: the MetricsSocket listener and its thread (endpoint.h). */
#include <autoconfig.h>
#include "metrics/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>

#include "metrics/registry.h"
#include "util/log.h"

#define MAX_HEAD 8192			/* request line + headers */
#define MAX_CLIENTS 32
#define CLIENT_BUDGET_MS 5000		/* accept to last byte written */

struct client {
	int fd;
	int64_t deadline_ms;
	char head[MAX_HEAD];
	size_t len;
	GString *out;			/* the answer once the request is read */
	size_t sent;
};

struct metrics_endpoint {
	int listen_fd;
	int wake[2];			/* a pipe: one byte stops the thread */
	struct metrics *registry;
	char address[300];
	pthread_t thread;
	bool running;
	struct client clients[MAX_CLIENTS];
	size_t nclients;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool metrics_endpoint_parse(const char *text, struct sock_spec *out, char *err, size_t errlen)
{
	char why[512];

	if (!sock_spec_parse(text, out, why, sizeof(why))) {
		snprintf(err, errlen, "MetricsSocket: %s", why);
		return false;
	}
	if (out->family == SOCK_SPEC_UNIX) {
		snprintf(err, errlen, "MetricsSocket '%s': a scraper connects over TCP; write "
			 "inet:PORT@HOST or inet6:PORT@[HOST]", text);
		return false;
	}
	if (out->host[0] == '\0') {	/* loopback unless an address is named */
		g_strlcpy(out->host, out->family == SOCK_SPEC_INET ? "127.0.0.1" : "::1",
			  sizeof(out->host));
		snprintf(out->canonical, sizeof(out->canonical), "%s:%u@%s",
			 out->family == SOCK_SPEC_INET ? "inet" : "inet6", out->port, out->host);
	}
	return true;
}

/* ---------------------------------------------------------- the request */

static bool is_tchar(char c)
{
	return g_ascii_isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* One header line (without its CRLF): "token:" then visible bytes, tabs
 * and spaces. 0 when fine, else the status. */
static int header_status(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && is_tchar(line[i]))
		i++;
	if (i == 0 || i >= len || line[i] != ':')
		return 400;	/* also a folded line (leading space) */
	if ((i == 14 && g_ascii_strncasecmp(line, "Content-Length", 14) == 0) ||
	    (i == 17 && g_ascii_strncasecmp(line, "Transfer-Encoding", 17) == 0)) {
		const char *v = line + i + 1;
		size_t vlen = len - i - 1;

		while (vlen > 0 && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		if (i == 17 || vlen != 1 || *v != '0')
			return 400;	/* a GET carries no body */
	}
	return 0;
}

/* "GET /metrics HTTP/1.1": 200 or the refusal's status. */
static int request_line_status(const char *line, size_t len)
{
	const char *sp1 = memchr(line, ' ', len);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
	size_t mlen, tlen, vlen;

	if (sp1 == NULL || sp2 == NULL || sp1 == line)
		return 400;
	mlen = (size_t)(sp1 - line);
	tlen = (size_t)(sp2 - sp1 - 1);
	vlen = len - (size_t)(sp2 + 1 - line);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar(line[i]))
			return 400;
	if (tlen == 0 || memchr(sp1 + 1, ' ', tlen) != NULL || sp1[1] == ' ')
		return 400;
	if (vlen != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || !g_ascii_isdigit(sp2[8]))
		return vlen >= 5 && strncmp(sp2 + 1, "HTTP/", 5) == 0 ? 505 : 400;
	if (sp2[8] != '0' && sp2[8] != '1')
		return 505;
	if (mlen != 3 || strncmp(line, "GET", 3) != 0)
		return 405;
	if (tlen != 8 || strncmp(sp1 + 1, "/metrics", 8) != 0)
		return 404;
	return 200;
}

int metrics_request_status(const char *head, size_t len)
{
	const char *end = g_strstr_len(head, (gssize)len, "\r\n\r\n");
	const char *line = head;
	int status = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)head[i];

		/* bytes no request line nor header may hold; a bare LF */
		if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f ||
		    (c == '\n' && (i == 0 || head[i - 1] != '\r')) ||
		    (c == '\r' && i + 1 < len && head[i + 1] != '\n'))
			return 400;
	}
	if (end == NULL)
		return len >= MAX_HEAD ? 431 : 0;
	while (line < end + 2) {
		const char *crlf = g_strstr_len(line, end + 2 - line, "\r\n");
		size_t llen = (size_t)(crlf - line);
		int s = line == head ? request_line_status(line, llen) : header_status(line, llen);

		/* a malformed header is a 400 whatever the request line said */
		if (s == 400 || (status == 0 && s != 0))
			status = s;
		line = crlf + 2;
	}
	return status;
}

static GString *answer(int status, struct metrics *m)
{
	static const char *const reasons[][2] = {
		{ "200", "OK" }, { "400", "Bad Request" }, { "404", "Not Found" },
		{ "405", "Method Not Allowed" }, { "408", "Request Timeout" },
		{ "431", "Request Header Fields Too Large" },
		{ "505", "HTTP Version Not Supported" },
	};
	char code[8];
	const char *reason = "Error";
	char *body = status == 200 ? metrics_render(m) : NULL;
	GString *out = g_string_new(NULL);

	snprintf(code, sizeof(code), "%d", status);
	for (size_t i = 0; i < G_N_ELEMENTS(reasons); i++)
		if (strcmp(reasons[i][0], code) == 0)
			reason = reasons[i][1];
	if (body == NULL)
		body = g_strdup_printf("%d %s\n", status, reason);
	g_string_append_printf(out, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\n"
			       "Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
			       status, reason,
			       status == 200 ? METRICS_CONTENT_TYPE : "text/plain; charset=utf-8",
			       strlen(body), status == 405 ? "Allow: GET\r\n" : "", body);
	g_free(body);
	return out;
}

/* ---------------------------------------------------------- the thread */

static void client_close(struct metrics_endpoint *ep, size_t i)
{
	struct client *c = &ep->clients[i];

	close(c->fd);
	if (c->out != NULL)
		g_string_free(c->out, TRUE);
	ep->clients[i] = ep->clients[--ep->nclients];
}

static void accept_clients(struct metrics_endpoint *ep)
{
	while (ep->nclients < MAX_CLIENTS) {
		int fd = accept4(ep->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			/* out of descriptors (EMFILE...): the listener stays
			 * readable; pause rather than spin on it */
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				g_usleep(100 * 1000);
			return;
		}
		ep->clients[ep->nclients++] = (struct client){
			.fd = fd, .deadline_ms = now_ms() + CLIENT_BUDGET_MS,
		};
	}
}

/* Reads what came; returns false when the client is done with. */
static bool client_read(struct metrics_endpoint *ep, struct client *c)
{
	ssize_t n = recv(c->fd, c->head + c->len, sizeof(c->head) - c->len, 0);
	int status;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return false;	/* gone before asking */
	if (n < 0)
		return true;
	c->len += (size_t)n;
	status = metrics_request_status(c->head, c->len);
	if (status != 0)
		c->out = answer(status, ep->registry);
	return true;
}

/* Writes what it can; false when all is written or the client is gone. */
static bool client_write(struct client *c)
{
	ssize_t n = send(c->fd, c->out->str + c->sent, c->out->len - c->sent,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->sent += (size_t)n;
	if (c->sent < c->out->len)
		return true;
	shutdown(c->fd, SHUT_WR);	/* the answer is whole: tell the client */
	/* bytes left unread would make close() reset the connection, which
	 * may discard the answer on its way */
	while (recv(c->fd, c->head, sizeof(c->head), MSG_DONTWAIT) > 0)
		;
	return false;
}

/* One poll() over the wake pipe, the listener and the clients; false
 * when asked to stop. */
static bool serve_turn(struct metrics_endpoint *ep)
{
	struct pollfd fds[2 + MAX_CLIENTS];
	int64_t now = now_ms(), timeout = 1000;
	size_t n = ep->nclients;

	fds[0] = (struct pollfd){ .fd = ep->wake[0], .events = POLLIN };
	/* a full table leaves new clients in the listen queue */
	fds[1] = (struct pollfd){ .fd = n < MAX_CLIENTS ? ep->listen_fd : -1, .events = POLLIN };
	for (size_t i = 0; i < n; i++) {
		struct client *c = &ep->clients[i];

		fds[2 + i] = (struct pollfd){ .fd = c->fd, .events = c->out ? POLLOUT : POLLIN };
		timeout = MIN(timeout, MAX(c->deadline_ms - now, 0));
	}
	if (poll(fds, 2 + n, (int)timeout) < 0 && errno != EINTR)
		g_usleep(10 * 1000);	/* never spin on a persistent error */
	if (fds[0].revents != 0)
		return false;
	now = now_ms();
	/* from the last: client_close() moves the last client into slot i */
	for (size_t i = n; i-- > 0;) {
		struct client *c = &ep->clients[i];
		short ev = fds[2 + i].revents;
		bool keep = true;

		if (ev & (POLLERR | POLLNVAL))
			keep = false;
		else if (ev & (POLLIN | POLLHUP) && c->out == NULL)
			keep = client_read(ep, c);
		else if (ev & POLLOUT)
			keep = client_write(c);
		if (keep && c->out != NULL && c->sent == 0 && ev & POLLIN)
			keep = client_write(c);	/* answer at once, usually in one send */
		if (!keep || now >= c->deadline_ms)
			client_close(ep, i);
	}
	if (fds[1].revents & POLLIN)
		accept_clients(ep);
	return true;
}

static void *endpoint_thread(void *arg)
{
	struct metrics_endpoint *ep = arg;

	while (serve_turn(ep))
		;
	return NULL;
}

static void describe_bound(struct metrics_endpoint *ep, const struct sock_spec *spec)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	char host[INET6_ADDRSTRLEN] = "";
	unsigned port = spec->port;

	if (getsockname(ep->listen_fd, (struct sockaddr *)&addr, &len) == 0) {
		if (addr.ss_family == AF_INET) {
			const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)&addr;

			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
			port = ntohs(a->sin_port);
		} else if (addr.ss_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)&addr;

			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			port = ntohs(a->sin6_port);
		}
	}
	snprintf(ep->address, sizeof(ep->address), spec->family == SOCK_SPEC_INET6
		 ? "inet6:%u@[%s]" : "inet:%u@%s", port, host[0] ? host : spec->host);
}

/* The listening socket of spec: the host resolved (a name may be given
 * as for Socket), SO_REUSEADDR for a quick restart. -1 with err set. */
static int listen_on(const struct sock_spec *spec, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV },
			*res = NULL;
	char port[8];
	int fd = -1, one = 1, rc;

	hints.ai_family = spec->family == SOCK_SPEC_INET6 ? AF_INET6 : AF_INET;
	snprintf(port, sizeof(port), "%u", spec->port);
	rc = getaddrinfo(spec->host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "MetricsSocket %s: %s", spec->canonical, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0) {
		snprintf(err, errlen, "MetricsSocket %s: %s", spec->canonical, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

struct metrics_endpoint *metrics_endpoint_open(const struct sock_spec *spec, struct metrics *m,
					       char *err, size_t errlen)
{
	struct metrics_endpoint *ep;
	int fd = listen_on(spec, err, errlen);

	if (fd < 0)
		return NULL;
	ep = g_new0(struct metrics_endpoint, 1);
	ep->listen_fd = fd;
	ep->registry = m;
	if (pipe2(ep->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "MetricsSocket: pipe: %s", strerror(errno));
		close(fd);
		g_free(ep);
		return NULL;
	}
	describe_bound(ep, spec);
	return ep;
}

const char *metrics_endpoint_address(const struct metrics_endpoint *ep)
{
	return ep->address;
}

bool metrics_endpoint_start(struct metrics_endpoint *ep, char *err, size_t errlen)
{
	int rc = pthread_create(&ep->thread, NULL, endpoint_thread, ep);

	if (rc != 0) {
		snprintf(err, errlen, "MetricsSocket: cannot start its thread: %s", strerror(rc));
		return false;
	}
	ep->running = true;
	return true;
}

void metrics_endpoint_free(struct metrics_endpoint *ep)
{
	if (ep == NULL)
		return;
	if (ep->running) {
		while (write(ep->wake[1], "x", 1) < 0 && errno == EINTR)
			;
		pthread_join(ep->thread, NULL);
	}
	while (ep->nclients > 0)
		client_close(ep, ep->nclients - 1);
	close(ep->listen_fd);
	close(ep->wake[0]);
	close(ep->wake[1]);
	g_free(ep);
}
