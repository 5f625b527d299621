/* base64.c: canonical base64 decoded fast, anything else left to GMime. */
#include "analysis/base64.h"

#define BAD 0xff

/* The value of each base64 letter (RFC 4648 §4), BAD for any other byte. */
static const guint8 letter_value[256] = {
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,  62, BAD, BAD, BAD,  63,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, BAD, BAD, BAD, BAD, BAD,
	BAD,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};

/* One group's bytes: 3, or 2 or 1 when it ends with one or two '='. */
static guint8 *put_group(guint8 *o, guint32 bits, unsigned pad)
{
	o[0] = (guint8)(bits >> 16);
	if (pad < 2)
		o[1] = (guint8)(bits >> 8);
	if (pad < 1)
		o[2] = (guint8)bits;
	return o + 3 - pad;
}

/* Only CR and LF in in[i..len)? */
static bool only_line_breaks(const guint8 *in, size_t i, size_t len)
{
	for (; i < len; i++)
		if (in[i] != '\r' && in[i] != '\n')
			return false;
	return true;
}

bool base64_decode_canonical(const guint8 *in, size_t len, GByteArray *out)
{
	const guint start = out->len;
	unsigned n = 0, pad = 0;	/* letters and '=' of the group being read */
	guint32 bits = 0;
	size_t i = 0;
	guint8 *o;

	if (len < 4)	/* no group: empty, or not base64 as written */
		return only_line_breaks(in, 0, len);
	g_byte_array_set_size(out, start + (guint)(len / 4 * 3));
	o = out->data + start;
	while (i < len) {
		/* whole groups between line breaks, 4 letters at a time */
		while (n == 0 && i + 4 <= len) {
			guint8 a = letter_value[in[i]], b = letter_value[in[i + 1]];
			guint8 c = letter_value[in[i + 2]], d = letter_value[in[i + 3]];

			if (((a | b | c | d) & 0xc0) != 0)
				break;	/* not 4 letters (BAD has the high bits) */
			o = put_group(o, (guint32)a << 18 | (guint32)b << 12 | (guint32)c << 6 | d, 0);
			i += 4;
		}
		if (i >= len)
			break;
		guint8 ch = in[i++];

		if (ch == '\r' || ch == '\n')
			continue;
		if (letter_value[ch] != BAD && pad == 0) {
			bits = bits << 6 | letter_value[ch];
		} else if (ch == '=' && n >= 2) {
			bits <<= 6;
			pad++;
		} else {
			goto lenient;	/* another byte, a letter after '=', "A=" */
		}
		if (++n < 4)
			continue;
		o = put_group(o, bits, pad);
		n = 0;
		bits = 0;
		if (pad > 0) {	/* the end: only line breaks may follow */
			if (!only_line_breaks(in, i, len))
				goto lenient;
			break;
		}
	}
	if (n != 0)
		goto lenient;	/* a group cut short */
	g_byte_array_set_size(out, (guint)(o - out->data));
	return true;
lenient:
	g_byte_array_set_size(out, start);
	return false;
}
