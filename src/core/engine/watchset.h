/*
 * watchset: the descriptors the engine's epoll loop watches (curl and
 * c-ares sockets), keyed by descriptor number.
 *
 * epoll reports a batch of events at once, and handling one of them (a
 * curl or c-ares call) can make the library stop watching, or close,
 * another socket of the same batch, and even open a new socket that gets
 * the same descriptor number. The events therefore carry the descriptor
 * number and a registration number, never a pointer: the loop looks each
 * one up when it gets to it, and an event for a socket no longer watched,
 * or for the earlier socket of a reused number, is dropped.
 */
#ifndef THREATMILTER_WATCHSET_H
#define THREATMILTER_WATCHSET_H

#include <stdbool.h>
#include <stdint.h>

/* Called by the loop when fd is ready; events are EPOLLIN/OUT/ERR/HUP. */
typedef void (*watch_fn)(void *data, int fd, uint32_t events);

struct watch {
	int fd;
	uint32_t registration;	/* unique per socket watched: tells a reused fd apart */
	watch_fn fn;		/* who handles its events (curl, a c-ares channel) */
	void *data;
};

struct watchset;

/* A set that registers its descriptors with epoll_fd (not owned). */
struct watchset *watchset_new(int epoll_fd);
void watchset_free(struct watchset *set);

/* Watches fd for reading and/or writing; neither: stops watching it.
 * Returns 0, or -1 with errno when epoll refuses the descriptor. */
int watchset_update(struct watchset *set, int fd, watch_fn fn, void *data,
		    bool readable, bool writable);

/* The watch of fd, or NULL when fd is not (or no longer) watched. Valid
 * until the next watchset_update() for fd. */
const struct watch *watchset_lookup(const struct watchset *set, int fd);

/* The watch an epoll event (its data.u64) was registered for, or NULL
 * when that socket is no longer watched. */
const struct watch *watchset_lookup_event(const struct watchset *set, uint64_t event_data);

/* The data.u64 to register the descriptor of fd outside the set with
 * (the engine's wake-up eventfd); never matches a watch. */
uint64_t watchset_outside_event(int fd);

unsigned watchset_count(const struct watchset *set);

#endif
