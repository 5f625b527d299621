/* redis_settings.h: the shared cache's settings (threatmilter.conf(5):
 * CacheBackend, RedisServer, RedisTimeout; issue 15 "Redis backend").
 *
 * RedisServer is an address and optional words:
 *     RedisServer 127.0.0.1:6379 db=2 prefix=tm: password-file=/etc/threatmilter/redis.pass
 *     RedisServer unix:/run/redis/redis-server.sock
 * The address is a numeric IPv4/IPv6 address or "localhost" with an
 * optional :port (default 6379; IPv6 in brackets), or unix:/absolute/path.
 * A host name is refused: hiredis resolves it with a blocking
 * getaddrinfo() on every reconnect, on the engine thread. */
#ifndef TM_REDIS_SETTINGS_H
#define TM_REDIS_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

struct tm_config;

struct redis_settings {
	char *host;		/* numeric address, or NULL for a unix socket */
	int port;
	char *unix_path;	/* or NULL */
	char *password;		/* from password-file=, a secret; NULL: no AUTH */
	unsigned db;		/* SELECT, 0 = default */
	char *prefix;		/* of every key, default "threatmilter:" */
	unsigned timeout_ms;	/* RedisTimeout: the longest wait for any answer */
};

/* Parses a RedisServer value and reads its password file. Returns false
 * with err set (never quoting the password). out is cleared first; free
 * it with redis_settings_clear(). */
bool redis_settings_parse(const char *value, unsigned timeout_ms, struct redis_settings *out,
			  char *err, size_t errlen);
/* Frees the strings of s (the password is wiped first). */
void redis_settings_clear(struct redis_settings *s);
/* dst becomes a deep copy of src (its own strings); free it with
 * redis_settings_clear(). */
void redis_settings_copy(struct redis_settings *dst, const struct redis_settings *src);
/* "127.0.0.1:6379 db 2" or "unix:/path db 0": for log lines (no secret). */
void redis_settings_describe(const struct redis_settings *s, char *buf, size_t len);

/* The configuration check of CacheBackend and RedisServer (config_load,
 * so `-n` too; err reads "file: Key: why"): true when the backend is memory, or redis with a
 * RedisServer that parses and a readable password file. */
bool redis_settings_check_config(const struct tm_config *cfg, char *err, size_t errlen);
/* Whether cfg asks for the Redis backend. */
bool redis_settings_wanted(const struct tm_config *cfg);

#endif
