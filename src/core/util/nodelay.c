/* nodelay.c: find our listening TCP sockets and set TCP_NODELAY. */
#include "util/nodelay.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>

int nodelay_listening_sockets(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	int count = 0;

	if (dir == NULL)
		return 0;
	while ((entry = readdir(dir)) != NULL) {
		char *end;
		long fd = strtol(entry->d_name, &end, 10);
		int type = 0, listening = 0, one = 1;
		struct sockaddr_storage addr;
		socklen_t len = sizeof(type);

		if (*end != '\0' || fd == dirfd(dir))
			continue;
		if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
			continue;
		len = sizeof(listening);
		if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
			continue;
		len = sizeof(addr);
		if (getsockname((int)fd, (struct sockaddr *)&addr, &len) != 0 ||
		    (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
			continue;
		if (setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
			count++;
	}
	closedir(dir);
	return count;
}
