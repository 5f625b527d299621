/* judge.c: plan the lookups of a message, run them, compute the verdict. */
#include "lookup/judge.h"

#include "config/config.h"
#include "engine/engine.h"
#include "lookup/plan.h"

/* The engine gets only what can be asked: never an invalid indicator. */
static void ask(struct engine *engine, struct tm_config *cfg, GPtrArray *lookups,
		int64_t deadline_ms, const struct engine_message *msg)
{
	GPtrArray *askable = g_ptr_array_sized_new(lookups->len);

	for (guint i = 0; i < lookups->len; i++) {
		struct lookup *lookup = g_ptr_array_index(lookups, i);

		if (lookup->result.status != LOOKUP_INVALID)
			g_ptr_array_add(askable, lookup);
	}
	if (askable->len > 0)
		engine_run_message(engine, cfg, (struct lookup *const *)askable->pdata,
				   askable->len, deadline_ms, msg);
	g_ptr_array_unref(askable);
}

void judge_message(struct engine *engine, struct tm_config *cfg, const struct facts *facts,
		   bool report_mode, struct judgement *out)
{
	judge_message_queued(engine, cfg, facts, report_mode, NULL, out);
}

void judge_message_queued(struct engine *engine, struct tm_config *cfg,
			  const struct facts *facts, bool report_mode, const char *queue_id,
			  struct judgement *out)
{
	int64_t start = engine_now_ms();
	unsigned budget_ms = cfg->scan_deadline_ms;
	/* GMime gives the Message-ID without its angle brackets */
	char *message_id = facts->message_id != NULL && facts->message_id[0] != '<' ?
			   g_strconcat("<", facts->message_id, ">", NULL) :
			   g_strdup(facts->message_id);
	struct engine_message msg = {
		.queue_id = queue_id, .message_id = message_id, .report = report_mode,
	};
	struct plan plan;

	if (report_mode && (uint64_t)cfg->report_sandbox_wait_s * 1000 > budget_ms)
		budget_ms = cfg->report_sandbox_wait_s * 1000;

	*out = (struct judgement){ .lookups = NULL };
	if (report_mode && facts->reported->len > 0) {
		out->reported = true;
		plan_build((const struct facts *const *)facts->reported->pdata,
			   facts->reported->len, cfg, &plan);
	} else {
		plan_build(&facts, 1, cfg, &plan);
	}
	if (engine != NULL)
		ask(engine, cfg, plan.lookups, start + budget_ms, &msg);
	verdict_compute_plan(&plan, &out->summary);
	out->lookups = plan.lookups;
	out->indicators = plan.indicators;
	out->elapsed_ms = engine_now_ms() - start;
	g_free(message_id);
}

void judgement_clear(struct judgement *judgement)
{
	/* what the judgement took over from its plan */
	struct plan plan = { .lookups = judgement->lookups, .indicators = judgement->indicators };

	plan_clear(&plan);
	judgement->lookups = NULL;
	judgement->indicators = NULL;
}
