/* test_metrics.c: the metric registry (counters, gauges, histograms and
 * their text exposition), the MetricsSocket syntax and the endpoint's
 * request reading (metrics/registry.h, metrics/endpoint.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "metrics/catalog.h"
#include "metrics/endpoint.h"
#include "metrics/registry.h"

static const char *const one_label[] = { "integration", NULL };

static void test_counter_and_gauge_text(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *c = metrics_family(m, METRIC_COUNTER, "tm_requests_total",
						 "Requests.", one_label, NULL, 0);
	struct metric_family *g = metrics_family(m, METRIC_GAUGE, "tm_in_flight", "Out now.",
						 NULL, NULL, 0);
	struct metric_series *vt = metrics_series(c, (const char *const[]){ "vt" });
	char *text;

	(void)state;
	metric_add(vt, 3);
	/* the same labels give the same series */
	metric_add(metrics_series(c, (const char *const[]){ "vt" }), 2);
	metric_set(metrics_series(g, NULL), 7);
	metric_gauge_add(metrics_series(g, NULL), -9);
	text = metrics_render(m);
	assert_string_equal(text,
			    "# HELP tm_requests_total Requests.\n"
			    "# TYPE tm_requests_total counter\n"
			    "tm_requests_total{integration=\"vt\"} 5\n"
			    "# HELP tm_in_flight Out now.\n"
			    "# TYPE tm_in_flight gauge\n"
			    "tm_in_flight -2\n");
	g_free(text);
	metrics_free(m);
}

/* Label values come from configuration file names and are escaped as
 * the format says: backslash, double quote, line feed. */
static void test_label_values_escaped(void **state)
{
	struct metrics *m = metrics_new();
	struct metric_family *c = metrics_family(m, METRIC_COUNTER, "tm_x_total", "a\\b\nc",
						 one_label, NULL, 0);
	char *text;

	(void)state;
	metric_add(metrics_series(c, (const char *const[]){ "q\"b\\s\nn" }), 1);
	/* a value that differs only after escaping is another series */
	metric_add(metrics_series(c, (const char *const[]){ "q\"b\\s\\nn" }), 2);
	text = metrics_render(m);
	assert_non_null(strstr(text, "# HELP tm_x_total a\\\\b\\nc\n"));
	assert_non_null(strstr(text, "tm_x_total{integration=\"q\\\"b\\\\s\\nn\"} 1\n"));
	assert_non_null(strstr(text, "tm_x_total{integration=\"q\\\"b\\\\s\\\\nn\"} 2\n"));
	g_free(text);
	metrics_free(m);
}

static void test_histogram_cumulative(void **state)
{
	static const double bounds[] = { 0.1, 1, 10 };
	struct metrics *m = metrics_new();
	struct metric_family *h = metrics_family(m, METRIC_HISTOGRAM, "tm_seconds", "Time.",
						 NULL, bounds, 3);
	struct metric_series *s = metrics_series(h, NULL);
	char *text;

	(void)state;
	metric_observe(s, 0.05);
	metric_observe(s, 0.1);		/* le is inclusive */
	metric_observe(s, 5);
	metric_observe(s, 100);
	text = metrics_render(m);
	assert_string_equal(text,
			    "# HELP tm_seconds Time.\n"
			    "# TYPE tm_seconds histogram\n"
			    "tm_seconds_bucket{le=\"0.1\"} 2\n"
			    "tm_seconds_bucket{le=\"1\"} 2\n"
			    "tm_seconds_bucket{le=\"10\"} 3\n"
			    "tm_seconds_bucket{le=\"+Inf\"} 4\n"
			    "tm_seconds_sum 105.15\n"
			    "tm_seconds_count 4\n");
	assert_int_equal(metric_value(s), 4);
	g_free(text);
	metrics_free(m);
}

static void test_bad_names_refused(void **state)
{
	struct metrics *m = metrics_new();
	static const char *const le[] = { "le", NULL };
	static const double down[] = { 1, 0.5 };

	(void)state;
	/* a counter without _total, bad characters, reserved label, bounds */
	assert_null(metrics_family(m, METRIC_COUNTER, "tm_requests", "", NULL, NULL, 0));
	assert_null(metrics_family(m, METRIC_GAUGE, "tm-x", "", NULL, NULL, 0));
	assert_null(metrics_family(m, METRIC_GAUGE, "tm_y", "", le, NULL, 0));
	assert_null(metrics_family(m, METRIC_HISTOGRAM, "tm_z", "", NULL, down, 2));
	assert_non_null(metrics_family(m, METRIC_GAUGE, "tm_ok", "", NULL, NULL, 0));
	assert_null(metrics_family(m, METRIC_GAUGE, "tm_ok", "", NULL, NULL, 0));	/* twice */
	/* NULL series: updates are no-ops, not crashes */
	metric_add(NULL, 1);
	metric_observe(NULL, 1);
	assert_null(metrics_series(NULL, NULL));
	metrics_free(m);
}

