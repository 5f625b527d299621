/* cache_redis.c: the shared cache backend on Redis (cache_redis.h).
 * Engine thread only, but for try_get (any thread: the local copy while
 * Redis is unavailable). */
#include <autoconfig.h>
#include "cache/cache_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "cache/cache.h"
#include "cache/redis_link.h"
#include "cache/redis_scripts.h"
#include "engine/loop.h"
#include "engine/ratelimit.h"
#include "metrics/catalog.h"

/* How long one host's provider request keeps the others waiting for its
 * answer (single flight across hosts); then they ask for themselves. */
#define LOCK_WINDOW_MS 5000
#define WAIT_POLL_MIN_MS 20
#define WAIT_POLL_MAX_MS 200
#define MAX_RATE_ITEMS 8

/* The kinds of commands, in a refusal episode's log lines (redis_link.h):
 * an error for one kind does not end with another kind's success. */
static const char KIND_READ[] = "cache reads";
static const char KIND_WRITE[] = "cache writes";
static const char KIND_UNLOCK[] = "single-flight lock releases";
static const char KIND_RATE[] = "RateLimit grants";
static const char KIND_LEASE[] = "sandbox job leases";

struct redis_cache_factory {
	struct redis_settings settings;
	struct redis_link *link;	/* with the first cache, until the last goes */
	unsigned caches;
	char owner[128];		/* this host in locks and leases: host:pid */
	struct redis_cache_stats stats;	/* atomic adds and reads */
	struct tm_metrics *metrics;	/* borrowed; may be NULL */
};

struct redis_cache {
	struct cache base;
	struct redis_cache_factory *factory;
	struct redis_link *link;
	struct loop *loop;
	struct cache *local;		/* always written; read while Redis is out */
	GHashTable *budgets;		/* name -> struct local_budget * (fallback) */
	GHashTable *ops;		/* struct op * waiting for Redis */
	char *name;
};

struct local_budget {
	char *spec;
	struct ratelimit *rl;
};

enum op_kind { OP_GET, OP_RATE, OP_CLAIM };

/* One call waiting for Redis. rc NULL: its cache was replaced; the op
 * still answers its caller (from Redis, else as a miss / refusal). */
struct op {
	struct redis_cache *rc;
	enum op_kind kind;
	char *key;			/* the engine's key (OP_GET) */
	char *budget, *spec;		/* OP_RATE */
	int64_t now_s;
	int64_t wait_until_ms;		/* OP_GET waiting for another host */
	unsigned poll_ms;
	uint64_t poll_timer;
	void (*cb)(void);		/* cache_get_cb, cache_rate_cb or cache_claim_cb */
	void *ctx;
};

static void op_free(struct op *op)
{
	if (op->rc != NULL)
		g_hash_table_remove(op->rc->ops, op);
	g_free(op->key);
	g_free(op->budget);
	g_free(op->spec);
	g_free(op);
}

/* "name\x1fkind\x1findicator" -> PREFIX tag ":" name ":" kind ":" indicator */
static char *redis_key(const struct redis_link *link, const char *tag, const char *key)
{
	char *k = g_strconcat(redis_link_prefix(link), tag, ":", key, NULL);

	for (char *p = k; *p != '\0'; p++)
		if (*p == '\x1f')
			*p = ':';
	return k;
}

/* ------------------------------------------------------------ answers */

static void local_get(struct redis_cache *rc, struct op *op)
{
	cache_get_cb cb = (cache_get_cb)op->cb;

	if (rc == NULL)
		cb(op->ctx, false, NULL);
	else
		cache_get(rc->local, op->key, op->now_s, cb, op->ctx);
}

static bool local_rate(struct redis_cache *rc, const char *budget, const char *spec)
{
	struct local_budget *b;
	char err[256];

	if (rc == NULL)
		return false;
	b = g_hash_table_lookup(rc->budgets, budget);
	if (b == NULL || g_strcmp0(b->spec, spec) != 0) {
		b = g_new0(struct local_budget, 1);
		b->spec = g_strdup(spec);
		b->rl = ratelimit_new(spec, err, sizeof(err));
		g_hash_table_replace(rc->budgets, g_strdup(budget), b);
	}
	return b->rl != NULL && ratelimit_take(b->rl, loop_now_ms(rc->loop));
}

static void local_budget_free(gpointer data)
{
	struct local_budget *b = data;

	ratelimit_free(b->rl);
	g_free(b->spec);
	g_free(b);
}

