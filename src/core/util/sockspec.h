/* sockspec.h: the milter socket specification (the Socket key).
 *
 * libmilter's smfi_setconn() accepts loose text: "inet:127.0.0.1:18896"
 * (Postfix's spelling of a milter address) is read as port 127 on every
 * interface (issue 18, 1). The daemon therefore parses the key strictly
 * itself and hands libmilter only a canonical form:
 *   inet:PORT@HOST      IPv4 address or host name (libmilter's form)
 *   inet:PORT           every IPv4 interface, written explicitly
 *   inet6:PORT@[HOST]   IPv6 address (brackets optional)
 *   local:/path  unix:/path   an absolute path */
#ifndef TM_SOCKSPEC_H
#define TM_SOCKSPEC_H

#include <stdbool.h>
#include <stddef.h>

enum sock_spec_family {
	SOCK_SPEC_UNIX,
	SOCK_SPEC_INET,
	SOCK_SPEC_INET6,
};

struct sock_spec {
	enum sock_spec_family family;
	unsigned port;			/* 1..65535; 0 for unix */
	char host[256];			/* "" = every interface; no brackets */
	char path[108];			/* unix only: sizeof(sun_path) */
	char canonical[400];		/* what smfi_setconn() gets */
};

/* Parses `text`. Returns false with a message in err (no file:line; the
 * configuration loader adds it) that names the right spelling when the
 * text looks like Postfix's "inet:HOST:PORT". */
bool sock_spec_parse(const char *text, struct sock_spec *out, char *err, size_t errlen);

/* Calls fn(fd, arg) for each listening stream socket of this process
 * (libmilter does not expose its socket) until fn returns false.
 * Returns how many calls returned true. */
int sock_listening_foreach(bool (*fn)(int fd, void *arg), void *arg);

/* Describes the first listening stream socket of this process as it is
 * really bound (getsockname), in the Socket key's own syntax, into buf.
 * Returns false (buf "") when there is none. */
bool sock_spec_describe_bound(char *buf, size_t buflen);

#endif
