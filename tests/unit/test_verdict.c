/* test_verdict.c: fail closed in planning and judging (issue 17, items
 * 2, 3, 4, 5, 8; issue 18.11): what may be called clean, what can be
 * asked, how many indicators are asked and which, and the words used. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "config/config.h"
#include "config/integrations.h"
#include "lookup/askable.h"
#include "lookup/judge.h"
#include "lookup/plan.h"
#include "output/decide.h"
#include "output/eom.h"
#include "output/headers.h"
#include "providers/registry.h"

static struct integration test_integration = { .name = "vt-main" };

static struct lookup *make_lookup(enum indicator_kind kind, const char *indicator,
				  enum lookup_status status, enum lookup_error error,
				  const char *details)
{
	struct lookup *l = g_new0(struct lookup, 1);

	l->integration = &test_integration;
	l->kind = kind;
	l->indicator = g_strdup(indicator);
	l->result.status = status;
	l->result.error = error;
	l->result.details = details ? g_strdup(details) : NULL;
	return l;
}

static enum tm_event event_of(GPtrArray *lookups, struct verdict_summary *s)
{
	struct judgement j = { .lookups = lookups };

	verdict_compute((struct lookup *const *)lookups->pdata, lookups->len, &j.summary);
	*s = j.summary;
	return decide_event(&j);
}

/* 17.5: the IP's clean answer does not cover the URL that timed out. */
static void test_17_5_clean_only_when_every_indicator_judged(void **state)
{
	(void)state;
	struct verdict_summary s;
	GPtrArray *l = plan_array_new();

	g_ptr_array_add(l, make_lookup(INDICATOR_IP, "203.0.113.7", LOOKUP_CLEAN, 0, "not listed"));
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://payload.example/", LOOKUP_ERROR,
				       LOOKUP_ERR_TIMEOUT, "deadline"));
	assert_int_equal(event_of(l, &s), EVENT_TIMEOUT);
	assert_int_equal(s.verdict, VERDICT_UNKNOWN);
	assert_int_equal(s.unjudged, 1);
	g_ptr_array_unref(l);

	/* the same URL judged by another integration: covered, clean */
	l = plan_array_new();
	g_ptr_array_add(l, make_lookup(INDICATOR_IP, "203.0.113.7", LOOKUP_CLEAN, 0, NULL));
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_ERROR,
				       LOOKUP_ERR_PROVIDER, "HTTP 500"));
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_CLEAN, 0, NULL));
	assert_int_equal(event_of(l, &s), EVENT_CLEAN);
	g_ptr_array_unref(l);

	/* a sandbox job not finished, alone: unknown, not clean */
	l = plan_array_new();
	g_ptr_array_add(l, make_lookup(INDICATOR_IP, "203.0.113.7", LOOKUP_CLEAN, 0, NULL));
	g_ptr_array_add(l, make_lookup(INDICATOR_HASH, "ab12", LOOKUP_PENDING, 0, "job 7"));
	assert_int_equal(event_of(l, &s), EVENT_UNKNOWN);
	assert_int_equal(s.verdict, VERDICT_UNKNOWN);
	g_ptr_array_unref(l);

	/* malicious stands whatever is missing */
	l = plan_array_new();
	g_ptr_array_add(l, make_lookup(INDICATOR_IP, "203.0.113.7", LOOKUP_MALICIOUS, 0, "SBL"));
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://b.example/", LOOKUP_ERROR,
				       LOOKUP_ERR_TIMEOUT, NULL));
	assert_int_equal(event_of(l, &s), EVENT_MALICIOUS);
	g_ptr_array_unref(l);
}

