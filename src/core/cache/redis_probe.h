/* redis_probe.h: `threatmilter test`'s check of the Redis server of
 * CacheBackend redis (issue 15). Synchronous (hiredis's blocking API): for
 * the command line only, never in the daemon. */
#ifndef TM_REDIS_PROBE_H
#define TM_REDIS_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/redis_settings.h"

/* Connects (2 s bound), authenticates, selects the database, PINGs and
 * writes, reads and deletes a test key under the prefix. Returns true
 * when all worked; out gets one line (without newline) either way, e.g.
 * "PING 0.4 ms, write/read OK" or the server's or the system's error.
 * Never quotes the password. */
bool redis_probe(const struct redis_settings *s, char *out, size_t outlen);

#endif
