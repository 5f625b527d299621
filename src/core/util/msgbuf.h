/* msgbuf.h: the message as the milter receives it (headers, then body
 * chunks), kept in memory up to a threshold and spilled to an unlinked
 * temporary file beyond it, so that 200 concurrent 20 MB messages do not
 * need 4 GB of RAM. Past `limit` bytes nothing more is stored: the
 * message is too large and will not be analysed. */
#ifndef TM_MSGBUF_H
#define TM_MSGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <gmime/gmime.h>

struct msgbuf;

/* spill_at: bytes kept in memory; limit: MaxMessageSize in bytes, the
 * most ever stored (there is no "unbounded": 0 stores nothing);
 * tmp_dir: where the spill file goes. */
struct msgbuf *msgbuf_new(size_t spill_at, size_t limit, const char *tmp_dir);
void msgbuf_free(struct msgbuf *buf);

/* False on an I/O error (err set); exceeding the limit is not an error. */
bool msgbuf_append(struct msgbuf *buf, const void *data, size_t len, char *err, size_t errlen);
/* Convenience for one header line "Name: value\r\n". */
bool msgbuf_append_header(struct msgbuf *buf, const char *name, const char *value,
			  char *err, size_t errlen);
size_t msgbuf_size(const struct msgbuf *buf);	/* bytes offered, stored or not */
bool msgbuf_too_large(const struct msgbuf *buf);
bool msgbuf_spilled(const struct msgbuf *buf);
/* A stream over what was stored (new reference; the buffer must outlive it). */
GMimeStream *msgbuf_stream(struct msgbuf *buf);

#endif