/* 17.5: the kind of failure is result.error, never the details text. */
static void test_17_5_error_kind_from_result_error(void **state)
{
	(void)state;
	struct verdict_summary s;
	GPtrArray *l = plan_array_new();

	/* a provider's text that happens to say "timeout" is not one */
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_ERROR,
				       LOOKUP_ERR_PROVIDER, "upstream timeout reported by API"));
	assert_int_equal(event_of(l, &s), EVENT_PROVIDER_ERROR);
	assert_int_equal(s.timeouts, 0);
	g_ptr_array_unref(l);

	l = plan_array_new();
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_ERROR,
				       LOOKUP_ERR_TIMEOUT, "no answer"));
	assert_int_equal(event_of(l, &s), EVENT_TIMEOUT);
	g_ptr_array_unref(l);
}

/* 18.11: the log says timeout and paused, not error. */
static void test_18_11_log_words(void **state)
{
	(void)state;
	struct lookup_result timeout = { .status = LOOKUP_ERROR, .error = LOOKUP_ERR_TIMEOUT };
	struct lookup_result paused = { .status = LOOKUP_ERROR, .error = LOOKUP_ERR_PAUSED };
	struct lookup_result failed = { .status = LOOKUP_ERROR, .error = LOOKUP_ERR_PROVIDER };
	struct lookup_result clean = { .status = LOOKUP_CLEAN };

	assert_string_equal(verdict_outcome_word(&timeout), "timeout");
	assert_string_equal(verdict_outcome_word(&paused), "paused");
	assert_string_equal(verdict_outcome_word(&failed), "error");
	assert_string_equal(verdict_outcome_word(&clean), "clean");

	/* in the summary line */
	struct tm_config *cfg = config_defaults();
	struct integration a = { .name = "slow" }, b = { .name = "stopped" };
	struct eom_input in = { .cfg = cfg, .queue_id = "Q1" };
	struct eom_outcome out = { .event = EVENT_TIMEOUT };
	struct lookup *la = make_lookup(INDICATOR_IP, "203.0.113.7", LOOKUP_ERROR,
					LOOKUP_ERR_TIMEOUT, NULL);
	struct lookup *lb = make_lookup(INDICATOR_IP, "203.0.113.7", LOOKUP_ERROR,
					LOOKUP_ERR_PAUSED, NULL);

	la->integration = &a;
	la->result.latency_ms = 5003;
	lb->integration = &b;
	lb->result.latency_ms = 1;
	out.judgement.lookups = plan_array_new();
	g_ptr_array_add(out.judgement.lookups, la);
	g_ptr_array_add(out.judgement.lookups, lb);
	char *line = eom_summary_line(&in, &out);
	assert_non_null(strstr(line, " slow=timeout/5003ms"));
	assert_non_null(strstr(line, " stopped=paused/1ms"));
	g_free(line);
	eom_outcome_clear(&out);
	config_unref(cfg);
}

/* Breaker2 F6: the log line named "clean" for an integration whose other
 * lookup failed (the worst was the lowest enum value, and clean sorts
 * before error); malicious still outranks a failure. */
static void test_log_line_worst_result_is_a_failure_over_clean(void **state)
{
	(void)state;
	struct tm_config *cfg = config_defaults();
	struct integration dns = { .name = "spamhaus" }, vt = { .name = "vt" };
	struct eom_input in = { .cfg = cfg, .queue_id = "Q2" };
	struct eom_outcome out = { .event = EVENT_PROVIDER_ERROR };
	struct lookup *l[4] = {
		make_lookup(INDICATOR_IP, "203.0.113.7", LOOKUP_CLEAN, 0, NULL),
		make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_ERROR,
			    LOOKUP_ERR_PROVIDER, "SERVFAIL"),
		make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_ERROR,
			    LOOKUP_ERR_PROVIDER, NULL),
		make_lookup(INDICATOR_URL, "http://b.example/", LOOKUP_MALICIOUS, 0, NULL),
	};

	l[0]->integration = l[1]->integration = &dns;
	l[2]->integration = l[3]->integration = &vt;
	out.judgement.lookups = plan_array_new();
	for (int i = 0; i < 4; i++)
		g_ptr_array_add(out.judgement.lookups, l[i]);
	char *line = eom_summary_line(&in, &out);
	assert_non_null(strstr(line, " spamhaus=error/"));
	assert_non_null(strstr(line, " vt=malicious/"));
	g_free(line);
	eom_outcome_clear(&out);
	config_unref(cfg);
}

