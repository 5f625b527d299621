/* analyze.h: a raw message in, its facts out. The milter (at end of
 * message) and `threatmilter scan` call the same function. */
#ifndef TM_ANALYZE_H
#define TM_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <gmime/gmime.h>

#include "analysis/facts.h"

struct tm_config;

/* Must be called once per process before any analysis (g_mime_init). */
void analyze_init(void);
void analyze_shutdown(void);

/* Parses the message read from `stream` and returns its facts, with the
 * configuration's limits, trusted networks and exclusions applied. Never
 * fails: an unparseable input gives empty facts with LIMIT_PARSE_ERROR. */
struct facts *analyze_stream(GMimeStream *stream, const struct tm_config *cfg);
struct facts *analyze_buffer(const char *data, size_t len,
			     const struct tm_config *cfg);

/* A GMime stream over len bytes at data (borrowed: they must outlive the
 * stream); a new reference. Zero bytes (data may then be NULL, as in an
 * empty GByteArray) give an empty stream: GMime's buffer constructor
 * refuses NULL with a CRITICAL that G_DEBUG=fatal-criticals turns into
 * an abort, and the content of a message decides when it is empty. */
GMimeStream *analyze_memory_stream(const void *data, size_t len);

/* Which attachments' decoded bytes the analysis keeps (as
 * attachment_fact.sample, lookup/sample.h) for the integrations that may
 * upload them (issue 12), and which digests it computes. Without options
 * nothing is kept and all three digests are computed. lookup/plan.h's
 * plan_sample_options() fills the sample fields from the active
 * integrations and clears sha256_only. */
struct analyze_options {
	bool sha256_only;	/* attachment_fact.md5/.sha1 left "": the milter
				 * path, whose plan looks up SHA-256 only (issue 19) */
	bool keep_pe;		/* keep Windows PE files (filetype_is_pe) ... */
	size_t pe_max;		/* ... of at most this many bytes */
	bool keep_other;	/* keep every other file ... */
	size_t other_max;	/* ... of at most this many bytes */
	size_t memory_limit;	/* SampleMemoryLimit: larger ones go to tmp_dir */
	const char *tmp_dir;	/* TmpDir (borrowed) */
};

/* analyze_stream() keeping the bytes opts asks for (NULL: none). An
 * excluded attachment (ExcludeExtensions) never keeps its bytes; a file
 * that cannot be spilled to tmp_dir is logged and kept by hash only. */
struct facts *analyze_stream_keep(GMimeStream *stream, const struct tm_config *cfg,
				  const struct analyze_options *opts);

#endif
