/* verdict.c: a message's verdict from its lookups and their coverage. */
#include "output/verdict.h"

#include <string.h>
#include <glib.h>

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

enum lookup_error verdict_error_kind(const struct lookup_result *r)
{
	if (r->status != LOOKUP_ERROR && r->status != LOOKUP_RATE_LIMITED)
		return LOOKUP_ERR_NONE;
	if (r->error != LOOKUP_ERR_NONE)
		return r->error;
	/* every producer sets the kind (provider_fail, the engine); an
	 * error without one is a provider's own failure */
	if (r->status == LOOKUP_RATE_LIMITED)
		return LOOKUP_ERR_QUOTA;
	return LOOKUP_ERR_PROVIDER;
}

const char *verdict_outcome_word(const struct lookup_result *r)
{
	switch (verdict_error_kind(r)) {
	case LOOKUP_ERR_TIMEOUT: return "timeout";
	case LOOKUP_ERR_PAUSED: return "paused";
	default: return lookup_status_name(r->status);
	}
}

/* A judgement: the integration answered about the indicator. */
static bool judged(const struct lookup *lookup)
{
	return lookup->result.status <= LOOKUP_UNKNOWN;
}

/* Counts and the worst decided result; coverage is the caller's. */
static void tally(struct lookup *const *lookups, size_t n, struct verdict_summary *out)
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
			if (verdict_error_kind(r) == LOOKUP_ERR_TIMEOUT)
				out->timeouts++;
			continue;
		case LOOKUP_RATE_LIMITED: out->rate_limited++; continue;
		case LOOKUP_PENDING: out->pending++; continue;
		case LOOKUP_INVALID: out->invalid++; continue;
		default: continue;
		}
		if (v < out->verdict) {
			out->verdict = v;
			out->decisive = lookups[i];
		}
	}
}

/* clean needs full coverage and no limit; malicious/suspicious stand. */
static void settle(struct verdict_summary *out)
{
	if (out->verdict == VERDICT_CLEAN && (out->unjudged > 0 || out->limits != 0)) {
		out->verdict = VERDICT_UNKNOWN;
		out->decisive = NULL;
	}
}

void verdict_compute_plan(const struct plan *plan, struct verdict_summary *out)
{
	tally((struct lookup *const *)plan->lookups->pdata, plan->lookups->len, out);
	for (guint i = 0; i < plan->indicators->len; i++) {
		const struct plan_indicator *ind = g_ptr_array_index(plan->indicators, i);
		bool any = false;

		if (ind->lookups->len == 0)
			continue;	/* nobody could judge it: not a hole */
		out->indicators++;
		for (guint k = 0; k < ind->lookups->len && !any; k++)
			any = judged(g_ptr_array_index(ind->lookups, k));
		if (!any)
			out->unjudged++;
	}
	out->limits = plan->limits & VERDICT_LIMITS;
	out->dropped = plan->dropped;
	settle(out);
}

void verdict_compute(struct lookup *const *lookups, size_t n, struct verdict_summary *out)
{
	GHashTable *coverage = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter iter;
	gpointer value;

	tally(lookups, n, out);
	for (size_t i = 0; i < n; i++) {
		char *key = g_strdup_printf("%d\x1f%s", lookups[i]->kind, lookups[i]->indicator);
		bool was = GPOINTER_TO_INT(g_hash_table_lookup(coverage, key));

		g_hash_table_insert(coverage, key, GINT_TO_POINTER(was || judged(lookups[i])));
	}
	out->indicators = g_hash_table_size(coverage);
	g_hash_table_iter_init(&iter, coverage);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (!GPOINTER_TO_INT(value))
			out->unjudged++;
	g_hash_table_unref(coverage);
	settle(out);
}
