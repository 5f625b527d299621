/* part_content.c: a leaf part's bytes, read in place when the message
 * is in memory, else through GMime's data wrapper. */
#include "analysis/part_content.h"

#include <stdbool.h>

/* A part of a message kept in memory and without transfer encoding
 * (7bit, 8bit, binary), read in the message's buffer: its bytes as GMime
 * would copy them. False, bytes untouched, for any other: GMime's
 * filters decode base64, quoted-printable and uuencode (MIME decoding is
 * GMime's job, not ours), and a spilled message is read as it is. */
static bool content_in_place(GMimeDataWrapper *content, GByteArray *bytes)
{
	GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(content);
	GMimeStream *raw = g_mime_data_wrapper_get_stream(content);

	if (raw == NULL || !GMIME_IS_STREAM_MEM(raw) ||
	    (encoding != GMIME_CONTENT_ENCODING_DEFAULT &&
	     encoding != GMIME_CONTENT_ENCODING_7BIT &&
	     encoding != GMIME_CONTENT_ENCODING_8BIT &&
	     encoding != GMIME_CONTENT_ENCODING_BINARY))
		return false;
	/* A memory substream shares the message's buffer, bounded. */
	const GByteArray *buf = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(raw));

	if (buf == NULL || buf->data == NULL)
		return false;
	gint64 end = raw->bound_end < 0 ? (gint64)buf->len : MIN(raw->bound_end, (gint64)buf->len);

	if (raw->bound_start < 0 || raw->bound_start > end)
		return false;
	g_byte_array_append(bytes, buf->data + raw->bound_start, (guint)(end - raw->bound_start));
	return true;
}

GByteArray *part_decoded_content(GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GByteArray *bytes = g_byte_array_new();

	if (content == NULL || content_in_place(content, bytes))
		return bytes;
	GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(bytes);
	/* The stream must not free the array: we hand it to the caller. */
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_mime_data_wrapper_write_to_stream(content, mem);
	g_object_unref(mem);
	return bytes;
}