static void count(uint64_t *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/* Redis did not answer (or refused): the caller's local answer now. */
static void fall_back(struct op *op)
{
	if (op->rc != NULL) {
		count(&op->rc->factory->stats.fallbacks);
		tm_metrics_redis_fallback(op->rc->factory->metrics);
	}
	switch (op->kind) {
	case OP_GET:
		local_get(op->rc, op);
		break;
	case OP_RATE:
		((cache_rate_cb)op->cb)(op->ctx, local_rate(op->rc, op->budget, op->spec));
		break;
	case OP_CLAIM:
		((cache_claim_cb)op->cb)(op->ctx, true, NULL);
		break;
	}
	op_free(op);
}

/* ------------------------------------------------------------ get */

static void send_get(struct op *op);

static void poll_again(void *data)
{
	struct op *op = data;

	op->poll_timer = 0;
	send_get(op);
}

/* A status another host stored: only the ones the engine caches (a
 * value written to Redis by anything else is a miss). */
static bool cached_status(const redisReply *r, enum lookup_status *out)
{
	static const enum lookup_status ok[] = {
		LOOKUP_MALICIOUS, LOOKUP_SUSPICIOUS, LOOKUP_CLEAN, LOOKUP_UNKNOWN,
	};
	char *end;
	long v;

	if (r->type != REDIS_REPLY_STRING)
		return false;
	v = strtol(r->str, &end, 10);
	for (size_t i = 0; *end == '\0' && end != r->str && i < G_N_ELEMENTS(ok); i++) {
		if (v == (long)ok[i]) {
			*out = ok[i];
			return true;
		}
	}
	return false;
}

static void on_get(void *ctx, const redisReply *r)
{
	struct op *op = ctx;
	cache_get_cb cb = (cache_get_cb)op->cb;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER) {
		fall_back(op);
		return;
	}
	long long what = r->element[0]->integer;
	int64_t now = op->rc ? loop_now_ms(op->rc->loop) : 0;
	struct cache_answer answer = { 0 };

	if (what == 1 && r->elements == 3 && cached_status(r->element[1], &answer.status)) {
		answer.details = r->element[2]->type == REDIS_REPLY_STRING ? r->element[2]->str : "";
		if (op->rc != NULL)
			count(&op->rc->factory->stats.hits);
		cb(op->ctx, true, &answer);
	} else if (what == 2 && op->rc != NULL && (op->wait_until_ms == 0 || now < op->wait_until_ms)) {
		/* another host is asking: its answer will be here soon */
		long long left = r->elements > 1 ? r->element[1]->integer : 0;

		if (op->wait_until_ms == 0)
			op->wait_until_ms = now + MIN(MAX(left, 0), LOCK_WINDOW_MS);
		op->poll_ms = op->poll_ms ? MIN(op->poll_ms * 2, WAIT_POLL_MAX_MS) : WAIT_POLL_MIN_MS;
		op->poll_timer = loop_timer_add(op->rc->loop, now + op->poll_ms, poll_again, op);
		return;
	} else {
		if (op->rc != NULL)
			count(&op->rc->factory->stats.misses);
		cb(op->ctx, false, NULL);	/* a miss: ours to ask */
	}
	op_free(op);
}

static void send_get(struct op *op)
{
	struct redis_link *link = op->rc ? op->rc->link : NULL;
	char *vkey, *lkey, lock_ms[16];

	if (link == NULL) {
		fall_back(op);
		return;
	}
	vkey = redis_key(link, "c", op->key);
	lkey = redis_key(link, "l", op->key);
	snprintf(lock_ms, sizeof(lock_ms), "%d", LOCK_WINDOW_MS);
	const char *argv[] = { "EVAL", REDIS_GET_SCRIPT, "2", vkey, lkey,
			       op->rc->factory->owner, lock_ms };
	bool sent = redis_link_command(link, KIND_READ, G_N_ELEMENTS(argv), argv, NULL, on_get,
				       op);

	g_free(vkey);
	g_free(lkey);
	if (!sent)
		fall_back(op);
}

static struct op *op_new(struct redis_cache *rc, enum op_kind kind, void (*cb)(void), void *ctx)
{
	struct op *op = g_new0(struct op, 1);

	op->rc = rc;
	op->kind = kind;
	op->cb = cb;
	op->ctx = ctx;
	g_hash_table_add(rc->ops, op);
	return op;
}

static void redis_get(struct cache *cache, const char *key, int64_t now_s,
		      cache_get_cb cb, void *ctx)
{
	struct redis_cache *rc = (struct redis_cache *)cache;
	struct op *op = op_new(rc, OP_GET, (void (*)(void))cb, ctx);

	op->key = g_strdup(key);
	op->now_s = now_s;
	send_get(op);
}

/* Only while Redis is out: the local copy (the reads allowed are counted
 * in Redis when it is there). An answer from it is a fallback too. */
