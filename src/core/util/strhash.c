/* strhash.c: a word-at-a-time string hash (strhash.h). */
#include "util/strhash.h"

#include <stdint.h>
#include <string.h>

guint tm_str_hash_len(const char *text, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len;
	size_t i = 0;

	/* each word mixed by a multiply and a fold of its high half, the
	 * last bytes one by one; then MurmurHash3's finaliser */
	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, text + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (guint)h;
}

guint tm_str_hash(gconstpointer text)
{
	return tm_str_hash_len(text, strlen(text));
}
