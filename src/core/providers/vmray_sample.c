/* vmray_sample.c: a VMRay sample object's verdict and details
 * (vmray.h; ../shared/providers/vmray.md §1). */
#include "providers/vmray.h"

#include <math.h>
#include <string.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "providers/provider.h"

struct word_status {
	const char *word;
	enum lookup_status status;
};

/* §1: sample_verdict (newer servers), sample_severity (older ones) */
static const struct word_status verdict_words[] = {
	{ "malicious", LOOKUP_MALICIOUS }, { "suspicious", LOOKUP_SUSPICIOUS },
	{ "clean", LOOKUP_CLEAN }, { "not_available", LOOKUP_UNKNOWN },
};
static const struct word_status severity_words[] = {
	{ "malicious", LOOKUP_MALICIOUS }, { "blacklisted", LOOKUP_MALICIOUS },
	{ "suspicious", LOOKUP_SUSPICIOUS }, { "not_suspicious", LOOKUP_CLEAN },
	{ "whitelisted", LOOKUP_CLEAN }, { "unknown", LOOKUP_UNKNOWN },
};

static enum lookup_status word_status(const struct word_status *table, size_t n,
				      const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].word, word) == 0)
			return table[i].status;
	return LOOKUP_UNKNOWN;	/* a word the document does not list: never clean */
}

bool vmray_sample_status(const cJSON *sample, enum lookup_status *status, const char **word)
{
	const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(sample, "sample_verdict");
	const cJSON *severity = cJSON_GetObjectItemCaseSensitive(sample, "sample_severity");

	if (cJSON_IsString(verdict)) {
		*word = verdict->valuestring;
		*status = word_status(verdict_words, G_N_ELEMENTS(verdict_words), *word);
		return true;
	}
	if (cJSON_IsString(severity)) {
		*word = severity->valuestring;
		*status = word_status(severity_words, G_N_ELEMENTS(severity_words), *word);
		return true;
	}
	return false;
}

bool vmray_sample_running(const cJSON *sample)
{
	const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(sample, "sample_verdict");

	return cJSON_IsString(verdict) && strcmp(verdict->valuestring, "not_available") == 0;
}

/* A score as text: an int, or a string ("suspicious", §1 pitfall). */
static char *score_text(const cJSON *sample)
{
	static const char *const fields[] = { "sample_score", "sample_vti_score",
					      "sample_highest_vti_score" };

	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(sample, fields[i]);

		if (cJSON_IsNumber(item) && isfinite(item->valuedouble) &&
		    fabs(item->valuedouble) < 1e9)
			return g_strdup_printf("%.0f", item->valuedouble);
		if (cJSON_IsString(item) && item->valuestring[0] != '\0')
			return provider_printable(item->valuestring, 24);
	}
	return NULL;
}

char *vmray_sample_details(const cJSON *sample, const char *word)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(sample, "sample_threat_names");
	const cJSON *first = cJSON_GetArrayItem(names, 0);
	char *w = provider_printable(word, 32);
	char *score = score_text(sample);
	char *threat = cJSON_IsString(first) ? provider_printable(first->valuestring, 64) : NULL;
	GString *out = g_string_new(w ? w : "no verdict");

	if (score != NULL)
		g_string_append_printf(out, ", score %s", score);
	if (threat != NULL)
		g_string_append_printf(out, ", %s", threat);
	for (gsize i = 0; i < out->len; i++)
		if (out->str[i] == ';')
			out->str[i] = ',';
	g_free(w);
	g_free(score);
	g_free(threat);
	return g_string_free(out, FALSE);
}
