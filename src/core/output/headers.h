/* headers.h: the verdict headers (DESIGN.md "Verdict headers").
 *
 *   X-Threat-Verdict: malicious
 *   X-Threat-Report: virustotal url=hxxps://login-example[.]com/ 12/93;
 *   	spamhaus ip=203.0.113.7 SBL,XBL
 *   X-Threat-Scanned: threatmilter 0.1 on mx1; 9 lookups, 4 cached, 182 ms
 *
 * Anything that came from the message is defanged (so that a mail client
 * never turns it into a link) and sanitised: ASCII printable only, no
 * CR/LF, bounded; long values are folded with "\n\t", the form libmilter
 * and Postfix expect for a multi-line header value. */
#ifndef TM_HEADERS_H
#define TM_HEADERS_H

#include <stddef.h>

#include "lookup/judge.h"
#include "lookup/lookup.h"

struct tm_config;

/* Upper bounds: a header value, and how many findings the report lists. */
#define HEADER_VALUE_MAX 2000
#define HEADER_REPORT_MAX_ENTRIES 10

/* One header as it is inserted: name and value, both g_malloc'd. */
struct header_field {
	char *name;	/* "X-Threat-Verdict" */
	char *value;	/* "malicious" */
};

struct verdict_headers {
	struct header_field verdict, report, scanned;
};

/* Printable ASCII only (anything else becomes '?'), whitespace runs
 * (CR, LF, TAB included) become one space, at most max bytes ("..."
 * marks a cut). g_malloc'd. */
char *header_sanitize(const char *text, size_t max);

/* "https://evil.example/x" -> "hxxps://evil[.]example/x"; a domain's dots
 * are bracketed; IPs and hashes stay as they are (no client links them). */
char *indicator_defang(const char *indicator, enum indicator_kind kind);

/* Joins items with separator, breaking the line ("\n\t") before an item
 * that would pass column 78 (counting the header name). g_malloc'd. */
char *header_fold(const char *name, GPtrArray *items, const char *separator);

/* The three headers of a judged message. hostname: ReportHostname. */
void verdict_headers_build(const struct judgement *judgement, const struct tm_config *cfg,
			   const char *hostname, struct verdict_headers *out);
void verdict_headers_clear(struct verdict_headers *headers);

/* "max_urls,max_indicators": the names of the VERDICT_LIMITS bits in
 * limits, as the report header and the JSON output give them.
 * g_malloc'd, "" for none. */
char *verdict_limits_text(unsigned limits);

/* Is `name` one of our header names (case-insensitive, with prefix)? */
bool header_is_ours(const struct tm_config *cfg, const char *name);

#endif
