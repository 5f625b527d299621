/* test_actions.c: what the milter does with a judged message -- events,
 * SMTP replies, our headers (defanged, sanitised, folded), the body
 * buffer -- and the end-of-message pipeline through recording eom_ops,
 * exactly as the daemon drives it through smfi_*. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "analysis/analyze.h"
#include "config/config.h"
#include "output/decide.h"
#include "output/eom.h"
#include "output/headers.h"
#include "config/integrations.h"
#include "util/msgbuf.h"
#include "util/nodelay.h"
#include "lookup/plan.h"

/* ------------------------------------------------------------ helpers */

static struct integration test_integration = { .name = "vt-main" };

static struct lookup *make_lookup(enum indicator_kind kind, const char *indicator,
				  enum lookup_status status, const char *details)
{
	struct lookup *l = g_new0(struct lookup, 1);

	l->integration = &test_integration;
	l->kind = kind;
	l->indicator = g_strdup(indicator);
	l->result.status = status;
	l->result.details = details ? g_strdup(details) : NULL;
	return l;
}

static void judged(struct judgement *j, GPtrArray *lookups)
{
	memset(j, 0, sizeof(*j));
	j->lookups = lookups;
	verdict_compute((struct lookup *const *)lookups->pdata, lookups->len, &j->summary);
}

/* ------------------------------------------------------------ events */

static void test_events(void **state)
{
	(void)state;
	struct judgement j;
	GPtrArray *l;

	l = plan_array_new();
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_CLEAN, NULL));
	g_ptr_array_add(l, make_lookup(INDICATOR_IP, "192.0.2.1", LOOKUP_MALICIOUS, "SBL"));
	judged(&j, l);
	assert_int_equal(decide_event(&j), EVENT_MALICIOUS);
	judgement_clear(&j);

	l = plan_array_new();
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_ERROR, "deadline"));
	((struct lookup *)g_ptr_array_index(l, 0))->result.error = LOOKUP_ERR_TIMEOUT;
	judged(&j, l);
	assert_int_equal(decide_event(&j), EVENT_TIMEOUT);
	judgement_clear(&j);

	l = plan_array_new();
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_ERROR, "HTTP 500"));
	judged(&j, l);
	assert_int_equal(decide_event(&j), EVENT_PROVIDER_ERROR);
	judgement_clear(&j);

	l = plan_array_new();
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_RATE_LIMITED, NULL));
	judged(&j, l);
	assert_int_equal(decide_event(&j), EVENT_PROVIDER_ERROR);
	judgement_clear(&j);

	l = plan_array_new();
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_UNKNOWN, NULL));
	judged(&j, l);
	assert_int_equal(decide_event(&j), EVENT_UNKNOWN);
	judgement_clear(&j);

	/* a decided clean wins over another provider's error */
	l = plan_array_new();
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_ERROR, "HTTP 500"));
	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "http://a.example/", LOOKUP_CLEAN, NULL));
	judged(&j, l);
	assert_int_equal(decide_event(&j), EVENT_CLEAN);
	judgement_clear(&j);
}

/* ------------------------------------------------------------ replies */

static void test_replies(void **state)
{
	(void)state;
	struct smtp_reply r;

	decide_reply("5.7.1 Message rejected: %v content detected", ACTION_REJECT, "malicious", &r);
	assert_string_equal(r.rcode, "550");
	assert_string_equal(r.xcode, "5.7.1");
	assert_string_equal(r.text, "Message rejected: malicious content detected");
	smtp_reply_clear(&r);

	/* the same text as a tempfail is a 4xx, never a 5xx */
	decide_reply("5.7.1 Message rejected: %v content detected", ACTION_TEMPFAIL, "unknown", &r);
	assert_string_equal(r.rcode, "451");
	assert_string_equal(r.xcode, "4.7.1");
	assert_string_equal(r.text, "Message rejected: unknown content detected");
	smtp_reply_clear(&r);

	decide_reply("554 5.7.0 No thanks (100%% sure)", ACTION_REJECT, "x", &r);
	assert_string_equal(r.rcode, "554");
	assert_string_equal(r.xcode, "5.7.0");
	assert_string_equal(r.text, "No thanks (100% sure)");
	smtp_reply_clear(&r);

	decide_reply("", ACTION_REJECT, "x", &r);
	assert_string_equal(r.rcode, "550");
	assert_string_equal(r.text, "Message rejected");
	smtp_reply_clear(&r);

	/* control characters never reach the SMTP reply */
	decide_reply("5.7.1 bad\r\nInjected: yes", ACTION_REJECT, "x", &r);
	assert_null(strchr(r.text, '\r'));
	assert_null(strchr(r.text, '\n'));
	smtp_reply_clear(&r);
}

