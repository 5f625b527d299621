/* sample.h: an attachment's bytes, kept for the integrations that upload
 * the file itself (sandboxes, MetaDefender, VirusTotal; issue 12).
 *
 * A sample is made only when an active integration may upload that file
 * (its Attachments and UploadPEFiles / UploadOtherFiles toggles, its
 * MaxUploadSize, the excluded extensions: lookup/plan.c decides). It is
 * reference counted because a sandbox job outlives the message that
 * started it: the engine keeps a reference while the job needs the bytes
 * and drops it when the upload is done. The bytes are in memory, or in
 * an unlinked file of TmpDir (mode 0600) beyond the memory bound, read
 * through /proc/self/fd. Thread-safe reference counting; the content is
 * immutable once made. */
#ifndef TM_LOOKUP_SAMPLE_H
#define TM_LOOKUP_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct http_request;

struct sample;

/* A sample of len bytes copied from data. name: the attachment's file
 * name as the message gave it (sanitised here to printable ASCII without
 * '/', at most 200 bytes; NULL or "" gives "sample"); sha256: lower-case
 * hex (copied); is_pe: decided by content (analysis/filetype.c). The
 * caller owns the one reference returned. Never NULL. */
struct sample *sample_new(const char *name, const char *sha256, bool is_pe,
			  const void *data, size_t len);
struct sample *sample_ref(struct sample *s);
void sample_unref(struct sample *s);	/* NULL is fine */

const char *sample_name(const struct sample *s);	/* sanitised, never NULL */
const char *sample_sha256(const struct sample *s);
size_t sample_size(const struct sample *s);		/* bytes */
bool sample_is_pe(const struct sample *s);

/* Adds the bytes as a multipart file part named field (e.g. "file",
 * "sample_file") with the sample's name and content type
 * application/octet-stream (provider_http.h, http_request_add_part).
 * The request copies what it needs. */
void sample_add_part(const struct sample *s, struct http_request *req, const char *field);
/* The bytes as a GBytes (a new reference), for providers that send the
 * file as a raw body (MetaDefender POST /file); a spilled sample's file
 * is mapped (read back if it cannot be). NULL only when a spilled file
 * cannot be read. */
GBytes *sample_bytes(const struct sample *s);

/* A sample as sample_new(), kept in memory when len <= memory_limit
 * (bytes; SampleMemoryLimit), else written to an unlinked file of
 * tmp_dir: created O_EXCL|O_NOFOLLOW with mode 0600, unlinked at once,
 * kept open (its descriptor is close-on-exec) and read back through
 * /proc/self/fd/N (curl reads the multipart part from there;
 * sample_bytes() maps it). The file disappears with the last reference.
 * NULL with the reason in err when the file cannot be made or written
 * (the caller then uploads nothing). */
struct sample *sample_new_bounded(const char *name, const char *sha256, bool is_pe,
				  const void *data, size_t len, size_t memory_limit,
				  const char *tmp_dir, char *err, size_t errlen);
/* Whether the bytes are in a TmpDir file rather than in memory. */
bool sample_spilled(const struct sample *s);

#endif