static bool redis_try_get(struct cache *cache, const char *key, int64_t now_s,
			  struct cache_answer *out)
{
	struct redis_cache *rc = (struct redis_cache *)cache;

	if (redis_link_up(rc->link) || !cache_try_get(rc->local, key, now_s, out))
		return false;
	count(&rc->factory->stats.fallbacks);
	tm_metrics_redis_fallback(rc->factory->metrics);
	return true;
}

static void redis_put(struct cache *cache, const char *key, const struct cache_answer *answer,
		      int64_t expires_s, unsigned max_hits)
{
	struct redis_cache *rc = (struct redis_cache *)cache;
	char status[16], hits[16], expiry[24];

	char *vkey = redis_key(rc->link, "c", key), *lkey = redis_key(rc->link, "l", key);

	cache_put(rc->local, key, answer, expires_s, max_hits);
	if (max_hits == 0) {	/* nothing to keep: the other hosts stop waiting */
		const char *argv[] = { "EVAL", REDIS_UNLOCK_SCRIPT, "1", lkey,
				       rc->factory->owner };

		redis_link_command(rc->link, KIND_UNLOCK, G_N_ELEMENTS(argv), argv, NULL, NULL,
				   NULL);
		g_free(vkey);
		g_free(lkey);
		return;
	}

	snprintf(status, sizeof(status), "%d", (int)answer->status);
	snprintf(hits, sizeof(hits), "%u", max_hits);
	snprintf(expiry, sizeof(expiry), "%lld", (long long)expires_s);
	const char *argv[] = { "EVAL", REDIS_PUT_SCRIPT, "2", vkey, lkey, status,
			       answer->details ? answer->details : "", hits, expiry };

	redis_link_command(rc->link, KIND_WRITE, G_N_ELEMENTS(argv), argv, NULL, NULL, NULL);
	g_free(vkey);
	g_free(lkey);
}

/* ------------------------------------------------------------ budget, jobs */

static void on_rate(void *ctx, const redisReply *r)
{
	struct op *op = ctx;

	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		fall_back(op);
		return;
	}
	((cache_rate_cb)op->cb)(op->ctx, r->integer == 1);
	op_free(op);
}

/* The spec's items as KEYS and ARGV of the rate script; false when it
 * does not parse or has too many (the local budget decides). */
static bool rate_send(struct redis_cache *rc, struct op *op)
{
	char err[256], item[MAX_RATE_ITEMS][48], num[MAX_RATE_ITEMS][2][24];
	const char *argv[3 + 3 * MAX_RATE_ITEMS];
	struct ratelimit *rl = ratelimit_new(op->spec, err, sizeof(err));
	char *keys[MAX_RATE_ITEMS] = { 0 };
	unsigned n;
	int64_t period;
	size_t count = 0;
	bool sent = false;

	while (rl != NULL && count < MAX_RATE_ITEMS && ratelimit_item(rl, count, &n, &period)) {
		snprintf(item[count], sizeof(item[count]), "%s:%u/%lld", op->budget, n,
			 (long long)period);
		keys[count] = redis_key(rc->link, "r", item[count]);
		snprintf(num[count][0], sizeof(num[count][0]), "%u", n);
		snprintf(num[count][1], sizeof(num[count][1]), "%lld", (long long)period);
		count++;
	}
	if (rl != NULL && count > 0 && !ratelimit_item(rl, count, &n, &period)) {
		char nkeys[8];
		int argc = 0;

		snprintf(nkeys, sizeof(nkeys), "%zu", count);
		argv[argc++] = "EVAL";
		argv[argc++] = REDIS_RATE_SCRIPT;
		argv[argc++] = nkeys;
		for (size_t i = 0; i < count; i++)
			argv[argc++] = keys[i];
		for (size_t i = 0; i < count; i++) {
			argv[argc++] = num[i][0];
			argv[argc++] = num[i][1];
		}
		sent = redis_link_command(rc->link, KIND_RATE, argc, argv, NULL, on_rate, op);
	}
	for (size_t i = 0; i < count; i++)
		g_free(keys[i]);
	ratelimit_free(rl);
	return sent;
}

static void redis_rate_take(struct cache *cache, const char *budget, const char *spec,
			    int64_t now_s, cache_rate_cb cb, void *ctx)
{
	struct redis_cache *rc = (struct redis_cache *)cache;
	struct op *op = op_new(rc, OP_RATE, (void (*)(void))cb, ctx);

	op->budget = g_strdup(budget);
	op->spec = g_strdup(spec ? spec : "");
	op->now_s = now_s;
	if (spec == NULL || *spec == '\0') {	/* unlimited */
		cb(ctx, true);
		op_free(op);
	} else if (!rate_send(rc, op)) {
		fall_back(op);
	}
}