#define THREADS 4
#define ROUNDS 100000

struct hammer {
	struct metric_series *counter, *histogram;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < ROUNDS; i++) {
		metric_add(h->counter, 1);
		metric_observe(h->histogram, 0.5);
	}
	return NULL;
}

/* Milter threads and the engine thread update at once: no update lost. */
static void test_concurrent_updates_exact(void **state)
{
	static const double bounds[] = { 1 };
	struct metrics *m = metrics_new();
	struct hammer h = {
		metrics_series(metrics_family(m, METRIC_COUNTER, "tm_c_total", "", NULL, NULL, 0),
			       NULL),
		metrics_series(metrics_family(m, METRIC_HISTOGRAM, "tm_h", "", NULL, bounds, 1),
			       NULL),
	};
	pthread_t threads[THREADS];
	char *text;

	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, hammer_run, &h), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(threads[i], NULL);
	assert_int_equal(metric_value(h.counter), THREADS * ROUNDS);
	assert_int_equal(metric_value(h.histogram), THREADS * ROUNDS);
	text = metrics_render(m);
	/* 0.5 is exact in binary: the CAS-added sum is exact too */
	assert_non_null(strstr(text, "tm_h_sum 200000\n"));
	g_free(text);
	metrics_free(m);
}

static void test_catalog_without_metrics_is_silent(void **state)
{
	struct lookup_result res = { .status = LOOKUP_ERROR, .error = LOOKUP_ERR_TIMEOUT };
	struct tm_metrics *m = tm_metrics_new("1.2.3");
	struct tm_integration_metrics *im = tm_metrics_integration(m, "vt");
	char *text;

	(void)state;
	assert_null(tm_metrics_integration(NULL, "vt"));
	tm_metrics_lookup_end(NULL, &res);
	tm_metrics_message(NULL, true, "clean", ACTION_ACCEPT, 5);
	assert_ptr_equal(tm_metrics_integration(m, "vt"), im);
	tm_metrics_lookup_end(im, &res);
	tm_metrics_breaker(im, BREAKER_OPEN);
	tm_metrics_message(m, true, "clean", ACTION_TAG, 20);
	tm_metrics_message(m, false, "malicious", ACTION_ACCEPT, 1);
	tm_metrics_redis_fallback(m);
	tm_metrics_redis_fallback(NULL);
	text = metrics_render(tm_metrics_registry(m));
	assert_non_null(strstr(text, "threatmilter_build_info{version=\"1.2.3\"} 1\n"));
	assert_non_null(strstr(text, "threatmilter_redis_fallbacks_total 1\n"));
	assert_non_null(strstr(text, "threatmilter_provider_errors_total{integration=\"vt\","
			       "error=\"timeout\"} 1\n"));
	assert_non_null(strstr(text, "threatmilter_provider_breaker_state{integration=\"vt\"} 2\n"));
	assert_non_null(strstr(text, "threatmilter_messages_total{verdict=\"clean\","
			       "action=\"tag\"} 1\n"));
	/* not scanned: never counted under the verdict it was given */
	assert_non_null(strstr(text, "threatmilter_messages_total{verdict=\"not_scanned\","
			       "action=\"accept\"} 1\n"));
	assert_non_null(strstr(text, "threatmilter_messages_total{verdict=\"malicious\","
			       "action=\"accept\"} 0\n"));
	g_free(text);
	tm_metrics_free(m);
}

/* A multipart request with a file part is one upload of the file's
 * bytes; plain fields count nothing; a request without parts is none. */
static void test_uploads_and_bytes(void **state)
{
	struct tm_metrics *m = tm_metrics_new("t");
	struct tm_integration_metrics *im = tm_metrics_integration(m, "sandbox");
	struct http_request upload, fields, plain;
	char *text;

	(void)state;
	http_request_init(&upload);
	http_request_add_part(&upload, "analyzer_mode", NULL, NULL, "default", 7);
	http_request_add_part(&upload, "file", "a.exe", "application/octet-stream", "MZ0123456", 9);
	http_request_init(&fields);
	http_request_add_part(&fields, "url", NULL, NULL, "http://x.example/", 17);
	http_request_init(&plain);
	tm_metrics_upload(im, &upload);
	tm_metrics_upload(im, &upload);		/* a retry sends it again */
	tm_metrics_upload(im, &fields);
	tm_metrics_upload(im, &plain);
	tm_metrics_upload(NULL, &upload);
	text = metrics_render(tm_metrics_registry(m));
	assert_non_null(strstr(text, "threatmilter_uploads_total{integration=\"sandbox\"} 2\n"));
	assert_non_null(strstr(text, "threatmilter_upload_bytes_total{integration=\"sandbox\"} 18\n"));
	g_free(text);
	http_request_clear(&upload);
	http_request_clear(&fields);
	http_request_clear(&plain);
	tm_metrics_free(m);
}

