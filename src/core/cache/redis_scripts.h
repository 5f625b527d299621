/* redis_scripts.h: the Lua scripts of the shared cache (cache_redis.h),
 * each run atomically by EVAL. */
#ifndef TM_REDIS_SCRIPTS_H
#define TM_REDIS_SCRIPTS_H

/* KEYS: value, lock. ARGV: owner, lock ms. {1, status, details} a hit
 * (one read counted; the last allowed one deletes the entry); {0} a miss
 * and the lock is ours (a lock of our own host is ours: a host has one
 * flight per key); {2, ms} another host holds the lock for ms. */
#define REDIS_GET_SCRIPT \
	"local v = redis.call('HMGET', KEYS[1], 's', 'd')\n" \
	"if v[1] then\n" \
	"  if redis.call('HINCRBY', KEYS[1], 'h', -1) <= 0 then redis.call('DEL', KEYS[1]) end\n" \
	"  return {1, v[1], v[2]}\n" \
	"end\n" \
	"local cur = redis.call('GET', KEYS[2])\n" \
	"if (not cur) or cur == ARGV[1] then\n" \
	"  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])\n" \
	"  return {0}\n" \
	"end\n" \
	"return {2, redis.call('PTTL', KEYS[2])}\n"

/* KEYS: value, lock. ARGV: status, details, reads, expiry (unix s). */
#define REDIS_PUT_SCRIPT \
	"redis.call('DEL', KEYS[1])\n" \
	"redis.call('HSET', KEYS[1], 's', ARGV[1], 'd', ARGV[2], 'h', ARGV[3])\n" \
	"redis.call('EXPIREAT', KEYS[1], ARGV[4])\n" \
	"redis.call('DEL', KEYS[2])\n" \
	"return 1\n"

/* KEYS: lock. ARGV: owner. Releases the lock if ours (no answer to
 * wait for: an error, a job now in the registry). */
#define REDIS_UNLOCK_SCRIPT \
	"if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n" \
	"return 1\n"

/* KEYS: one per RateLimit item, a sorted set of its grants (score: the
 * server's time in ms; member "ms:k", the k-th grant of that ms, so two
 * grants of one millisecond are two members). ARGV: N and period ms per
 * item. 1: granted, the grant added to every item; 0: some item already
 * holds N grants in (now - period, now], nothing added (the whole
 * budget is checked before anything is taken). The sliding window of
 * engine/ratelimit.h on the server's clock, one for all hosts; a key
 * outlives its newest grant by one period. A hash there is an older
 * release's state: replaced. */
#define REDIS_RATE_SCRIPT \
	"local t = redis.call('TIME')\n" \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n" \
	"for i = 1, #KEYS do\n" \
	"  if redis.call('TYPE', KEYS[i]).ok == 'hash' then redis.call('DEL', KEYS[i]) end\n" \
	"  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - tonumber(ARGV[2*i]))\n" \
	"  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[2*i-1]) then return 0 end\n" \
	"end\n" \
	"for i = 1, #KEYS do\n" \
	"  local k = redis.call('ZCOUNT', KEYS[i], now, now)\n" \
	"  redis.call('ZADD', KEYS[i], now, now .. ':' .. k)\n" \
	"  redis.call('PEXPIRE', KEYS[i], ARGV[2*i])\n" \
	"end\n" \
	"return 1\n"

/* KEYS: lease. ARGV: owner, lease s (0: release it if ours). {1, owner}
 * ours now; {0, other owner} another host runs the job. */
#define REDIS_CLAIM_SCRIPT \
	"local cur = redis.call('GET', KEYS[1])\n" \
	"if ARGV[2] == '0' then\n" \
	"  if cur == ARGV[1] then redis.call('DEL', KEYS[1]) end\n" \
	"  return {1, ARGV[1]}\n" \
	"end\n" \
	"if (not cur) or cur == ARGV[1] then\n" \
	"  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])\n" \
	"  return {1, ARGV[1]}\n" \
	"end\n" \
	"return {0, cur}\n"

#endif
