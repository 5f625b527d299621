/* sockspec.c: strict parsing of the milter socket key (sockspec.h). */
#include "util/sockspec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FORMS "inet:PORT@HOST, inet6:PORT@[HOST], local:/path or unix:/path"

static bool parse_port(const char *text, size_t len, unsigned *port)
{
	unsigned long value = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		value = value * 10 + (unsigned long)(text[i] - '0');
	}
	if (value == 0 || value > 65535)
		return false;
	*port = (unsigned)value;
	return true;
}

/* A host name as libmilter resolves it, or an IPv4 literal. */
static bool valid_inet_host(const char *host)
{
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return true;
	if (*host == '\0' || strlen(host) > 253 || strspn(host, "0123456789.") == strlen(host))
		return false;
	for (const char *p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

/* "inet:127.0.0.1:18896" / "inet:localhost:18896": Postfix's spelling. */
static bool postfix_spelling(const char *rest, char *err, size_t errlen, const char *kind)
{
	const char *colon = strrchr(rest, ':');
	unsigned port;

	if (colon == NULL || strchr(rest, '@') != NULL ||
	    !parse_port(colon + 1, strlen(colon + 1), &port))
		return false;
	snprintf(err, errlen, "Socket '%s:%s' is Postfix's spelling (HOST:PORT); "
		 "threatmilter (libmilter) writes %s:%u@%.*s", kind, rest,
		 kind, port, (int)(colon - rest), rest);
	return true;
}

static bool parse_inet(const char *rest, bool v6, struct sock_spec *out,
		       char *err, size_t errlen)
{
	const char *kind = v6 ? "inet6" : "inet";
	const char *at = strchr(rest, '@');
	size_t port_len = at != NULL ? (size_t)(at - rest) : strlen(rest);

	if (!parse_port(rest, port_len, &out->port)) {
		if (!postfix_spelling(rest, err, errlen, kind))
			snprintf(err, errlen, "Socket '%s:%s': bad port (1-65535); write %s",
				 kind, rest, v6 ? "inet6:PORT@[HOST]" : "inet:PORT@HOST");
		return false;
	}
	out->family = v6 ? SOCK_SPEC_INET6 : SOCK_SPEC_INET;
	if (at == NULL) {
		snprintf(out->canonical, sizeof(out->canonical), "%s:%u", kind, out->port);
		return true;
	}
	const char *host = at + 1;
	size_t host_len = strlen(host);

	if (v6 && host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
		host++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len >= sizeof(out->host)) {
		snprintf(err, errlen, "Socket '%s:%s': host missing or too long", kind, rest);
		return false;
	}
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	if (v6) {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, out->host, &a6) != 1) {
			snprintf(err, errlen, "Socket '%s:%s': not an IPv6 address; write "
				 "inet6:PORT@[ADDRESS]", kind, rest);
			return false;
		}
	} else if (!valid_inet_host(out->host)) {
		snprintf(err, errlen, "Socket '%s:%s': bad host '%s'; write inet:PORT@HOST",
			 kind, rest, out->host);
		return false;
	}
	snprintf(out->canonical, sizeof(out->canonical), "%s:%u@%s", kind, out->port,
		 out->host);
	return true;
}

bool sock_spec_parse(const char *text, struct sock_spec *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (text == NULL || *text == '\0') {
		snprintf(err, errlen, "Socket missing; write " FORMS);
		return false;
	}
	if (strncmp(text, "inet:", 5) == 0)
		return parse_inet(text + 5, false, out, err, errlen);
	if (strncmp(text, "inet6:", 6) == 0)
		return parse_inet(text + 6, true, out, err, errlen);
	const char *path = NULL;

	if (strncmp(text, "local:", 6) == 0)
		path = text + 6;
	else if (strncmp(text, "unix:", 5) == 0)
		path = text + 5;
	if (path == NULL) {
		snprintf(err, errlen, "Socket '%s': unknown form; write " FORMS, text);
		return false;
	}
	if (path[0] != '/') {
		snprintf(err, errlen, "Socket '%s': the path must be absolute (local:/path)", text);
		return false;
	}
	if (strlen(path) >= sizeof(out->path)) {
		snprintf(err, errlen, "Socket '%s': path longer than %zu bytes", text,
			 sizeof(out->path) - 1);
		return false;
	}
	out->family = SOCK_SPEC_UNIX;
	strcpy(out->path, path);
	snprintf(out->canonical, sizeof(out->canonical), "local:%s", path);
	return true;
}

static bool describe(int fd, char *buf, size_t buflen)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	char host[INET6_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		return false;
	if (addr.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)&addr;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, buflen, "inet:%u@%s", ntohs(sin->sin_port), host);
	} else if (addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)&addr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, buflen, "inet6:%u@[%s]", ntohs(sin6->sin6_port), host);
	} else if (addr.ss_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)(const void *)&addr;

		snprintf(buf, buflen, "local:%.*s", (int)(len - offsetof(struct sockaddr_un, sun_path)),
			 sun->sun_path);
	} else {
		return false;
	}
	return true;
}

int sock_listening_foreach(bool (*fn)(int fd, void *arg), void *arg)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	int count = 0;

	if (dir == NULL)
		return 0;
	while ((entry = readdir(dir)) != NULL) {
		char *end;
		long fd = strtol(entry->d_name, &end, 10);
		int type = 0, listening = 0;
		socklen_t len = sizeof(type);

		if (*end != '\0' || fd == dirfd(dir))
			continue;
		if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
			continue;
		len = sizeof(listening);
		if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
		    !listening)
			continue;
		if (!fn((int)fd, arg))
			break;
		count++;
	}
	closedir(dir);
	return count;
}

struct describe_arg {
	char *buf;
	size_t buflen;
	bool found;
};

static bool describe_first(int fd, void *arg)
{
	struct describe_arg *d = arg;

	d->found = describe(fd, d->buf, d->buflen);
	return !d->found;	/* stop at the first one described */
}

bool sock_spec_describe_bound(char *buf, size_t buflen)
{
	struct describe_arg d = { buf, buflen, false };

	buf[0] = '\0';
	sock_listening_foreach(describe_first, &d);
	return d.found;
}
