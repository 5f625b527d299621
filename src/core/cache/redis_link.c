/* redis_link.c: the connection to Redis, its bounded commands and its
 * outages (redis_link.h). */
#include <autoconfig.h>
#include "cache/redis_link.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <glib.h>
#include <hiredis/async.h>

#include "cache/redis_loop.h"
#include "engine/loop.h"
#include "util/log.h"
#include "util/sanitize.h"

#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 10000
/* AUTH, SELECT and PING after a (re)connect: not on any message's path
 * (commands are refused meanwhile), so a little longer than a command. */
#define HANDSHAKE_MIN_MS 1000
/* A refused kind not refused again for this long no longer holds a
 * refusal episode open (redis_link.h). */
#define REFUSAL_QUIET_MS 60000
/* the kinds of commands a caller names (cache_redis.c has five) */
#define MAX_KINDS 8
/* of a server's error text in the log line */
#define ERROR_TEXT_MAX 200

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_UP };

struct redis_link {
	int refs;
	struct loop *loop;
	struct redis_settings settings;
	char where[300];		/* address and db, for log lines */
	redisAsyncContext *ac;		/* NULL when down */
	gint state;			/* enum link_state; atomic: try_get reads it */
	bool outage;			/* its warning is logged; not over yet */
	unsigned pending;		/* commands sent, not answered yet */
	/* the refusal episode (redis_link.h): the kinds refused and when
	 * last, and the refusals counted since its warning */
	struct {
		const char *kind;
		int64_t last_ms;
	} refused[MAX_KINDS];
	unsigned n_refused;
	uint64_t refusals;
	int64_t backoff_ms;
	uint64_t retry_timer;
	uint64_t handshake_timer;
};

struct command {
	struct redis_link *link;
	const char *kind;		/* the caller's word; NULL: the handshake's */
	redis_reply_fn fn;		/* NULL once the caller was answered */
	void *ctx;
	uint64_t timer;
};

static void connect_now(void *data);

/* The connection is unusable: drop it (free_ac: unless hiredis is freeing
 * it already), log the outage once, and try again later. */
static void link_failed(struct redis_link *link, const char *why, bool free_ac)
{
	redisAsyncContext *ac = link->ac;

	link->ac = NULL;
	g_atomic_int_set(&link->state, LINK_DOWN);
	loop_timer_cancel(link->loop, link->handshake_timer);
	link->handshake_timer = 0;
	if (ac != NULL && free_ac)
		redisAsyncFree(ac);	/* pending replies: NULL (deferred in a callback) */
	if (!link->outage) {
		link->outage = true;
		log_msg(LOG_WARNING, "redis %s: %s; using the local cache and RateLimit budget "
			"until it answers again", link->where, why);
	}
	if (link->retry_timer == 0 && link->refs > 0) {
		link->retry_timer = loop_timer_add(link->loop, loop_now_ms(link->loop) +
						   link->backoff_ms, connect_now, link);
		link->backoff_ms = MIN(link->backoff_ms * 2, RETRY_MAX_MS);
	}
}

/* ---------------------------------------------------------- refusals */

/* The server's error text for a log line: at most ERROR_TEXT_MAX bytes,
 * control bytes escaped, the password (should a server ever quote it)
 * masked. g_free() it. */
static char *error_text(const struct redis_link *link, const redisReply *r)
{
	char *raw = g_strndup(r->str != NULL ? r->str : "", r->str != NULL ? r->len : 0), *text;
	const char *secret = link->settings.password;
	size_t n = secret != NULL ? strlen(secret) : 0;

	for (char *p = raw; n > 0 && (p = strstr(p, secret)) != NULL; p += n)
		memset(p, '*', n);
	text = log_sanitize(raw, ERROR_TEXT_MAX);
	g_free(raw);
	return text;
}

/* An error reply to a command of kind: the episode's warning if it is
 * the first. */
static void refused(struct redis_link *link, const char *kind, const redisReply *r)
{
	int64_t now = loop_now_ms(link->loop);
	unsigned i;

	link->refusals++;
	for (i = 0; i < link->n_refused && strcmp(link->refused[i].kind, kind) != 0; i++)
		;
	if (i == link->n_refused && i < MAX_KINDS)
		link->refused[link->n_refused++].kind = kind;
	if (i < MAX_KINDS)
		link->refused[i].last_ms = now;
	if (link->refusals == 1) {
		char *text = error_text(link, r);

		log_msg(LOG_WARNING, "redis %s: refuses %s: %s; using the local cache and "
			"RateLimit budget for what it refuses until its commands succeed again",
			link->where, kind, text);
		g_free(text);
	}
}

