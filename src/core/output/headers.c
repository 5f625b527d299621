/* headers.c: building, defanging, sanitising and folding our headers. */
#include <autoconfig.h>
#include "output/headers.h"

#include <string.h>
#include <glib.h>

#include "config/config.h"
#include "config/integrations.h"

static const char *const header_suffixes[] = { "Verdict", "Report", "Scanned", "Filter" };

char *header_sanitize(const char *text, size_t max)
{
	GString *out = g_string_new(NULL);
	bool space = false;

	for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			space = out->len > 0;
			continue;
		}
		if (space) {
			g_string_append_c(out, ' ');
			space = false;
		}
		g_string_append_c(out, *p >= 0x21 && *p < 0x7f ? (char)*p : '?');
		/* A UTF-8 sequence becomes one '?', not one per byte. */
		if (*p >= 0xc0)
			while ((p[1] & 0xc0) == 0x80)
				p++;
	}
	if (max >= 4 && out->len > max) {
		g_string_truncate(out, max - 3);
		g_string_append(out, "...");
	}
	return g_string_free(out, FALSE);
}

static void defang_host_dots(GString *out, const char *host, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (host[i] == '.')
			g_string_append(out, "[.]");
		else
			g_string_append_c(out, host[i]);
	}
}

char *indicator_defang(const char *indicator, enum indicator_kind kind)
{
	GString *out = g_string_new(NULL);

	if (kind == INDICATOR_DOMAIN) {
		defang_host_dots(out, indicator, strlen(indicator));
	} else if (kind == INDICATOR_URL) {
		const char *rest = indicator;
		const char *sep = strstr(indicator, "://");

		if (sep != NULL) {
			const char *scheme_end = sep;

			if (g_ascii_strncasecmp(indicator, "http", 4) == 0) {
				g_string_append(out, "hxxp");
				rest = indicator + 4;
			} else if (g_ascii_strncasecmp(indicator, "ftp", 3) == 0) {
				g_string_append(out, "fxp");
				rest = indicator + 3;
			}
			g_string_append_len(out, rest, scheme_end - rest);
			g_string_append(out, "://");
			rest = sep + 3;
		}
		size_t host_len = strcspn(rest, "/?#");
		defang_host_dots(out, rest, host_len);
		g_string_append(out, rest + host_len);
	} else {
		g_string_append(out, indicator);
	}
	return g_string_free(out, FALSE);
}

char *header_fold(const char *name, GPtrArray *items, const char *separator)
{
	GString *out = g_string_new(NULL);
	size_t column = strlen(name) + 2;	/* "Name: " */

	for (guint i = 0; i < items->len; i++) {
		const char *item = g_ptr_array_index(items, i);
		size_t need = strlen(item) + (i + 1 < items->len ? strlen(separator) : 0);

		if (i > 0) {
			if (column + 1 + need > 78) {
				g_string_append(out, "\n\t");
				column = 8;
			} else {
				g_string_append_c(out, ' ');
				column++;
			}
		}
		g_string_append(out, item);
		if (i + 1 < items->len)
			g_string_append(out, separator);
		column += need;
		if (out->len > HEADER_VALUE_MAX) {
			/* never end inside a fold: a cut between its "\n" and
			 * "\t" would leave an unfolded line that MTAs read as
			 * the end of the header or a new field */
			g_string_truncate(out, HEADER_VALUE_MAX - 3);
			while (out->len > 0 && g_ascii_isspace(out->str[out->len - 1]))
				g_string_truncate(out, out->len - 1);
			g_string_append(out, "...");
			break;
		}
	}
	return g_string_free(out, FALSE);
}

/* Findings worth reporting, worst first: malicious, suspicious, then
 * failures (so that a downstream rule can tell "unknown" causes). */
static int report_rank(enum lookup_status status)
{
	unsigned worst = lookup_status_severity(LOOKUP_MALICIOUS);
	unsigned s = lookup_status_severity(status);

	/* 0 malicious ... 5 invalid; -1: not reported (skipped, unknown, clean) */
	return s >= lookup_status_severity(LOOKUP_INVALID) ? (int)(worst - s) : -1;
}

