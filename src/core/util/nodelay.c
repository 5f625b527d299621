/* nodelay.c: find our listening TCP sockets and set TCP_NODELAY. */
#include "util/nodelay.h"

#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "util/sockspec.h"

/* TCP_NODELAY on a listening TCP socket; false (not counted, go on) for
 * any other. */
static bool set_nodelay(int fd, void *arg)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	int one = 1;
	int *count = arg;

	if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0 ||
	    (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
		return true;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
		(*count)++;
	return true;
}

int nodelay_listening_sockets(void)
{
	int count = 0;

	sock_listening_foreach(set_nodelay, &count);
	return count;
}
