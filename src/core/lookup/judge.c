/* judge.c: plan the lookups of a message, run them, compute the verdict. */
#include "lookup/judge.h"

#include "config/config.h"
#include "engine/engine.h"
#include "lookup/plan.h"

void judge_message(struct engine *engine, struct tm_config *cfg, const struct facts *facts,
		   bool report_mode, struct judgement *out)
{
	int64_t start = engine_now_ms();

	*out = (struct judgement){ .lookups = plan_array_new() };
	if (report_mode && facts->reported->len > 0) {
		out->reported = true;
		for (guint i = 0; i < facts->reported->len; i++)
			plan_lookups(g_ptr_array_index(facts->reported, i), cfg, true, out->lookups);
	} else {
		/* Inline mode: the indicators of forwarded messages are part of
		 * the message too (an attacker can wrap the payload). */
		plan_lookups(facts, cfg, true, out->lookups);
	}
	if (engine != NULL && out->lookups->len > 0)
		engine_run(engine, cfg, (struct lookup *const *)out->lookups->pdata,
			   out->lookups->len, start + cfg->scan_deadline_ms);
	verdict_compute((struct lookup *const *)out->lookups->pdata, out->lookups->len,
			&out->summary);
	out->elapsed_ms = engine_now_ms() - start;
}

void judgement_clear(struct judgement *judgement)
{
	if (judgement->lookups != NULL)
		g_ptr_array_unref(judgement->lookups);
	judgement->lookups = NULL;
}
