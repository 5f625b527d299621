/* watchset: epoll registrations keyed by descriptor (see watchset.h). */
#include "autoconfig.h"

#include <errno.h>
#include <glib.h>
#include <sys/epoll.h>

#include "watchset.h"

struct watchset {
	int epoll_fd;
	GHashTable *by_fd;	/* fd -> struct watch * */
};

struct watchset *watchset_new(int epoll_fd)
{
	struct watchset *set = g_new0(struct watchset, 1);

	set->epoll_fd = epoll_fd;
	set->by_fd = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	return set;
}

void watchset_free(struct watchset *set)
{
	if (set == NULL)
		return;
	g_hash_table_destroy(set->by_fd);
	g_free(set);
}

int watchset_update(struct watchset *set, int fd, bool is_ares, struct istate *state,
		    bool readable, bool writable)
{
	struct watch *w = g_hash_table_lookup(set->by_fd, GINT_TO_POINTER(fd));
	struct epoll_event ev = { 0 };

	if (!readable && !writable) {
		if (w != NULL) {
			/* ENOENT/EBADF: the library closed it first; epoll
			 * already forgot it */
			(void)epoll_ctl(set->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
			g_hash_table_remove(set->by_fd, GINT_TO_POINTER(fd));
		}
		return 0;
	}
	ev.events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
	ev.data.fd = fd;
	if (w == NULL) {
		if (epoll_ctl(set->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -1;
		w = g_new0(struct watch, 1);
		w->fd = fd;
		g_hash_table_insert(set->by_fd, GINT_TO_POINTER(fd), w);
	} else if (epoll_ctl(set->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0) {
		/* a descriptor closed without a removal and reused since:
		 * epoll dropped the old one, register the new one */
		if (errno != ENOENT || epoll_ctl(set->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -1;
	}
	w->is_ares = is_ares;
	w->state = state;
	return 0;
}

const struct watch *watchset_lookup(const struct watchset *set, int fd)
{
	return g_hash_table_lookup(set->by_fd, GINT_TO_POINTER(fd));
}

unsigned watchset_count(const struct watchset *set)
{
	return g_hash_table_size(set->by_fd);
}
