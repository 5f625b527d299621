/* analyze.h: a raw message in, its facts out. The milter (at end of
 * message) and `threatmilter scan` call the same function. */
#ifndef TM_ANALYZE_H
#define TM_ANALYZE_H

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

#endif
