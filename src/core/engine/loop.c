/* loop.c: epoll, eventfd wake-up and timers of the engine thread. */
#include <autoconfig.h>
#include "engine/loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>

#include "util/log.h"

struct timer {
	uint64_t id;
	int64_t at_ms;
	loop_timer_fn fn;
	void *data;
};

struct loop {
	int epoll_fd;
	int wake_fd;
	struct watchset *watches;
	struct loop_clock clock;
	loop_wake_fn on_wake;
	void *wake_data;
	GSequence *timers;	/* struct timer *, by (at_ms, id) */
	GHashTable *by_id;	/* id -> GSequenceIter * */
	uint64_t last_id;
};

static int64_t real_now_ms(void *data)
{
	struct timespec ts;

	(void)data;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_wall_s(void *data)
{
	(void)data;
	return (int64_t)time(NULL);
}

static gint timer_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
	const struct timer *x = a, *y = b;

	(void)unused;
	if (x->at_ms != y->at_ms)
		return x->at_ms < y->at_ms ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct loop *loop_new(const struct loop_clock *clock, loop_wake_fn on_wake, void *data)
{
	struct loop *loop = g_new0(struct loop, 1);
	struct epoll_event ev = { .events = EPOLLIN };

	loop->clock = clock ? *clock
			    : (struct loop_clock){ .now_ms = real_now_ms, .wall_s = real_wall_s };
	loop->on_wake = on_wake;
	loop->wake_data = data;
	loop->timers = g_sequence_new(g_free);
	loop->by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.u64 = watchset_outside_event(loop->wake_fd);
	if (loop->epoll_fd < 0 || loop->wake_fd < 0 ||
	    epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->wake_fd, &ev) < 0) {
		int saved = errno;

		loop_free(loop);
		errno = saved;
		return NULL;
	}
	loop->watches = watchset_new(loop->epoll_fd);
	return loop;
}

void loop_free(struct loop *loop)
{
	if (loop == NULL)
		return;
	watchset_free(loop->watches);
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	if (loop->wake_fd >= 0)
		close(loop->wake_fd);
	g_hash_table_destroy(loop->by_id);
	g_sequence_free(loop->timers);
	g_free(loop);
}

int64_t loop_now_ms(const struct loop *loop)
{
	return loop->clock.now_ms(loop->clock.data);
}

int64_t loop_wall_s(const struct loop *loop)
{
	return loop->clock.wall_s(loop->clock.data);
}

uint64_t loop_timer_add(struct loop *loop, int64_t at_ms, loop_timer_fn fn, void *data)
{
	struct timer *t = g_new0(struct timer, 1);

	t->id = ++loop->last_id;
	t->at_ms = at_ms;
	t->fn = fn;
	t->data = data;
	GSequenceIter *it = g_sequence_insert_sorted(loop->timers, t, timer_cmp, NULL);
	g_hash_table_insert(loop->by_id, &t->id, it);
	return t->id;
}

void loop_timer_cancel(struct loop *loop, uint64_t id)
{
	GSequenceIter *it;

	if (id == 0 || (it = g_hash_table_lookup(loop->by_id, &id)) == NULL)
		return;
	g_hash_table_remove(loop->by_id, &id);
	g_sequence_remove(it);
}

int64_t loop_next_timer_ms(const struct loop *loop)
{
	GSequenceIter *first = g_sequence_get_begin_iter(loop->timers);

	if (g_sequence_iter_is_end(first))
		return -1;
	return ((struct timer *)g_sequence_get(first))->at_ms;
}

int loop_watch(struct loop *loop, int fd, watch_fn fn, void *data,
	       bool readable, bool writable)
{
	return watchset_update(loop->watches, fd, fn, data, readable, writable);
}

void loop_wake(struct loop *loop)
{
	uint64_t one = 1;

	if (write(loop->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "engine: wake: %s", strerror(errno));
}

/* Runs the timers due now, but not those added meanwhile for now (a
 * zero-delay timer runs on the next turn, so a timer loop cannot starve
 * the sockets). */
static void run_timers(struct loop *loop)
{
	int64_t now = loop_now_ms(loop);
	uint64_t last = loop->last_id;

	for (;;) {
		GSequenceIter *it = g_sequence_get_begin_iter(loop->timers);

		if (g_sequence_iter_is_end(it))
			break;
		struct timer *t = g_sequence_get(it);
		if (t->at_ms > now || t->id > last)
			break;
		loop_timer_fn fn = t->fn;
		void *data = t->data;

		g_hash_table_remove(loop->by_id, &t->id);
		g_sequence_remove(it);
		fn(data);
	}
}

static void take_wake(struct loop *loop)
{
	uint64_t count;

	if (read(loop->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "engine: wake read: %s", strerror(errno));
	loop->on_wake(loop->wake_data);
}

void loop_turn(struct loop *loop, int max_wait_ms)
{
	struct epoll_event events[64];
	int64_t next = loop_next_timer_ms(loop);
	int timeout = max_wait_ms;

	if (next >= 0) {
		int64_t until = next - loop_now_ms(loop);

		timeout = (int)MIN((int64_t)timeout, MAX(until, 0));
	}
	int n = epoll_wait(loop->epoll_fd, events, G_N_ELEMENTS(events), timeout);

	if (n < 0 && errno != EINTR)
		log_msg(LOG_ERR, "engine: epoll_wait: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		if (events[i].data.u64 == watchset_outside_event(loop->wake_fd)) {
			take_wake(loop);
			continue;
		}
		/* an earlier event of this batch may have made curl or c-ares
		 * drop this socket, or replace it by a new one with the same
		 * number (see watchset.h) */
		const struct watch *w = watchset_lookup_event(loop->watches, events[i].data.u64);
		if (w != NULL)
			w->fn(w->data, w->fd, events[i].events);
	}
	run_timers(loop);
}