/* ------------------------------------------------------------ planning */

static struct tm_config *config_with(struct integration *in)
{
	struct tm_config *cfg = config_defaults();

	g_ptr_array_set_size(cfg->integrations, 0);
	g_ptr_array_add(cfg->integrations, in);
	return cfg;
}

static struct integration *dbl_integration(void)
{
	struct integration *in = integration_default_spamhaus();

	in->urls = true;
	in->sender_ip = true;
	in->active = true;
	return in;
}

static struct lookup *find(GPtrArray *lookups, enum indicator_kind kind, const char *ind)
{
	for (guint i = 0; i < lookups->len; i++) {
		struct lookup *l = g_ptr_array_index(lookups, i);

		if (l->kind == kind && strcmp(l->indicator, ind) == 0)
			return l;
	}
	return NULL;
}

/* 17.3: what no resolver can ask is refused at planning, not sent. */
static void test_17_3_invalid_indicators_refused_at_planning(void **state)
{
	(void)state;
	const char *why;
	char label64[65], url[3000], longname[300];

	memset(label64, 'a', 64);
	label64[64] = '\0';
	assert_false(askable_dns_name(label64, &why));
	assert_string_equal(why, "label over 63 characters");
	label64[63] = '\0';
	assert_true(askable_dns_name(label64, &why));
	for (int i = 0; i < 290; i += 2)
		memcpy(longname + i, "a.", 2);
	longname[290] = '\0';
	assert_false(askable_dns_name(longname, &why));
	assert_false(askable_dns_name("ex ample.com", &why));
	assert_false(askable_dns_name("a..b", &why));

	struct integration *in = dbl_integration();
	struct tm_config *cfg = config_with(in);
	struct facts *facts = facts_new();
	memset(label64, 'b', 64);
	label64[64] = '\0';
	char *bad = g_strdup_printf("http://%s.example.com/x", label64);
	/* fits alone (250) but not with the zone appended */
	char *near = g_strdup_printf("http://%s/", longname + 40);
	snprintf(url, sizeof(url), "http://ok.example.org/");
	g_ptr_array_add(facts->urls, g_strdup(bad));
	g_ptr_array_add(facts->urls, g_strdup(near));
	g_ptr_array_add(facts->urls, g_strdup(url));

	struct judgement j;
	judge_message(NULL, cfg, facts, false, &j);
	char *host = g_strdup_printf("%s.example.com", label64);
	struct lookup *l = find(j.lookups, INDICATOR_DOMAIN, host);
	assert_non_null(l);
	assert_int_equal(l->result.status, LOOKUP_INVALID);
	assert_string_equal(l->result.details, "label over 63 characters");
	l = find(j.lookups, INDICATOR_DOMAIN, longname + 40);
	assert_non_null(l);
	assert_int_equal(l->result.status, LOOKUP_INVALID);
	l = find(j.lookups, INDICATOR_DOMAIN, "ok.example.org");
	assert_non_null(l);
	assert_int_equal(l->result.status, LOOKUP_SKIPPED);
	/* never clean with an indicator nobody could judge */
	assert_int_equal(j.summary.verdict, VERDICT_UNKNOWN);
	assert_int_equal(j.summary.invalid, 2);
	judgement_clear(&j);
	g_free(host);
	g_free(bad);
	g_free(near);
	facts_free(facts);
	config_unref(cfg);
}

static struct facts *padded_message(const char *domain, unsigned n, const char *payload)
{
	static unsigned serial;
	struct facts *f = facts_new();

	for (unsigned i = 0; i < n; i++)
		g_ptr_array_add(f->urls, g_strdup_printf("http://%s/page%06u", domain, serial++));
	if (payload != NULL)
		g_ptr_array_add(f->urls, g_strdup(payload));
	return f;
}

/* 17.2 and 17.4: one budget for all reported messages together; padding
 * one domain does not push a payload out; the limit is never clean. */
