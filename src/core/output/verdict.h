/* verdict.h: a message's verdict from its lookups.
 *
 * The worst decided result wins: malicious over suspicious over clean.
 * When no lookup decided anything (no lookups, or only unknown, error,
 * rate_limited and skipped results) the verdict is unknown. The flags
 * say whether something failed, so that the milter can apply
 * On-ProviderError / On-Timeout. */
#ifndef TM_VERDICT_H
#define TM_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "lookup/lookup.h"

enum verdict {
	VERDICT_MALICIOUS,
	VERDICT_SUSPICIOUS,
	VERDICT_CLEAN,
	VERDICT_UNKNOWN,
};

struct verdict_summary {
	enum verdict verdict;
	unsigned lookups, cached, errors, timeouts, rate_limited;
	const struct lookup *decisive;	/* the first lookup with the verdict, or NULL */
};

void verdict_compute(struct lookup *const *lookups, size_t n, struct verdict_summary *out);
const char *verdict_name(enum verdict verdict);

#endif
