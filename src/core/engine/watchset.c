/* watchset: epoll registrations keyed by descriptor (see watchset.h). */
#include "autoconfig.h"

#include <errno.h>
#include <glib.h>
#include <sys/epoll.h>

#include "engine/watchset.h"

struct watchset {
	int epoll_fd;
	GHashTable *by_fd;	/* fd -> struct watch * */
	uint32_t last_registration;	/* 0 is for descriptors outside the set */
};

static uint64_t event_data(int fd, uint32_t registration)
{
	return (uint64_t)registration << 32 | (uint32_t)fd;
}

uint64_t watchset_outside_event(int fd)
{
	return event_data(fd, 0);
}

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

static uint32_t next_registration(struct watchset *set)
{
	if (++set->last_registration == 0)	/* after 2^32 sockets */
		++set->last_registration;
	return set->last_registration;
}

int watchset_update(struct watchset *set, int fd, watch_fn fn, void *data,
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
	if (w != NULL) {
		ev.data.u64 = event_data(fd, w->registration);
		if (epoll_ctl(set->epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0)
			goto registered;
		if (errno != ENOENT)
			return -1;
		/* closed without a removal and the number reused since: epoll
		 * dropped the old socket; this is a new one */
	}
	uint32_t registration = next_registration(set);

	ev.data.u64 = event_data(fd, registration);
	if (epoll_ctl(set->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	if (w == NULL) {
		w = g_new0(struct watch, 1);
		w->fd = fd;
		g_hash_table_insert(set->by_fd, GINT_TO_POINTER(fd), w);
	}
	w->registration = registration;
registered:
	w->fn = fn;
	w->data = data;
	return 0;
}

const struct watch *watchset_lookup(const struct watchset *set, int fd)
{
	return g_hash_table_lookup(set->by_fd, GINT_TO_POINTER(fd));
}

const struct watch *watchset_lookup_event(const struct watchset *set, uint64_t data)
{
	const struct watch *w = watchset_lookup(set, (int)(uint32_t)data);

	return w != NULL && w->registration == (uint32_t)(data >> 32) ? w : NULL;
}

unsigned watchset_count(const struct watchset *set)
{
	return g_hash_table_size(set->by_fd);
}
