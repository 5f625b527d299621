/* redis_probe.c: `threatmilter test`'s Redis check (redis_probe.h). */
#include <autoconfig.h>
#include "cache/redis_probe.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <glib.h>
#include <hiredis/hiredis.h>

#define CONNECT_TIMEOUT_S 2

/* One command; false with out set on an error reply or none. The reply
 * is checked against want (a status or bulk string) when want != NULL. */
static bool step(redisContext *c, const char *what, const char *want, char *out, size_t outlen,
		 int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);
	bool ok = r != NULL && r->type != REDIS_REPLY_ERROR &&
		  (want == NULL || (r->str != NULL && strcmp(r->str, want) == 0));

	if (!ok)
		snprintf(out, outlen, "%s: %s", what, r == NULL ? c->errstr
			 : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected answer");
	freeReplyObject(r);
	return ok;
}

static bool probe_steps(redisContext *c, const struct redis_settings *s, char *out,
			size_t outlen)
{
	char db[16], *key = g_strconcat(s->prefix, "test:probe", NULL);
	bool ok = true;

	snprintf(db, sizeof(db), "%u", s->db);
	if (s->password != NULL)
		ok = step(c, "AUTH", NULL, out, outlen, 2, (const char *[]){ "AUTH", s->password });
	if (ok && s->db != 0)
		ok = step(c, "SELECT", NULL, out, outlen, 2, (const char *[]){ "SELECT", db });
	gint64 started = g_get_monotonic_time();
	if (ok)
		ok = step(c, "PING", "PONG", out, outlen, 1, (const char *[]){ "PING" });
	gint64 ping_us = g_get_monotonic_time() - started;
	if (ok)
		ok = step(c, "SET", NULL, out, outlen, 5,
			  (const char *[]){ "SET", key, "1", "PX", "10000" }) &&
		     step(c, "GET", "1", out, outlen, 2, (const char *[]){ "GET", key }) &&
		     step(c, "DEL", NULL, out, outlen, 2, (const char *[]){ "DEL", key });
	if (ok)
		snprintf(out, outlen, "PING %.1f ms (RedisTimeout %u ms), write/read OK",
			 (double)ping_us / 1000.0, s->timeout_ms);
	g_free(key);
	return ok;
}

bool redis_probe(const struct redis_settings *s, char *out, size_t outlen)
{
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_S };
	redisContext *c = s->unix_path ? redisConnectUnixWithTimeout(s->unix_path, tv)
				       : redisConnectWithTimeout(s->host, s->port, tv);
	bool ok;

	if (c == NULL || c->err) {
		snprintf(out, outlen, "connect: %s", c ? c->errstr : "out of memory");
		redisFree(c);
		return false;
	}
	redisSetTimeout(c, tv);
	ok = probe_steps(c, s, out, outlen);
	redisFree(c);
	return ok;
}