static char *report_entry(const struct lookup *lookup)
{
	char *defanged = indicator_defang(lookup->indicator, lookup->kind);
	const char *details = lookup->result.details;
	char *raw;

	if (lookup->result.status == LOOKUP_ERROR || lookup->result.status == LOOKUP_RATE_LIMITED ||
	    lookup->result.status == LOOKUP_INVALID)
		raw = g_strdup_printf("%s %s=%s %s%s%s", lookup->integration->name,
				      indicator_kind_name(lookup->kind), defanged,
				      verdict_outcome_word(&lookup->result),
				      details ? ":" : "", details ? details : "");
	else
		raw = g_strdup_printf("%s %s=%s %s", lookup->integration->name,
				      indicator_kind_name(lookup->kind), defanged,
				      details ? details : lookup_status_name(lookup->result.status));
	char *clean = header_sanitize(raw, 300);
	g_free(raw);
	g_free(defanged);
	return clean;
}

char *verdict_limits_text(unsigned limits)
{
	GString *text = g_string_new(NULL);

	limits &= VERDICT_LIMITS;
	for (unsigned bit = 1; bit != 0 && bit <= limits; bit <<= 1) {
		if (!(limits & bit))
			continue;
		g_string_append_printf(text, "%s%s", text->len ? "," : "",
				       bit == PLAN_LIMIT_MAX_INDICATORS ? "max_indicators"
								       : facts_limit_name(bit));
	}
	return g_string_free(text, FALSE);
}

static char *build_report(const struct judgement *judgement, const char *name)
{
	GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
	unsigned listed = 0, more = 0;

	if (judgement->summary.limits != 0) {
		char *limits = verdict_limits_text(judgement->summary.limits);

		g_ptr_array_add(items, g_strdup_printf("limit hit: %s", limits));
		if (judgement->summary.dropped > 0)
			g_ptr_array_add(items, g_strdup_printf("%u indicators not asked",
							       judgement->summary.dropped));
		g_free(limits);
	}
	for (int rank = 0; rank <= 5; rank++) {
		for (guint i = 0; i < judgement->lookups->len; i++) {
			const struct lookup *lookup = g_ptr_array_index(judgement->lookups, i);

			if (report_rank(lookup->result.status) != rank)
				continue;
			if (listed < HEADER_REPORT_MAX_ENTRIES) {
				g_ptr_array_add(items, report_entry(lookup));
				listed++;
			} else {
				more++;
			}
		}
	}
	if (more > 0)
		g_ptr_array_add(items, g_strdup_printf("+%u more", more));
	if (items->len == 0 && judgement->summary.unjudged > 0)
		g_ptr_array_add(items, g_strdup_printf("%u of %u indicators not judged",
						       judgement->summary.unjudged,
						       judgement->summary.indicators));
	/* without lookups the message may still have indicators that no
	 * active integration takes (a fresh install): do not deny them */
	if (items->len == 0)
		g_ptr_array_add(items, g_strdup(judgement->lookups->len > 0 ? "no findings"
				: "nothing looked up: no indicator that an active integration takes"));
	char *value = header_fold(name, items, ";");
	g_ptr_array_unref(items);
	return value;
}

void verdict_headers_build(const struct judgement *judgement, const struct tm_config *cfg,
			   const char *hostname, struct verdict_headers *out)
{
	const struct verdict_summary *s = &judgement->summary;
	const char *prefix = cfg->header_prefix ? cfg->header_prefix : "X-Threat-";
	char *host = header_sanitize(hostname ? hostname : "localhost", 200);

	out->verdict.name = g_strconcat(prefix, header_suffixes[0], NULL);
	out->report.name = g_strconcat(prefix, header_suffixes[1], NULL);
	out->scanned.name = g_strconcat(prefix, header_suffixes[2], NULL);
	out->verdict.value = g_strdup(verdict_name(s->verdict));
	out->report.value = build_report(judgement, out->report.name);
	out->scanned.value = g_strdup_printf("%s %s on %s;%s %u lookups, %u cached, %" G_GINT64_FORMAT " ms",
				       PACKAGE_NAME, PACKAGE_VERSION, host,
				       judgement->reported ? " reported message;" : "",
				       s->lookups, s->cached, judgement->elapsed_ms);
	g_free(host);
}

static void header_field_clear(struct header_field *field)
{
	g_free(field->name);
	g_free(field->value);
}

void verdict_headers_clear(struct verdict_headers *headers)
{
	header_field_clear(&headers->verdict);
	header_field_clear(&headers->report);
	header_field_clear(&headers->scanned);
	memset(headers, 0, sizeof(*headers));
}

bool header_is_ours(const struct tm_config *cfg, const char *name)
{
	const char *prefix = cfg->header_prefix ? cfg->header_prefix : "X-Threat-";
	size_t plen = strlen(prefix);

	if (g_ascii_strncasecmp(name, prefix, plen) != 0)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(header_suffixes); i++)
		if (g_ascii_strcasecmp(name + plen, header_suffixes[i]) == 0)
			return true;
	return false;
}