/* A reply that is no error to a command of kind: the end of the episode
 * when no refused kind is left (redis_link.h). */
static void succeeded(struct redis_link *link, const char *kind)
{
	int64_t now = loop_now_ms(link->loop);

	if (link->n_refused == 0)
		return;
	for (unsigned i = 0; i < link->n_refused;) {
		if (strcmp(link->refused[i].kind, kind) == 0 ||
		    now - link->refused[i].last_ms >= REFUSAL_QUIET_MS)
			link->refused[i] = link->refused[--link->n_refused];
		else
			i++;
	}
	if (link->n_refused > 0)
		return;
	log_msg(LOG_NOTICE, "redis %s: commands succeed again (%llu refused meanwhile); "
		"shared cache in use", link->where, (unsigned long long)link->refusals);
	link->refusals = 0;
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct command *cmd = privdata;
	const redisReply *reply = r;
	redis_reply_fn fn = cmd->fn;

	(void)ac;
	cmd->link->pending--;
	loop_timer_cancel(cmd->link->loop, cmd->timer);
	if (reply != NULL && cmd->kind != NULL) {
		if (reply->type == REDIS_REPLY_ERROR)
			refused(cmd->link, cmd->kind, reply);
		else
			succeeded(cmd->link, cmd->kind);
	}
	cmd->fn = NULL;
	if (fn != NULL)
		fn(cmd->ctx, r);
	g_free(cmd);
}

/* No reply within the bound: the caller goes on without Redis now; the
 * connection goes (a late reply must not be read as the next one's). */
static void on_command_timeout(void *data)
{
	struct command *cmd = data;
	struct redis_link *link = cmd->link;
	redis_reply_fn fn = cmd->fn;
	char why[96];

	cmd->timer = 0;
	cmd->fn = NULL;
	if (fn != NULL)
		fn(cmd->ctx, NULL);
	snprintf(why, sizeof(why), "no answer within %u ms", link->settings.timeout_ms);
	if (link->ac != NULL)
		link_failed(link, why, true);	/* frees cmd through on_reply */
}

static bool send_argv(struct redis_link *link, const char *kind, int argc, const char **argv,
		      const size_t *argvlen, redis_reply_fn fn, void *ctx, int64_t bound_ms)
{
	struct command *cmd = g_new0(struct command, 1);

	cmd->link = link;
	cmd->kind = kind;
	cmd->fn = fn;
	cmd->ctx = ctx;
	if (redisAsyncCommandArgv(link->ac, on_reply, cmd, argc, argv, argvlen) != REDIS_OK) {
		g_free(cmd);
		return false;
	}
	link->pending++;
	cmd->timer = loop_timer_add(link->loop, loop_now_ms(link->loop) + bound_ms,
				    on_command_timeout, cmd);
	return true;
}

bool redis_link_command(struct redis_link *link, const char *kind, int argc,
			const char **argv, const size_t *argvlen, redis_reply_fn fn,
			void *ctx)
{
	if (link->state != LINK_UP)
		return false;
	return send_argv(link, kind, argc, argv, argvlen, fn, ctx, link->settings.timeout_ms);
}

/* The loop no longer turns: the socket is driven here, with poll(2). */
bool redis_link_flush(struct redis_link *link)
{
	int64_t end_us = g_get_monotonic_time() + (int64_t)link->settings.timeout_ms * 1000;

	while (link->state == LINK_UP && link->pending > 0) {
		redisAsyncContext *ac = link->ac;
		int64_t left_ms = (end_us - g_get_monotonic_time() + 999) / 1000;
		struct pollfd p = { .fd = ac->c.fd, .events = POLLIN };
		int n;

		if (left_ms <= 0)
			break;
		if (sdslen(ac->c.obuf) > 0)
			p.events |= POLLOUT;
		n = poll(&p, 1, (int)left_ms);
		if (n < 0 && errno != EINTR)
			break;
		/* either may free ac (a lost connection): the state says */
		if (n > 0 && (p.revents & POLLOUT))
			redisAsyncHandleWrite(ac);
		else if (n > 0)
			redisAsyncHandleRead(ac);
	}
	if (link->pending == 0 && link->state == LINK_UP)
		return true;
	if (link->state != LINK_UP)
		return false;
	log_msg(LOG_WARNING, "redis %s: no answer within %u ms at shutdown; "
		"what was sent last may be lost", link->where, link->settings.timeout_ms);
	link->outage = true;		/* that was its line */
	link_failed(link, "shutdown", true);
	return false;
}

/* AUTH and SELECT: an error reply ends the attempt (the server's text
 * says why; it never contains the password). */
