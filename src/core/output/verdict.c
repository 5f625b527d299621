/* verdict.c: worst decided result of a message's lookups. */
#include "output/verdict.h"

#include <string.h>

const char *verdict_name(enum verdict verdict)
{
	switch (verdict) {
	case VERDICT_MALICIOUS: return "malicious";
	case VERDICT_SUSPICIOUS: return "suspicious";
	case VERDICT_CLEAN: return "clean";
	case VERDICT_UNKNOWN: return "unknown";
	}
	return "unknown";
}

static bool is_timeout(const struct lookup_result *r)
{
	return r->details != NULL &&
	       (strcmp(r->details, "deadline") == 0 || strstr(r->details, "timeout") != NULL);
}

void verdict_compute(struct lookup *const *lookups, size_t n, struct verdict_summary *out)
{
	*out = (struct verdict_summary){ .verdict = VERDICT_UNKNOWN, .lookups = (unsigned)n };
	for (size_t i = 0; i < n; i++) {
		const struct lookup_result *r = &lookups[i]->result;
		enum verdict v;

		if (r->cached)
			out->cached++;
		switch (r->status) {
		case LOOKUP_MALICIOUS: v = VERDICT_MALICIOUS; break;
		case LOOKUP_SUSPICIOUS: v = VERDICT_SUSPICIOUS; break;
		case LOOKUP_CLEAN: v = VERDICT_CLEAN; break;
		case LOOKUP_ERROR:
			out->errors++;
			if (is_timeout(r))
				out->timeouts++;
			continue;
		case LOOKUP_RATE_LIMITED:
			out->rate_limited++;
			continue;
		default:
			continue;
		}
		if (v < out->verdict) {
			out->verdict = v;
			out->decisive = lookups[i];
		}
	}
}
