/* part_content.c: a leaf part's bytes, read in place when the message
 * is in memory, else through GMime's data wrapper. */
#include "analysis/part_content.h"

#include <stdbool.h>

#include "analysis/base64.h"

/* A part of a message kept in memory, read in the message's buffer: its
 * bytes without transfer encoding (as GMime copies them), or base64 as
 * encoders write it (base64.h) decoded. False, bytes untouched, for any
 * other: GMime's filters decode it, and a spilled message as read. */
static bool content_in_place(GMimeDataWrapper *content, GByteArray *bytes)
{
	GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(content);
	GMimeStream *raw = g_mime_data_wrapper_get_stream(content);

	if (raw == NULL || !GMIME_IS_STREAM_MEM(raw) ||
	    encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    encoding == GMIME_CONTENT_ENCODING_UUENCODE)
		return false;
	/* A memory substream shares the message's buffer, bounded. */
	const GByteArray *buf = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(raw));

	if (buf == NULL || buf->data == NULL)
		return false;
	gint64 end = raw->bound_end < 0 ? (gint64)buf->len : MIN(raw->bound_end, (gint64)buf->len);

	if (raw->bound_start < 0 || raw->bound_start > end)
		return false;
	if (encoding == GMIME_CONTENT_ENCODING_BASE64)
		return base64_decode_canonical(buf->data + raw->bound_start,
					       (size_t)(end - raw->bound_start), bytes);
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