static void on_handshake(void *ctx, const redisReply *reply)
{
	struct redis_link *link = ctx;
	char why[200];

	if (link->state != LINK_CONNECTING || (reply != NULL && reply->type != REDIS_REPLY_ERROR))
		return;
	snprintf(why, sizeof(why), "%s", reply ? reply->str : "no answer to AUTH or SELECT");
	link_failed(link, why, true);
}

/* The PING that ends the handshake: the link is up. */
static void on_ready(void *ctx, const redisReply *reply)
{
	struct redis_link *link = ctx;

	if (link->state != LINK_CONNECTING)
		return;
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		link_failed(link, reply ? reply->str : "no answer to PING", true);
		return;
	}
	loop_timer_cancel(link->loop, link->handshake_timer);
	link->handshake_timer = 0;
	g_atomic_int_set(&link->state, LINK_UP);
	link->backoff_ms = RETRY_MIN_MS;
	if (link->outage)
		log_msg(LOG_NOTICE, "redis %s: answering again; shared cache in use", link->where);
	else
		log_msg(LOG_INFO, "redis %s: connected; shared cache in use", link->where);
	link->outage = false;
}

static void on_handshake_timeout(void *data)
{
	struct redis_link *link = data;

	link->handshake_timer = 0;
	if (link->state == LINK_CONNECTING)
		link_failed(link, "no answer while connecting", true);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct redis_link *link = ac->data;

	if (status != REDIS_OK && link->ac == ac)
		link_failed(link, ac->errstr[0] ? ac->errstr : "cannot connect", false);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis_link *link = ac->data;

	(void)status;
	if (link->ac == ac)
		link_failed(link, "connection lost", false);
}

static void handshake(struct redis_link *link)
{
	const struct redis_settings *s = &link->settings;
	int64_t bound = MAX((int64_t)s->timeout_ms * 4, HANDSHAKE_MIN_MS);
	char db[16];

	if (s->password != NULL) {
		const char *argv[] = { "AUTH", s->password };

		send_argv(link, NULL, 2, argv, NULL, on_handshake, link, bound);
	}
	if (s->db != 0) {
		const char *argv[] = { "SELECT", db };

		snprintf(db, sizeof(db), "%u", s->db);
		send_argv(link, NULL, 2, argv, NULL, on_handshake, link, bound);
	}
	const char *ping[] = { "PING" };

	send_argv(link, NULL, 1, ping, NULL, on_ready, link, bound);
	link->handshake_timer = loop_timer_add(link->loop, loop_now_ms(link->loop) + bound,
					       on_handshake_timeout, link);
}

static void connect_now(void *data)
{
	struct redis_link *link = data;
	const struct redis_settings *s = &link->settings;
	redisAsyncContext *ac;

	link->retry_timer = 0;
	ac = s->unix_path ? redisAsyncConnectUnix(s->unix_path)
			  : redisAsyncConnect(s->host, s->port);
	if (ac == NULL || ac->err) {
		char why[160];

		snprintf(why, sizeof(why), "%s", ac ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		link_failed(link, why, false);
		return;
	}
	ac->data = link;
	redis_loop_attach(ac, link->loop);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	link->ac = ac;
	g_atomic_int_set(&link->state, LINK_CONNECTING);
	handshake(link);
}

struct redis_link *redis_link_new(struct loop *loop, const struct redis_settings *s)
{
	struct redis_link *link = g_new0(struct redis_link, 1);

	link->refs = 1;
	link->loop = loop;
	redis_settings_copy(&link->settings, s);
	link->backoff_ms = RETRY_MIN_MS;
	redis_settings_describe(s, link->where, sizeof(link->where));
	connect_now(link);
	return link;
}

struct redis_link *redis_link_ref(struct redis_link *link)
{
	link->refs++;
	return link;
}

void redis_link_unref(struct redis_link *link)
{
	if (link == NULL || --link->refs > 0)
		return;
	loop_timer_cancel(link->loop, link->retry_timer);
	loop_timer_cancel(link->loop, link->handshake_timer);
	link->outage = true;		/* no log line for our own disconnect */
	if (link->ac != NULL) {
		redisAsyncContext *ac = link->ac;

		link->ac = NULL;
		g_atomic_int_set(&link->state, LINK_DOWN);
		redisAsyncFree(ac);	/* pending callbacks get NULL now */
	}
	redis_settings_clear(&link->settings);
	g_free(link);
}

bool redis_link_up(const struct redis_link *link)
{
	return g_atomic_int_get(&link->state) == LINK_UP;
}

const char *redis_link_prefix(const struct redis_link *link)
{
	return link->settings.prefix;
}
