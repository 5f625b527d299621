/* loop.h: the engine thread's event loop: epoll over the transport's
 * sockets, an eventfd that other threads write to wake it, and timers.
 *
 * Everything here runs on the loop's thread (the engine thread); only
 * loop_wake() may be called from any thread. Time comes from a clock the
 * loop is given, so that the unit tests can run the engine on a fake
 * clock (no sleeping, exact deadlines). */
#ifndef TM_ENGINE_LOOP_H
#define TM_ENGINE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/watchset.h"

/* Monotonic milliseconds and wall-clock seconds (cache expiry). */
struct loop_clock {
	int64_t (*now_ms)(void *data);
	int64_t (*wall_s)(void *data);
	void *data;
};

struct loop;
typedef void (*loop_timer_fn)(void *data);
typedef void (*loop_wake_fn)(void *data);

/* A loop on clock (NULL: CLOCK_MONOTONIC and time()); on_wake runs on the
 * loop thread after another thread called loop_wake(). NULL with errno
 * set when epoll or the eventfd cannot be created. */
struct loop *loop_new(const struct loop_clock *clock, loop_wake_fn on_wake, void *data);
/* Cancels every timer (their callbacks are not called). */
void loop_free(struct loop *loop);

int64_t loop_now_ms(const struct loop *loop);
int64_t loop_wall_s(const struct loop *loop);

/* Runs fn(data) once at at_ms (loop clock), at the earliest on the next
 * turn of the loop (never from inside loop_timer_add). Returns the timer's
 * id (never 0). */
uint64_t loop_timer_add(struct loop *loop, int64_t at_ms, loop_timer_fn fn, void *data);
/* Cancels a timer that has not fired; 0 or an id already fired or
 * cancelled is ignored. */
void loop_timer_cancel(struct loop *loop, uint64_t id);
/* The deadline of the earliest timer, or -1 when none. */
int64_t loop_next_timer_ms(const struct loop *loop);

/* Watches fd (see watchset.h); neither readable nor writable: stops.
 * Returns 0 or -1 with errno. */
int loop_watch(struct loop *loop, int fd, watch_fn fn, void *data,
	       bool readable, bool writable);

/* Any thread: makes the loop call on_wake soon. */
void loop_wake(struct loop *loop);

/* One turn: waits for sockets, the wake-up or the next timer, at most
 * max_wait_ms (0: do not wait), then handles what is ready and runs the
 * timers due. */
void loop_turn(struct loop *loop, int max_wait_ms);

#endif