static void test_17_2_max_indicators_over_all_messages(void **state)
{
	(void)state;
	struct integration *in = dbl_integration();
	struct tm_config *cfg = config_with(in);
	struct facts *top = facts_new();

	cfg->max_indicators = 50;
	in->hide_url_parameters = false;
	for (int m = 0; m < 20; m++)
		g_ptr_array_add(top->reported, padded_message("aaa-padding.example", 40,
							      m == 19 ? "http://zz-payload.example/login"
								      : NULL));
	struct plan plan;
	const struct facts *roots[] = { top };

	plan_build(roots, 1, cfg, &plan);
	assert_int_equal(plan.indicators->len, 50);
	assert_int_equal(plan.dropped, 20 * 40 + 1 - 50);
	assert_true(plan.limits & PLAN_LIMIT_MAX_INDICATORS);
	bool payload = false;
	for (guint i = 0; i < plan.indicators->len; i++) {
		const struct plan_indicator *ind = g_ptr_array_index(plan.indicators, i);

		payload |= strcmp(ind->value, "http://zz-payload.example/login") == 0;
	}
	assert_true(payload);
	plan_clear(&plan);

	/* all asked were clean: the limit makes it unknown, On-Limit */
	struct judgement j;
	judge_message(NULL, cfg, top, false, &j);
	for (guint i = 0; i < j.lookups->len; i++)
		((struct lookup *)g_ptr_array_index(j.lookups, i))->result.status = LOOKUP_CLEAN;
	struct plan again = { .lookups = j.lookups, .indicators = j.indicators,
			      .limits = PLAN_LIMIT_MAX_INDICATORS, .dropped = 751 };
	verdict_compute_plan(&again, &j.summary);
	assert_int_equal(j.summary.verdict, VERDICT_UNKNOWN);
	assert_int_equal(decide_event(&j), EVENT_LIMIT);
	assert_int_equal(cfg->on[EVENT_LIMIT], ACTION_TAG);

	struct verdict_headers h;
	verdict_headers_build(&j, cfg, "mx", &h);
	assert_string_equal(h.verdict.value, "unknown");
	assert_non_null(strstr(h.report.value, "limit hit: max_indicators"));
	assert_non_null(strstr(h.report.value, "751 indicators not asked"));
	verdict_headers_clear(&h);
	judgement_clear(&j);
	facts_free(top);
	config_unref(cfg);
}

/* 17.4: an analysis limit (1,000 harmless URLs before the payload) is
 * never clean, and the report names it. */
static void test_17_4_analysis_limit_never_clean(void **state)
{
	(void)state;
	struct integration *in = dbl_integration();
	struct tm_config *cfg = config_with(in);
	struct facts *f = padded_message("harmless.example", 10, NULL);
	struct judgement j;

	f->limits |= LIMIT_MAX_URLS;
	f->urls_dropped = 1;
	judge_message(NULL, cfg, f, false, &j);
	for (guint i = 0; i < j.lookups->len; i++)
		((struct lookup *)g_ptr_array_index(j.lookups, i))->result.status = LOOKUP_CLEAN;
	struct plan again = { .lookups = j.lookups, .indicators = j.indicators,
			      .limits = f->limits };
	verdict_compute_plan(&again, &j.summary);
	assert_int_equal(j.summary.verdict, VERDICT_UNKNOWN);
	assert_int_equal(decide_event(&j), EVENT_LIMIT);
	struct verdict_headers h;
	verdict_headers_build(&j, cfg, "mx", &h);
	assert_non_null(strstr(h.report.value, "limit hit: max_urls"));
	verdict_headers_clear(&h);
	judgement_clear(&j);
	facts_free(f);
	config_unref(cfg);
}

/* A message with URLs that no active integration takes (a fresh install,
 * every integration inactive) was reported as "no indicators to look
 * up": the administrator read that the mail had none. */
