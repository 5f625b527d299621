/* base64.h: the base64 content transfer encoding (RFC 2045 §6.8) as
 * encoders write it, decoded at a third of the cost of GMime's filter,
 * which stays the decoder for everything else. */
#ifndef TM_BASE64_H
#define TM_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

/* Appends the bytes of in[0..len) to out when it is canonical base64:
 * the 64 letters in groups of 4 with only CR and LF between them, '='
 * only to pad the last group (one or two), nothing but CR and LF after
 * it. Every decoder gives the same bytes for such input. Returns false,
 * out unchanged, for any other input: the caller then decodes it
 * leniently (GMime skips stray bytes, and its versions differ on text
 * after '='). */
bool base64_decode_canonical(const guint8 *in, size_t len, GByteArray *out);

#endif