static void test_metrics_socket_syntax(void **state)
{
	struct sock_spec spec;
	char err[512];

	(void)state;
	assert_true(metrics_endpoint_parse("inet:9895", &spec, err, sizeof(err)));
	assert_string_equal(spec.host, "127.0.0.1");	/* loopback unless named */
	assert_string_equal(spec.canonical, "inet:9895@127.0.0.1");
	assert_true(metrics_endpoint_parse("inet6:9895", &spec, err, sizeof(err)));
	assert_string_equal(spec.host, "::1");
	assert_true(metrics_endpoint_parse("inet:9895@0.0.0.0", &spec, err, sizeof(err)));
	assert_string_equal(spec.host, "0.0.0.0");
	assert_false(metrics_endpoint_parse("unix:/run/m.sock", &spec, err, sizeof(err)));
	assert_non_null(strstr(err, "MetricsSocket"));
	/* Postfix's spelling is refused as for Socket, with the right one */
	assert_false(metrics_endpoint_parse("inet:127.0.0.1:9895", &spec, err, sizeof(err)));
	assert_non_null(strstr(err, "inet:9895@127.0.0.1"));
	assert_false(metrics_endpoint_parse("inet:0", &spec, err, sizeof(err)));
}

static int status_of(const char *request)
{
	return metrics_request_status(request, strlen(request));
}

static void test_request_reading_strict(void **state)
{
	char big[9000];

	(void)state;
	assert_int_equal(status_of("GET /metrics HTTP/1.0\r\n\r\n"), 200);
	assert_int_equal(status_of("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"), 200);
	assert_int_equal(status_of("GET /metrics HTTP/1.1\r\nHost: x\r\n"), 0);	/* more to come */
	assert_int_equal(status_of("GET /metrics HTTP/1.1\r"), 0);
	assert_int_equal(status_of("POST /metrics HTTP/1.0\r\n\r\n"), 405);
	assert_int_equal(status_of("HEAD /metrics HTTP/1.0\r\n\r\n"), 405);
	assert_int_equal(status_of("GET / HTTP/1.0\r\n\r\n"), 404);
	assert_int_equal(status_of("GET /metrics?x=1 HTTP/1.0\r\n\r\n"), 404);
	assert_int_equal(status_of("GET /metricsx HTTP/1.0\r\n\r\n"), 404);
	assert_int_equal(status_of("GET /metrics HTTP/2.0\r\n\r\n"), 505);
	assert_int_equal(status_of("GET /metrics\r\n\r\n"), 400);		/* HTTP/0.9 */
	assert_int_equal(status_of("GET  /metrics HTTP/1.0\r\n\r\n"), 400);
	assert_int_equal(status_of("GET /metrics HTTP/1.0\n\n"), 400);	/* bare LF */
	assert_int_equal(status_of("GET /metrics HTTP/1.0\r\nX\r\n\r\n"), 400);
	assert_int_equal(status_of("GET /metrics HTTP/1.0\r\n folded\r\n\r\n"), 400);
	assert_int_equal(status_of("GET /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\n"), 400);
	assert_int_equal(status_of("GET /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n"), 200);
	assert_int_equal(status_of("GET /metrics HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
			 400);
	assert_int_equal(metrics_request_status("GET /metrics\0 HTTP/1.0\r\n\r\n", 26), 400);
	assert_int_equal(status_of("\x16\x03\x01\x02\x00\x01"), 400);	/* a TLS hello */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.0\r\nX: ", 26);
	assert_int_equal(metrics_request_status(big, 8192), 431);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_and_gauge_text),
		cmocka_unit_test(test_label_values_escaped),
		cmocka_unit_test(test_histogram_cumulative),
		cmocka_unit_test(test_bad_names_refused),
		cmocka_unit_test(test_concurrent_updates_exact),
		cmocka_unit_test(test_catalog_without_metrics_is_silent),
		cmocka_unit_test(test_uploads_and_bytes),
		cmocka_unit_test(test_metrics_socket_syntax),
		cmocka_unit_test(test_request_reading_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