static void on_claim(void *ctx, const redisReply *r)
{
	struct op *op = ctx;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		fall_back(op);
		return;
	}
	((cache_claim_cb)op->cb)(op->ctx, r->element[0]->integer == 1, r->element[1]->str);
	op_free(op);
}

static void redis_job_claim(struct cache *cache, const char *key, const char *job_id,
			    int64_t lease_s, cache_claim_cb cb, void *ctx)
{
	struct redis_cache *rc = (struct redis_cache *)cache;
	char lease[24];
	char *jkey = redis_key(rc->link, "j", key);

	snprintf(lease, sizeof(lease), "%lld", (long long)MAX(lease_s, 0));
	const char *argv[] = { "EVAL", REDIS_CLAIM_SCRIPT, "1", jkey,
			       job_id ? job_id : rc->factory->owner, lease };

	if (cb == NULL) {	/* a release: nobody waits */
		redis_link_command(rc->link, KIND_LEASE, G_N_ELEMENTS(argv), argv, NULL, NULL,
				   NULL);
	} else {
		struct op *op = op_new(rc, OP_CLAIM, (void (*)(void))cb, ctx);

		if (!redis_link_command(rc->link, KIND_LEASE, G_N_ELEMENTS(argv), argv, NULL,
					on_claim, op))
			fall_back(op);
	}
	g_free(jkey);
}

/* ------------------------------------------------------------ lifecycle */

/* Ops still waiting keep answering their callers (from Redis or as
 * misses) without this cache: they must not be lost, nor answered from
 * inside the engine's replacement of the cache (under its write lock). */
static void redis_destroy(struct cache *cache)
{
	struct redis_cache *rc = (struct redis_cache *)cache;
	struct redis_cache_factory *f = rc->factory;
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, rc->ops);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		struct op *op = key;

		op->rc = NULL;
		if (op->poll_timer != 0) {	/* between two polls: a miss */
			loop_timer_cancel(rc->loop, op->poll_timer);
			op->poll_timer = loop_timer_add(rc->loop, loop_now_ms(rc->loop),
							poll_again, op);
		}
	}
	g_hash_table_destroy(rc->ops);
	g_hash_table_destroy(rc->budgets);
	cache_free(rc->local);
	g_free(rc->name);
	g_free(rc);
	if (--f->caches == 0) {
		redis_link_unref(f->link);	/* pending ops: NULL replies */
		f->link = NULL;
	}
}

static void redis_flush(struct cache *cache)
{
	struct redis_cache *rc = (struct redis_cache *)cache;

	redis_link_flush(rc->link);
}

static const struct cache_backend_ops redis_ops = {
	.try_get = redis_try_get,
	.get = redis_get,
	.put = redis_put,
	.destroy = redis_destroy,
	.rate_take = redis_rate_take,
	.job_claim = redis_job_claim,
	.flush = redis_flush,
};

struct cache *redis_cache_new(void *data, struct loop *loop, const char *name,
			      size_t max_entries)
{
	struct redis_cache_factory *f = data;
	struct redis_cache *rc = g_new0(struct redis_cache, 1);

	if (f->link == NULL)
		f->link = redis_link_new(loop, &f->settings);
	f->caches++;
	rc->base.ops = &redis_ops;
	rc->factory = f;
	rc->link = f->link;
	rc->loop = loop;
	rc->name = g_strdup(name);
	rc->local = cache_memory_new(max_entries);
	rc->budgets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, local_budget_free);
	rc->ops = g_hash_table_new(g_direct_hash, g_direct_equal);
	return &rc->base;
}

struct redis_cache_factory *redis_cache_factory_new(const struct redis_settings *s,
						    struct tm_metrics *metrics)
{
	struct redis_cache_factory *f = g_new0(struct redis_cache_factory, 1);
	char host[64];

	f->metrics = metrics;
	redis_settings_copy(&f->settings, s);
	if (gethostname(host, sizeof(host)) != 0)
		g_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(f->owner, sizeof(f->owner), "%s:%ld", host, (long)getpid());
	return f;
}

void redis_cache_factory_free(struct redis_cache_factory *factory)
{
	if (factory == NULL)
		return;
	redis_settings_clear(&factory->settings);
	g_free(factory);
}

void redis_cache_factory_stats(const struct redis_cache_factory *factory,
			       struct redis_cache_stats *out)
{
	out->hits = __atomic_load_n(&factory->stats.hits, __ATOMIC_RELAXED);
	out->misses = __atomic_load_n(&factory->stats.misses, __ATOMIC_RELAXED);
	out->fallbacks = __atomic_load_n(&factory->stats.fallbacks, __ATOMIC_RELAXED);
}
