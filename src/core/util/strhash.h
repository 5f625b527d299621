/* strhash.h: a string hash for hash tables whose keys are long (URLs,
 * cache keys): eight bytes a step where g_str_hash takes one (issue 19:
 * hashing was a quarter of a cached lookup). Unseeded, like g_str_hash:
 * no defence against keys crafted to collide. */
#ifndef TM_STRHASH_H
#define TM_STRHASH_H

#include <stddef.h>
#include <glib.h>

/* The hash of text[0..len-1]. */
guint tm_str_hash_len(const char *text, size_t len);
/* The hash of a NUL-terminated string: a GHashFunc, as g_str_hash. */
guint tm_str_hash(gconstpointer text);

#endif