/* ------------------------------------------------------------ headers */

static void test_sanitize_and_defang(void **state)
{
	(void)state;
	char *s;

	s = header_sanitize("a\r\nX-Threat-Verdict: clean\tb  c", 100);
	assert_string_equal(s, "a X-Threat-Verdict: clean b c");
	g_free(s);
	s = header_sanitize("caf\xc3\xa9 \xe2\x80\x8b!", 100);
	assert_string_equal(s, "caf? ?!");
	g_free(s);
	s = header_sanitize("0123456789abcdef", 10);
	assert_string_equal(s, "0123456...");
	assert_int_equal(strlen(s), 10);
	g_free(s);

	s = indicator_defang("https://login.evil.example/a.b?c=d.e", INDICATOR_URL);
	assert_string_equal(s, "hxxps://login[.]evil[.]example/a.b?c=d.e");
	g_free(s);
	s = indicator_defang("evil.example", INDICATOR_DOMAIN);
	assert_string_equal(s, "evil[.]example");
	g_free(s);
	s = indicator_defang("203.0.113.7", INDICATOR_IP);
	assert_string_equal(s, "203.0.113.7");
	g_free(s);
}

static void test_fold(void **state)
{
	(void)state;
	GPtrArray *items = g_ptr_array_new();
	char *v;

	for (int i = 0; i < 6; i++)
		g_ptr_array_add(items, "virustotal url=hxxps://x[.]example/ 12/93");
	v = header_fold("X-Threat-Report", items, ";");
	/* every physical line stays within 78 columns */
	gchar **lines = g_strsplit(v, "\n", -1);
	assert_true(g_strv_length(lines) > 1);
	for (guint i = 0; lines[i]; i++) {
		size_t width = strlen(lines[i]) + (i == 0 ? strlen("X-Threat-Report: ") : 7);
		assert_true(width <= 78);
		if (i > 0)
			assert_int_equal(lines[i][0], '\t');
	}
	g_strfreev(lines);
	g_free(v);
	g_ptr_array_unref(items);
}

/* A report over HEADER_VALUE_MAX is cut: wherever the cut falls (items
 * of every length move it over each byte of a fold), every line break
 * stays a fold ("\n\t") and the value ends in "..." (breaker F1: a cut
 * between "\n" and "\t" left "\n..." as an unfolded line). */
static void test_report_fold_truncation_keeps_folds(void **state)
{
	(void)state;
	for (size_t len = 10; len < 160; len++) {
		GPtrArray *items = g_ptr_array_new_with_free_func(g_free);
		char *v;

		for (int i = 0; i < 400; i++)
			g_ptr_array_add(items, g_strnfill(len, 'a'));
		v = header_fold("X-Threat-Report", items, ";");
		assert_true(strlen(v) <= HEADER_VALUE_MAX);
		assert_true(g_str_has_suffix(v, "..."));
		for (const char *nl = strchr(v, '\n'); nl != NULL; nl = strchr(nl + 1, '\n'))
			assert_int_equal(nl[1], '\t');
		assert_false(g_ascii_isspace(v[strlen(v) - 4]));
		g_free(v);
		g_ptr_array_unref(items);
	}
}

