/* redis_link.h: one connection to the Redis server, shared by every
 * integration's cache (cache_redis.c), on the engine loop.
 *
 * Every command is bounded: its reply comes within RedisTimeout, or the
 * caller's callback gets NULL at that bound. A command that times out,
 * or a lost connection, starts an OUTAGE: the connection is dropped,
 * one warning is logged (the outage's only line until Redis answers
 * again: then one notice), and while it lasts redis_link_command()
 * refuses at once, so callers fall back to their local cache and budget
 * without waiting. Reconnects are tried in the background with back-off
 * (0.5 s doubling to 10 s). Neither keys nor the password are logged.
 *
 * A server that answers, but with an ERROR REPLY (a read-only replica
 * after a failover: READONLY; OOM under noeviction; a key of another
 * type: WRONGTYPE), starts a REFUSAL episode: one warning naming what
 * was refused and the server's text (sanitised, at most 200 bytes, the
 * password masked), then silence while the errors go on; the callers
 * fall back to their local cache and budget for each refused command as
 * for a missing reply (cache_redis.c counts them). The episode ends, with
 * one notice, on the first success of a command of the refused kind (or
 * of any kind once the refused one has not been refused for
 * REFUSAL_QUIET_MS: a kind that is not asked again does not hold the
 * episode open forever). The kinds are the callers' words, e.g. "cache
 * writes", so one refused key of a kind does not flap with the others'
 * successes.
 *
 * Engine thread only (the loop's thread), but for redis_link_up(). */
#ifndef TM_REDIS_LINK_H
#define TM_REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <hiredis/hiredis.h>

#include "cache/redis_settings.h"

struct loop;
struct redis_link;

/* reply: the server's reply (valid during the call only; it may be an
 * error reply), or NULL when there was none within RedisTimeout, the
 * connection was lost or the link is being freed. Called exactly once. */
typedef void (*redis_reply_fn)(void *ctx, const redisReply *reply);

/* Starts connecting to s (copied) on loop. Never NULL. The link starts
 * unavailable until the server answered a PING (after AUTH and SELECT). */
struct redis_link *redis_link_new(struct loop *loop, const struct redis_settings *s);
struct redis_link *redis_link_ref(struct redis_link *link);
/* The last reference disconnects: pending callbacks get NULL. */
void redis_link_unref(struct redis_link *link);

/* Whether commands are accepted now (connected, no outage). Any thread
 * (an atomic read): the cache's fast path asks it. */
bool redis_link_up(const struct redis_link *link);
/* The key prefix of RedisServer's prefix= (never NULL). */
const char *redis_link_prefix(const struct redis_link *link);

/* Sends argv[0..argc-1] (binary-safe, lengths in argvlen). Returns false
 * without calling fn when the link is not up: the caller falls back at
 * once. Otherwise fn(ctx, reply) is called exactly once, later (never
 * from inside this call), within the link's timeout. fn may be NULL (a
 * write nobody waits for). kind (a string that outlives the link, e.g.
 * "cache writes") names the command in a refusal episode's log lines. */
bool redis_link_command(struct redis_link *link, const char *kind, int argc,
			const char **argv, const size_t *argvlen, redis_reply_fn fn,
			void *ctx);

/* Shutdown only, when the loop no longer turns (engine_free): blocks
 * until every command sent is answered (their callbacks run here), at
 * most RedisTimeout from now. Returns true when none is left waiting;
 * false when the link is not up (nothing was sent) or after the bound:
 * then the connection is dropped (the callbacks get NULL) and a warning
 * is logged, so that a second call returns at once. */
bool redis_link_flush(struct redis_link *link);

#endif
