/* redis_loop.c: the hiredis event hooks on the engine loop's watches
 * (redis_loop.h). hiredis calls addRead/delRead/addWrite/delWrite when
 * its interest changes; each call re-states both directions to the loop.
 * cleanup comes when the context is freed: the watch goes. */
#include <autoconfig.h>
#include "cache/redis_loop.h"

#include <sys/epoll.h>
#include <glib.h>

#include "engine/loop.h"
#include "util/log.h"

struct redis_watch {
	redisAsyncContext *ac;
	struct loop *loop;
	int fd;
	bool reading, writing;
};

/* One direction per event: handling it may free the context and w
 * (a disconnect); the loop is level-triggered, so the other direction
 * comes again on the next turn. */
static void on_event(void *data, int fd, uint32_t events)
{
	struct redis_watch *w = data;

	(void)fd;
	if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && w->reading)
		redisAsyncHandleRead(w->ac);
	else if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && w->writing)
		redisAsyncHandleWrite(w->ac);
}

static void update(struct redis_watch *w)
{
	if (loop_watch(w->loop, w->fd, on_event, w, w->reading, w->writing) < 0)
		log_msg(LOG_ERR, "redis: cannot watch its socket");
}

/* One direction's interest (w->reading or w->writing) set to on; the
 * loop hears of it only when it changes. */
static void want(struct redis_watch *w, bool *direction, bool on)
{
	if (*direction != on) {
		*direction = on;
		update(w);
	}
}

static void add_read(void *data)
{
	struct redis_watch *w = data;

	want(w, &w->reading, true);
}

static void del_read(void *data)
{
	struct redis_watch *w = data;

	want(w, &w->reading, false);
}

static void add_write(void *data)
{
	struct redis_watch *w = data;

	want(w, &w->writing, true);
}

static void del_write(void *data)
{
	struct redis_watch *w = data;

	want(w, &w->writing, false);
}

static void cleanup(void *data)
{
	struct redis_watch *w = data;

	w->reading = w->writing = false;
	update(w);
	g_free(w);
}

int redis_loop_attach(redisAsyncContext *ac, struct loop *loop)
{
	struct redis_watch *w;

	if (ac->ev.data != NULL)
		return -1;
	w = g_new0(struct redis_watch, 1);
	w->ac = ac;
	w->loop = loop;
	w->fd = ac->c.fd;
	ac->ev.addRead = add_read;
	ac->ev.delRead = del_read;
	ac->ev.addWrite = add_write;
	ac->ev.delWrite = del_write;
	ac->ev.cleanup = cleanup;
	ac->ev.data = w;
	return 0;
}
