/* redis_loop.h: drives a hiredis asynchronous context from the engine's
 * loop (engine/loop.h): hiredis says when it wants to read or write, the
 * loop watches the socket and calls hiredis back. No other event library
 * (hiredis ships adapters for libevent, libev, glib... not for ours). */
#ifndef TM_REDIS_LOOP_H
#define TM_REDIS_LOOP_H

#include <hiredis/async.h>

struct loop;

/* Attaches ac (just connected, not yet attached) to loop; engine thread.
 * The adapter is freed by hiredis (its cleanup hook) when ac is freed.
 * Returns 0, or -1 (ac already attached). */
int redis_loop_attach(redisAsyncContext *ac, struct loop *loop);

#endif