static void test_report_without_lookups_does_not_deny_indicators(void **state)
{
	(void)state;
	struct integration *in = dbl_integration();
	struct tm_config *cfg;
	struct facts *f = padded_message("harmless.example", 2, NULL);
	struct judgement j;
	struct verdict_headers h;

	in->active = false;
	cfg = config_with(in);
	judge_message(NULL, cfg, f, false, &j);
	assert_int_equal(j.lookups->len, 0);
	verdict_headers_build(&j, cfg, "mx", &h);
	assert_string_equal(h.verdict.value, "unknown");
	assert_null(strstr(h.report.value, "no indicators"));
	assert_non_null(strstr(h.report.value, "nothing looked up"));
	verdict_headers_clear(&h);
	judgement_clear(&j);
	facts_free(f);
	config_unref(cfg);
}

static void test_17_4_registrable_domain(void **state)
{
	(void)state;
	const char *cases[][2] = {
		{ "a.b.example.com", "example.com" }, { "www.bbc.co.uk", "bbc.co.uk" },
		{ "shop.example.de", "example.de" }, { "localhost", "localhost" },
		{ "203.0.113.7", "203.0.113.7" }, { "WWW.Example.COM.", "example.com" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *d = plan_domain_of(cases[i][0]);
		assert_string_equal(d, cases[i][1]);
		g_free(d);
	}
}

/* ------------------------------------------------------- internal error */

/* Inserted and added fields as "Name: value"; changes are not kept. */
static bool rec_header(void *ctx, enum header_edit edit, unsigned index, const char *name,
		       const char *value)
{
	(void)index;
	if (edit != HEADER_CHANGE)
		g_ptr_array_add(ctx, g_strdup_printf("%s: %s", name, value));
	return true;
}

static bool rec_quarantine(void *ctx, const char *reason)
{
	(void)ctx; (void)reason;
	return true;
}

static bool rec_reply(void *ctx, const char *r, const char *x, const char *t)
{
	(void)ctx; (void)r; (void)x; (void)t;
	return true;
}

static const struct eom_ops recorder = { .header = rec_header, .quarantine = rec_quarantine,
					 .set_reply = rec_reply };

/* 17.8: a message that could not be stored says so, never "authenticated
 * client". */
static void test_17_8_internal_error_reports_itself(void **state)
{
	(void)state;
	struct tm_config *cfg = config_defaults();
	GPtrArray *ops = g_ptr_array_new_with_free_func(g_free);
	struct eom_outcome out;
	struct eom_input in = {
		.cfg = cfg, .size = 2000000, .queue_id = "Q8",
		.error = "cannot create a spool file in /nonexistent: No such file or directory",
	};

	eom_process(&in, &recorder, ops, &out);
	assert_int_equal(out.event, EVENT_INTERNAL_ERROR);
	assert_non_null(strstr(out.reason, "On-InternalError"));
	assert_non_null(strstr(out.reason, "/nonexistent"));
	bool found = false;
	for (guint i = 0; i < ops->len; i++) {
		const char *op = g_ptr_array_index(ops, i);

		assert_null(strstr(op, "authenticated"));
		found |= strcmp(op, "X-Threat-Report: not scanned: internal error") == 0;
	}
	assert_true(found);
	eom_outcome_clear(&out);
	g_ptr_array_unref(ops);
	config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_17_5_clean_only_when_every_indicator_judged),
		cmocka_unit_test(test_17_5_error_kind_from_result_error),
		cmocka_unit_test(test_18_11_log_words),
		cmocka_unit_test(test_log_line_worst_result_is_a_failure_over_clean),
		cmocka_unit_test(test_17_3_invalid_indicators_refused_at_planning),
		cmocka_unit_test(test_17_2_max_indicators_over_all_messages),
		cmocka_unit_test(test_17_4_analysis_limit_never_clean),
		cmocka_unit_test(test_17_4_registrable_domain),
		cmocka_unit_test(test_report_without_lookups_does_not_deny_indicators),
		cmocka_unit_test(test_17_8_internal_error_reports_itself),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