static void test_verdict_headers(void **state)
{
	(void)state;
	struct tm_config *cfg = config_defaults();
	struct judgement j;
	struct verdict_headers h;
	GPtrArray *l = plan_array_new();

	g_ptr_array_add(l, make_lookup(INDICATOR_URL, "https://login.evil.example/\r\nX-Injected: 1",
				       LOOKUP_MALICIOUS, "12/93"));
	g_ptr_array_add(l, make_lookup(INDICATOR_IP, "203.0.113.7", LOOKUP_CLEAN, NULL));
	judged(&j, l);
	j.elapsed_ms = 182;
	verdict_headers_build(&j, cfg, "mx1", &h);
	assert_string_equal(h.verdict.name, "X-Threat-Verdict");
	assert_string_equal(h.verdict.value, "malicious");
	assert_non_null(strstr(h.report.value, "vt-main url=hxxps://login[.]evil[.]example/"));
	assert_non_null(strstr(h.report.value, "12/93"));
	assert_null(strstr(h.report.value, "\r"));
	assert_null(strstr(h.report.value, "203.0.113.7"));	/* clean results are not findings */
	assert_non_null(strstr(h.scanned.value, "on mx1; 2 lookups, 0 cached, 182 ms"));
	assert_true(header_is_ours(cfg, "x-threat-VERDICT"));
	assert_false(header_is_ours(cfg, "X-Threat-Verdicts"));
	verdict_headers_clear(&h);
	judgement_clear(&j);
	config_unref(cfg);
}

/* ------------------------------------------------------------ msgbuf */

