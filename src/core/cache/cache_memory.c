/* cache_memory.c: the in-process cache backend: a hash table for lookup
 * and a doubly linked list for recency, under a mutex of its own (milter
 * threads read it on the fast path, the engine thread reads and writes
 * it). Every operation is a few pointer moves under that lock; nothing
 * blocks. A key is hashed before the lock is taken (issue 19: milter
 * threads contend for it; the keys are long, URLs mostly). */
#include "cache/cache.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <glib.h>

/* A key and its hash; first in an entry, so an entry is its own key in
 * the table. */
struct memory_key {
	guint hash;
	char *text;
};

struct memory_entry {
	struct memory_key key;
	enum lookup_status status;
	char *details;
	int64_t expires_s;	/* wall clock */
	unsigned hits_left;
	GList link;		/* data = the entry itself; head = most recent */
};

struct memory_cache {
	struct cache base;
	pthread_mutex_t lock;
	GHashTable *entries;	/* struct memory_key * -> struct memory_entry * (the same) */
	GQueue recency;
	size_t max_entries;
};

/* Eight bytes a step (g_str_hash's byte loop was a quarter of a cached
 * lookup), each word mixed by a multiply and a fold. */
static struct memory_key key_of(const char *text)
{
	size_t len = strlen(text), i = 0;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, text + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	return (struct memory_key){ .hash = (guint)h, .text = (char *)text };
}

static guint key_hash(gconstpointer key)
{
	return ((const struct memory_key *)key)->hash;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	const struct memory_key *x = a, *y = b;

	return x->hash == y->hash && strcmp(x->text, y->text) == 0;
}

static void entry_free(gpointer data)
{
	struct memory_entry *entry = data;

	g_free(entry->key.text);
	g_free(entry->details);
	g_free(entry);
}

/* Caller holds the lock. */
static void entry_remove(struct memory_cache *mc, struct memory_entry *entry)
{
	g_queue_unlink(&mc->recency, &entry->link);
	g_hash_table_remove(mc->entries, &entry->key);	/* frees the entry */
}

static bool memory_try_get(struct cache *cache, const char *key, int64_t now_s,
			   struct cache_answer *out)
{
	struct memory_cache *mc = (struct memory_cache *)cache;
	struct memory_key probe = key_of(key);
	bool hit = false;

	pthread_mutex_lock(&mc->lock);
	struct memory_entry *entry = g_hash_table_lookup(mc->entries, &probe);
	if (entry != NULL && now_s >= entry->expires_s) {
		entry_remove(mc, entry);
		entry = NULL;
	}
	if (entry != NULL) {
		out->status = entry->status;
		out->details = g_strdup(entry->details);
		hit = true;
		/* The hit that uses up the allowance is still served; the next
		 * request asks the provider again. */
		if (--entry->hits_left == 0) {
			entry_remove(mc, entry);
		} else {
			g_queue_unlink(&mc->recency, &entry->link);
			g_queue_push_head_link(&mc->recency, &entry->link);
		}
	}
	pthread_mutex_unlock(&mc->lock);
	return hit;
}

static void memory_put(struct cache *cache, const char *key, const struct cache_answer *answer,
		       int64_t expires_s, unsigned max_hits)
{
	struct memory_cache *mc = (struct memory_cache *)cache;

	if (max_hits == 0 || mc->max_entries == 0)
		return;
	/* made before the lock is taken */
	struct memory_entry *entry = g_new0(struct memory_entry, 1);
	entry->key = key_of(key);
	entry->key.text = g_strdup(key);
	entry->status = answer->status;
	entry->details = g_strdup(answer->details);
	entry->expires_s = expires_s;
	entry->hits_left = max_hits;
	entry->link.data = entry;

	pthread_mutex_lock(&mc->lock);
	struct memory_entry *old = g_hash_table_lookup(mc->entries, &entry->key);
	if (old != NULL)
		entry_remove(mc, old);
	while (g_hash_table_size(mc->entries) >= mc->max_entries) {
		GList *oldest = g_queue_peek_tail_link(&mc->recency);
		entry_remove(mc, oldest->data);
	}
	g_hash_table_insert(mc->entries, &entry->key, entry);
	g_queue_push_head_link(&mc->recency, &entry->link);
	pthread_mutex_unlock(&mc->lock);
}

size_t cache_memory_count(struct cache *cache)
{
	struct memory_cache *mc = (struct memory_cache *)cache;

	pthread_mutex_lock(&mc->lock);
	size_t n = g_hash_table_size(mc->entries);
	pthread_mutex_unlock(&mc->lock);
	return n;
}

static void memory_destroy(struct cache *cache)
{
	struct memory_cache *mc = (struct memory_cache *)cache;

	g_hash_table_destroy(mc->entries);
	pthread_mutex_destroy(&mc->lock);
	g_free(mc);
}

static const struct cache_backend_ops memory_ops = {
	.try_get = memory_try_get,
	.put = memory_put,
	.destroy = memory_destroy,
};

struct cache *cache_memory_new(size_t max_entries)
{
	struct memory_cache *mc = g_new0(struct memory_cache, 1);

	mc->base.ops = &memory_ops;
	pthread_mutex_init(&mc->lock, NULL);
	mc->entries = g_hash_table_new_full(key_hash, key_equal, NULL, entry_free);
	g_queue_init(&mc->recency);
	mc->max_entries = max_entries;
	return &mc->base;
}
