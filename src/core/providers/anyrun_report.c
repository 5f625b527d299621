/* anyrun_report.c: an ANY.RUN task report (GET /v1/analysis/{uuid},
 * ../shared/providers/anyrun.md §3.3) read into a verdict (§1). */
#include "providers/anyrun.h"

#include <math.h>
#include <string.h>
#include <cjson/cJSON.h>

/* §1: the text form of threatLevel 0, 1, 2 (XSOAR's strings). */
static const char *const level_texts[] = {
	"No threats detected", "Suspicious activity", "Malicious activity",
};
static const enum lookup_status level_status[] = {
	LOOKUP_CLEAN, LOOKUP_SUSPICIOUS, LOOKUP_MALICIOUS,
};

static const cJSON *member(const cJSON *object, const char *path)
{
	gchar **names = g_strsplit(path, ".", -1);

	for (gchar **name = names; *name != NULL && object != NULL; name++)
		object = cJSON_GetObjectItemCaseSensitive(object, *name);
	g_strfreev(names);
	return object;
}

/* The threat level 0..2 of a verdict object, -1 when it has no
 * documented value: threatLevel, else threatLevelText, else score
 * (TheHive: 100 malicious, 51-99 suspicious, else safe). */
static int threat_level(const cJSON *verdict)
{
	const cJSON *level = cJSON_GetObjectItemCaseSensitive(verdict, "threatLevel");
	const char *text = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(verdict, "threatLevelText"));
	const cJSON *score = cJSON_GetObjectItemCaseSensitive(verdict, "score");

	if (cJSON_IsNumber(level)) {
		double v = level->valuedouble;

		return (v == 0 || v == 1 || v == 2) ? (int)v : -1;
	}
	if (text != NULL) {
		for (int i = 0; i < 3; i++)
			if (g_ascii_strcasecmp(text, level_texts[i]) == 0)
				return i;
		return -1;
	}
	if (cJSON_IsNumber(score) && isfinite(score->valuedouble) &&
	    score->valuedouble >= 0 && score->valuedouble <= 100)
		return score->valuedouble >= 100 ? 2 : score->valuedouble > 50 ? 1 : 0;
	return -1;
}

/* Whether a verdict object carries any of the three fields. */
static bool has_verdict(const cJSON *verdict)
{
	return cJSON_GetObjectItemCaseSensitive(verdict, "threatLevel") != NULL ||
	       cJSON_GetObjectItemCaseSensitive(verdict, "threatLevelText") != NULL ||
	       cJSON_GetObjectItemCaseSensitive(verdict, "score") != NULL;
}

enum task_state { TASK_RUNNING, TASK_DONE, TASK_FAILED };

/* A report without a verdict: data.status as text ("done", "running";
 * values unverified, §3.2) or as the monitor's number (§3.2: -1 failed,
 * 100 completed, else preparing/running). */
static enum task_state task_state(const cJSON *data)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(data, "status");
	const char *text = cJSON_GetStringValue(status);

	if (cJSON_IsNumber(status))
		return status->valuedouble == -1 ? TASK_FAILED
		       : status->valuedouble == 100 ? TASK_DONE : TASK_RUNNING;
	if (text == NULL)
		return TASK_RUNNING;
	if (g_ascii_strncasecmp(text, "fail", 4) == 0 || g_ascii_strcasecmp(text, "error") == 0)
		return TASK_FAILED;
	if (g_ascii_strcasecmp(text, "done") == 0 || g_ascii_strcasecmp(text, "completed") == 0)
		return TASK_DONE;
	return TASK_RUNNING;
}

static void decided(struct lookup *lookup, const struct provider_job *job, int level,
		    const cJSON *verdict)
{
	const cJSON *score = cJSON_GetObjectItemCaseSensitive(verdict, "score");

	if (cJSON_IsNumber(score) && isfinite(score->valuedouble) &&
	    fabs(score->valuedouble) < 1e6)
		provider_set_result(lookup, level_status[level], "%s, score %d, task %s",
				    level_texts[level], (int)score->valuedouble, job->id);
	else
		provider_set_result(lookup, level_status[level], "%s, task %s",
				    level_texts[level], job->id);
}

enum answer_class anyrun_report(struct lookup *lookup, struct provider_job *job,
				const struct http_response *resp)
{
	struct lookup *batch[1] = { lookup };
	cJSON *json = provider_parse_json(batch, 1, resp);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(json, "data");
	const cJSON *verdict = member(data, "analysis.scores.verdict");
	enum answer_class class = ANSWER_DECIDED;
	int level;

	if (json == NULL)
		return ANSWER_TRANSIENT;
	if (cJSON_IsObject(verdict) && has_verdict(verdict)) {
		level = threat_level(verdict);
		if (level < 0) {
			provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED,
				      "verdict without a known threat level, task %s", job->id);
			class = ANSWER_TRANSIENT;
		} else {
			decided(lookup, job, level, verdict);
		}
	} else if (!cJSON_IsObject(data)) {
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "report without data");
		class = ANSWER_TRANSIENT;
	} else {
		switch (task_state(data)) {
		case TASK_FAILED:
			provider_set_result(lookup, LOOKUP_UNKNOWN, "analysis failed, task %s",
					    job->id);
			break;
		case TASK_DONE:
			provider_set_result(lookup, LOOKUP_UNKNOWN, "no verdict, task %s", job->id);
			break;
		case TASK_RUNNING:
			job->next = JOB_POLL_LATER;
			job->poll_after_s = 0;
			provider_set_result(lookup, LOOKUP_PENDING, "task %s", job->id);
			break;
		}
	}
	cJSON_Delete(json);
	return class;
}