static void test_msgbuf_spills_and_limits(void **state)
{
	(void)state;
	char err[256];
	struct msgbuf *buf = msgbuf_new(16, 40, "/tmp");

	assert_true(msgbuf_append(buf, "0123456789", 10, err, sizeof(err)));
	assert_false(msgbuf_spilled(buf));
	assert_true(msgbuf_append(buf, "0123456789", 10, err, sizeof(err)));
	assert_true(msgbuf_spilled(buf));
	assert_false(msgbuf_too_large(buf));
	assert_true(msgbuf_append(buf, "0123456789012345678901234567890", 31, err, sizeof(err)));
	assert_true(msgbuf_too_large(buf));
	assert_int_equal(msgbuf_size(buf), 51);

	GMimeStream *stream = msgbuf_stream(buf);
	char data[64];
	ssize_t n = g_mime_stream_read(stream, data, sizeof(data));
	assert_int_equal(n, 40);	/* only up to the limit is stored */
	assert_memory_equal(data, "01234567890123456789012345678901234567890", 40);
	g_object_unref(stream);
	msgbuf_free(buf);

	buf = msgbuf_new(16, 1024, "/nonexistent/dir");
	assert_false(msgbuf_append(buf, "01234567890123456789", 20, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir"));
	msgbuf_free(buf);

	/* F3: a limit of 0 is a bound like any other (it was "no limit":
	 * the daemon buffered without bound where `scan` said too large) */
	buf = msgbuf_new(16, 0, "/nonexistent/dir");
	assert_true(msgbuf_append(buf, "01234567890123456789", 20, err, sizeof(err)));
	assert_int_equal(msgbuf_size(buf), 20);
	assert_true(msgbuf_too_large(buf));	/* was false: "no limit" */
	stream = msgbuf_stream(buf);
	assert_int_equal(g_mime_stream_read(stream, data, sizeof(data)), 0);
	g_object_unref(stream);
	msgbuf_free(buf);
}

/* ------------------------------------------------------------ eom */

struct recorder {
	GPtrArray *ops;	/* "insert 0 Name: value", ... */
};

static bool rec_header(void *ctx, enum header_edit edit, unsigned index, const char *name,
		       const char *value)
{
	char *text = NULL;

	switch (edit) {
	case HEADER_INSERT:
		text = g_strdup_printf("insert %u %s: %s", index, name, value);
		break;
	case HEADER_CHANGE:
		text = g_strdup_printf("change %s %u %s", name, index, value ? value : "(delete)");
		break;
	case HEADER_ADD:
		text = g_strdup_printf("add %s: %s", name, value);
		break;
	}
	g_ptr_array_add(((struct recorder *)ctx)->ops, text);
	return true;
}

static bool rec_quarantine(void *ctx, const char *reason)
{
	g_ptr_array_add(((struct recorder *)ctx)->ops, g_strdup_printf("quarantine %s", reason));
	return true;
}

static bool rec_reply(void *ctx, const char *rcode, const char *xcode, const char *text)
{
	g_ptr_array_add(((struct recorder *)ctx)->ops,
			g_strdup_printf("reply %s %s %s", rcode, xcode, text));
	return true;
}

static const struct eom_ops recorder_ops = {
	.header = rec_header, .quarantine = rec_quarantine, .set_reply = rec_reply,
};

static const char message[] =
	"Received: from a.example (a.example [198.51.100.23]) by mx.example.net\r\n"
	"X-Threat-Verdict: clean\r\n"
	"x-threat-verdict: clean\r\n"
	"Subject: hello\r\n"
	"\r\n"
	"see https://www.example.org/page\r\n";

static void test_eom_removes_forged_and_adds_ours(void **state)
{
	(void)state;
	struct tm_config *cfg = config_defaults();
	struct recorder rec = { g_ptr_array_new_with_free_func(g_free) };
	struct eom_outcome out;
	struct eom_input in = {
		.cfg = cfg,
		.message = g_mime_stream_mem_new_with_buffer(message, sizeof(message) - 1),
		.size = sizeof(message) - 1,
		.subject = "hello",
		.own_header_counts = { 2, 0, 0, 1 },
		.queue_id = "TESTQ1",
	};

	eom_process(&in, &recorder_ops, &rec, &out);
	/* no engine: nothing decided */
	assert_int_equal(out.event, EVENT_UNKNOWN);
	assert_int_equal(out.action, ACTION_ACCEPT);
	assert_true(rec.ops->len >= 6);
	/* forged copies deleted last-first, before anything is added */
	assert_string_equal(g_ptr_array_index(rec.ops, 0), "change X-Threat-Verdict 2 (delete)");
	assert_string_equal(g_ptr_array_index(rec.ops, 1), "change X-Threat-Verdict 1 (delete)");
	assert_string_equal(g_ptr_array_index(rec.ops, 2), "change X-Threat-Filter 1 (delete)");
	assert_true(g_str_has_prefix(g_ptr_array_index(rec.ops, 3), "insert 0 X-Threat-Scanned: "));
	assert_true(g_str_has_prefix(g_ptr_array_index(rec.ops, 4), "insert 0 X-Threat-Report: "));
	assert_string_equal(g_ptr_array_index(rec.ops, 5), "insert 0 X-Threat-Verdict: unknown");
	/* SoftwareHeader no (default): no Filter header */
	for (guint i = 0; i < rec.ops->len; i++)
		assert_null(strstr(g_ptr_array_index(rec.ops, i), "insert 0 X-Threat-Filter"));
	assert_non_null(out.facts);
	assert_string_equal(out.facts->sender_ip, "198.51.100.23");

	char *line = eom_summary_line(&in, &out);
	assert_non_null(strstr(line, "TESTQ1: "));
	assert_non_null(strstr(line, "action=accept"));
	assert_true(strlen(line) < 1024);
	g_free(line);
	eom_outcome_clear(&out);
	g_object_unref(in.message);
	g_ptr_array_unref(rec.ops);
	config_unref(cfg);
}

static void test_eom_client_ip_and_actions(void **state)
{
	(void)state;
	struct tm_config *cfg = config_defaults();
	struct recorder rec = { g_ptr_array_new_with_free_func(g_free) };
	struct eom_outcome out;
	struct eom_input in = {
		.cfg = cfg,
		.message = g_mime_stream_mem_new_with_buffer(message, sizeof(message) - 1),
		.client_ip = "203.0.113.99",
		.subject = "hello",
		.queue_id = "TESTQ2",
	};

	/* unknown -> tempfail: reply set, no headers added */
	cfg->on[EVENT_UNKNOWN] = ACTION_TEMPFAIL;
	eom_process(&in, &recorder_ops, &rec, &out);
	assert_string_equal(out.facts->sender_ip, "203.0.113.99");	/* the client, not Received */
	assert_int_equal(rec.ops->len, 1);
	assert_true(g_str_has_prefix(g_ptr_array_index(rec.ops, 0), "reply 451 4.7.1 "));
	eom_outcome_clear(&out);

	/* unknown -> tag with a SubjectTag */
	g_ptr_array_set_size(rec.ops, 0);
	cfg->on[EVENT_UNKNOWN] = ACTION_TAG;
	g_free(cfg->subject_tag);
	cfg->subject_tag = g_strdup("[SUSPICIOUS]");
	g_mime_stream_reset(in.message);
	eom_process(&in, &recorder_ops, &rec, &out);
	assert_string_equal(g_ptr_array_index(rec.ops, rec.ops->len - 1),
			    "change Subject 1 [SUSPICIOUS] hello");
	eom_outcome_clear(&out);

	/* too large: not analysed, On-TooLarge, and the headers say so */
	g_ptr_array_set_size(rec.ops, 0);
	cfg->on[EVENT_TOO_LARGE] = ACTION_QUARANTINE;
	in.too_large = true;
	eom_process(&in, &recorder_ops, &rec, &out);
	assert_null(out.facts);
	assert_int_equal(out.event, EVENT_TOO_LARGE);
	assert_non_null(strstr(g_ptr_array_index(rec.ops, 1), "not scanned"));
	assert_true(g_str_has_prefix(g_ptr_array_index(rec.ops, rec.ops->len - 1), "quarantine "));
	eom_outcome_clear(&out);

	g_object_unref(in.message);
	g_ptr_array_unref(rec.ops);
	config_unref(cfg);
}

/* libmilter leaves Nagle on; we set TCP_NODELAY on the listening socket
 * (Linux hands it to every accepted connection), not on other sockets. */
static void test_nodelay_on_listening_tcp_socket(void **state)
{
	(void)state;
	int listening = socket(AF_INET, SOCK_STREAM, 0);
	int idle = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int value = 0;
	socklen_t len = sizeof(value);

	assert_true(listening >= 0 && idle >= 0);
	assert_int_equal(bind(listening, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(listening, 5), 0);
	assert_true(nodelay_listening_sockets() >= 1);
	assert_int_equal(getsockopt(listening, IPPROTO_TCP, TCP_NODELAY, &value, &len), 0);
	assert_int_equal(value, 1);
	value = 0;
	assert_int_equal(getsockopt(idle, IPPROTO_TCP, TCP_NODELAY, &value, &len), 0);
	assert_int_equal(value, 0);
	/* the connection libmilter accepts carries it (what the filter
	 * relies on: no second Nagle stall after Postfix's own) */
	socklen_t alen = sizeof(addr);
	assert_int_equal(getsockname(listening, (struct sockaddr *)&addr, &alen), 0);
	assert_int_equal(connect(idle, (struct sockaddr *)&addr, sizeof(addr)), 0);
	int accepted = accept(listening, NULL, NULL);
	assert_true(accepted >= 0);
	value = 0;
	assert_int_equal(getsockopt(accepted, IPPROTO_TCP, TCP_NODELAY, &value, &len), 0);
	assert_int_equal(value, 1);
	close(accepted);
	close(listening);
	close(idle);
}

static int setup(void **state)
{
	(void)state;
	analyze_init();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	analyze_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_sanitize_and_defang),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_verdict_headers),
		cmocka_unit_test(test_msgbuf_spills_and_limits),
		cmocka_unit_test(test_report_fold_truncation_keeps_folds),
		cmocka_unit_test(test_eom_removes_forged_and_adds_ours),
		cmocka_unit_test(test_eom_client_ip_and_actions),
		cmocka_unit_test(test_nodelay_on_listening_tcp_socket),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
