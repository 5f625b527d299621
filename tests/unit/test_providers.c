/* test_providers.c: what each provider sends and how it reads the
 * answers, for Spamhaus (DNS), VirusTotal, Google Safe Browsing, Google
 * Web Risk and IBM X-Force. The bodies are the fixtures of
 * ../shared/providers/<provider>.md; nothing here touches the network.
 *
 * Every result's details text is checked against all the test keys: a
 * key must never end up in a details text (they reach logs and headers). */
#include <autoconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "config/integrations.h"
#include "lookup/lookup.h"
#include "providers/provider.h"

#define VT_KEY "4e3202fdbe953d628f650229af5b3eb49cd46b2d3bfe5546ae3c5fa48b554e0c"
#define GOOGLE_KEY "AIzaSyTestKey0123456789-abcdefghijk"
#define XF_KEY "test-xf-key"
#define XF_PASS "test-xf-pass"
#define DQS_KEY "testkey0123456789abcdefghij"
#define MD_KEY "0123456789abcdef0123456789abcdef"

static const char *const secrets[] = { VT_KEY, GOOGLE_KEY, XF_KEY, XF_PASS, DQS_KEY, MD_KEY };

/* ---------------------------------------------------------------- helpers */

static struct integration integration(const char *name, const char *api_url, const char *key,
				      const char *password, unsigned threshold)
{
	struct integration in = {
		.name = (char *)name,
		.type = NULL,
		.api_url = (char *)api_url,
		.api_key = (char *)key,
		.api_password = (char *)password,
		.detection_threshold = threshold,
		.active = true,
		.verify_ssl = true,
		.timeout_ms = 5000,
	};
	return in;
}

static struct lookup *lookup_new(const struct integration *in, enum indicator_kind kind,
				 const char *indicator)
{
	struct lookup *lookup = g_new0(struct lookup, 1);

	lookup->integration = in;
	lookup->kind = kind;
	lookup->indicator = g_strdup(indicator);
	lookup->result.status = LOOKUP_ERROR;
	return lookup;
}

static void lookup_del(struct lookup *lookup)
{
	g_free(lookup->indicator);
	g_free(lookup->result.details);
	g_free(lookup);
}

/* A request as the engine prepares it before build_request. */
static void request_init(struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->url = g_string_new(NULL);
	req->headers = g_ptr_array_new_with_free_func(g_free);
}

static void request_clear(struct http_request *req)
{
	g_string_free(req->url, TRUE);
	g_ptr_array_unref(req->headers);
	if (req->body != NULL)
		g_string_free(req->body, TRUE);
	g_free(req->basic_auth);
}

static void build(const struct provider_ops *ops, const struct integration *in,
		  struct lookup *const *batch, size_t n, struct http_request *req)
{
	request_init(req);
	assert_true(n <= ops->max_batch);
	ops->build_request(in, batch, n, req);
}

static bool has_header(const struct http_request *req, const char *header)
{
	for (guint i = 0; i < req->headers->len; i++)
		if (strcmp(g_ptr_array_index(req->headers, i), header) == 0)
			return true;
	return false;
}

static bool has_header_named(const struct http_request *req, const char *name)
{
	size_t len = strlen(name);

	for (guint i = 0; i < req->headers->len; i++) {
		const char *h = g_ptr_array_index(req->headers, i);

		if (g_ascii_strncasecmp(h, name, len) == 0 && h[len] == ':')
			return true;
	}
	return false;
}

static enum answer_class parse_batch(const struct provider_ops *ops, const struct integration *in,
				     struct lookup *const *batch, size_t n, long status,
				     const char *body)
{
	struct http_response resp = {
		.status = status,
		.body = body,
		.body_len = strlen(body),
		.retry_after_s = -1,
	};

	return ops->parse_response(in, batch, n, &resp);
}

static enum answer_class parse(const struct provider_ops *ops, const struct integration *in,
			       struct lookup *lookup, long status, const char *body)
{
	return parse_batch(ops, in, &lookup, 1, status, body);
}

/* The exact status and details, and no secret in the details. */
static void assert_result(const struct lookup *lookup, enum lookup_status status,
			  const char *details)
{
	assert_string_equal(lookup_status_name(lookup->result.status), lookup_status_name(status));
	if (details == NULL) {
		assert_null(lookup->result.details);
	} else {
		assert_non_null(lookup->result.details);
		assert_string_equal(lookup->result.details, details);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(secrets); i++)
		if (lookup->result.details != NULL)
			assert_null(strstr(lookup->result.details, secrets[i]));
}

/* DNS: answers given as dotted quads, NULL-terminated. */
static enum answer_class parse_dns(const struct integration *in, struct lookup *lookup,
				   int ares_status, int ttl, ...)
{
	struct ares_addrttl addrs[16];
	int naddrs = 0;
	const char *text;
	va_list ap;

	va_start(ap, ttl);
	while ((text = va_arg(ap, const char *)) != NULL) {
		assert_true(naddrs < (int)G_N_ELEMENTS(addrs));
		assert_int_equal(inet_pton(AF_INET, text, &addrs[naddrs].ipaddr), 1);
		addrs[naddrs].ttl = ttl;
		naddrs++;
	}
	va_end(ap);
	return spamhaus_ops.parse_dns(in, lookup, ares_status, addrs, naddrs);
}

static char *dns_name(const struct integration *in, enum indicator_kind kind,
		      const char *indicator)
{
	struct lookup *lookup = lookup_new(in, kind, indicator);
	char *name = spamhaus_ops.dns_name(in, lookup);

	lookup_del(lookup);
	return name;
}

static void assert_dns_name(const struct integration *in, enum indicator_kind kind,
			    const char *indicator, const char *expected)
{
	char *name = dns_name(in, kind, indicator);

	assert_non_null(name);
	assert_string_equal(name, expected);
	g_free(name);
}

/* ---------------------------------------------------------------- Spamhaus */

static void test_spamhaus_supports(void **state)
{
	(void)state;
	assert_true(spamhaus_ops.supports(INDICATOR_IP));
	assert_true(spamhaus_ops.supports(INDICATOR_DOMAIN));
	assert_false(spamhaus_ops.supports(INDICATOR_URL));
	assert_false(spamhaus_ops.supports(INDICATOR_HASH));
	assert_non_null(spamhaus_ops.dns_name);
	assert_null(spamhaus_ops.build_request);
}

static void test_spamhaus_query_names(void **state)
{
	(void)state;
	struct integration pub = integration("spamhaus", NULL, NULL, NULL, 0);
	struct integration zen = integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct integration mock = integration("spamhaus", "zen.mock.test", NULL, NULL, 0);

	assert_dns_name(&pub, INDICATOR_IP, "203.0.113.79", "79.113.0.203.zen.spamhaus.org");
	assert_dns_name(&zen, INDICATOR_IP, "203.0.113.79", "79.113.0.203.zen.spamhaus.org");
	assert_dns_name(&zen, INDICATOR_IP, "2001:db8:7ca6:22::45",
			"5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.2.0.0.6.a.c.7.8.b.d.0.1.0.0.2.zen.spamhaus.org");
	/* IPv4-mapped IPv6 is asked as IPv4 */
	assert_dns_name(&zen, INDICATOR_IP, "::ffff:203.0.113.79", "79.113.0.203.zen.spamhaus.org");
	assert_dns_name(&zen, INDICATOR_DOMAIN, "login.example.com",
			"login.example.com.dbl.spamhaus.org");
	assert_dns_name(&zen, INDICATOR_DOMAIN, "Login.Example.COM",
			"login.example.com.dbl.spamhaus.org");
	assert_dns_name(&mock, INDICATOR_IP, "127.0.0.2", "2.0.0.127.zen.mock.test");
	assert_dns_name(&mock, INDICATOR_DOMAIN, "dbltest.com", "dbltest.com.dbl.mock.test");
}

static void test_spamhaus_dqs_key_zone(void **state)
{
	(void)state;
	struct integration dqs = integration("spamhaus-dqs", "zen.spamhaus.org", DQS_KEY, NULL, 0);
	struct integration dflt = integration("spamhaus-dqs", NULL, DQS_KEY, NULL, 0);
	struct integration mock = integration("spamhaus-dqs", "zen.dq.mock.test", DQS_KEY, NULL, 0);

	assert_dns_name(&dqs, INDICATOR_IP, "203.0.113.79",
			"79.113.0.203." DQS_KEY ".zen.dq.spamhaus.net");
	assert_dns_name(&dflt, INDICATOR_IP, "203.0.113.79",
			"79.113.0.203." DQS_KEY ".zen.dq.spamhaus.net");
	assert_dns_name(&dqs, INDICATOR_DOMAIN, "example.com",
			"example.com." DQS_KEY ".dbl.dq.spamhaus.net");
	assert_dns_name(&mock, INDICATOR_IP, "2001:db8:7ca6:22::45",
			"5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.2.0.0.6.a.c.7.8.b.d.0.1.0.0.2."
			DQS_KEY ".zen.dq.mock.test");
	assert_dns_name(&mock, INDICATOR_DOMAIN, "phish.example",
			"phish.example." DQS_KEY ".dbl.dq.mock.test");
}

static void test_spamhaus_never_sends_ip_to_dbl(void **state)
{
	(void)state;
	struct integration zen = integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	char *name;

	assert_null(name = dns_name(&zen, INDICATOR_DOMAIN, "1.2.3.4"));
	assert_null(name = dns_name(&zen, INDICATOR_DOMAIN, "2001:db8::1"));
	assert_null(name = dns_name(&zen, INDICATOR_DOMAIN, "[2001:db8::1]"));
	/* and nonsense is never asked as an IP */
	assert_null(name = dns_name(&zen, INDICATOR_IP, "not-an-ip"));
}

static void test_spamhaus_listed(void **state)
{
	(void)state;
	struct integration zen = integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct lookup *l = lookup_new(&zen, INDICATOR_IP, "127.0.0.2");

	/* the test point: several codes at once */
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60,
				   "127.0.0.2", "127.0.0.4", "127.0.0.10", NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "SBL,XBL,PBL");
	assert_int_equal(l->result.ttl_s, 60);
	assert_true(spamhaus_ops.test_ok(l));

	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 120, "127.0.0.2", "127.0.0.9", NULL),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "SBL,DROP");
	assert_int_equal(l->result.ttl_s, 120);

	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.3", NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "CSS");
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.30", NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "BCL");
	/* XBL's reserved codes are one list */
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.4", "127.0.0.5", NULL),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "XBL");
	lookup_del(l);
}

static void test_spamhaus_pbl_only_is_suspicious(void **state)
{
	(void)state;
	struct integration zen = integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct lookup *l = lookup_new(&zen, INDICATOR_IP, "203.0.113.9");

	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.11", NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_SUSPICIOUS, "PBL");
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.10", "127.0.0.11", NULL),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_SUSPICIOUS, "PBL");
	assert_false(spamhaus_ops.test_ok(l));
	lookup_del(l);
}

static void test_spamhaus_not_listed(void **state)
{
	(void)state;
	struct integration zen = integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct lookup *l = lookup_new(&zen, INDICATOR_IP, "203.0.113.10");

	assert_int_equal(parse_dns(&zen, l, ARES_ENOTFOUND, 0, NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_CLEAN, "not listed");
	assert_true(l->result.ttl_s > 0);
	assert_false(spamhaus_ops.test_ok(l));
	assert_int_equal(parse_dns(&zen, l, ARES_ENODATA, 0, NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_CLEAN, "not listed");
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 0, NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_CLEAN, "not listed");
	lookup_del(l);
}

static void test_spamhaus_error_codes(void **state)
{
	(void)state;
	struct integration dqs = integration("spamhaus-dqs", "zen.spamhaus.org", DQS_KEY, NULL, 0);
	struct lookup *l = lookup_new(&dqs, INDICATOR_IP, "203.0.113.14");
	const char *resolver = "127.255.255.254: resolver not allowed "
			       "(public or open resolver; use a local one or DQS)";

	/* a real code mixed with an error code is an error, in either order */
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.0.0.2", "127.255.255.254", NULL),
			 ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, resolver);
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.255.255.254", "127.0.0.2", NULL),
			 ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, resolver);
	assert_false(spamhaus_ops.test_ok(l));

	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.255.255.255", NULL), ANSWER_QUOTA);
	assert_result(l, LOOKUP_ERROR, "127.255.255.255: over the free-use query volume");
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.255.255.252", NULL), ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, "127.255.255.252: typo in the zone name");
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.255.255.250", NULL), ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, "DQS key refused");

	/* an undocumented code is never a listing */
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.0.0.77", NULL), ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "unexpected answer 127.0.0.77");
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.0.0.2", "10.0.0.2", NULL),
			 ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "unexpected answer 10.0.0.2");
	/* DBL codes do not count for an IP */
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.0.1.2", NULL), ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "unexpected answer 127.0.1.2");
	lookup_del(l);
}

static void test_spamhaus_dns_failures(void **state)
{
	(void)state;
	struct integration dqs = integration("spamhaus-dqs", "zen.spamhaus.org", DQS_KEY, NULL, 0);
	struct lookup *l = lookup_new(&dqs, INDICATOR_IP, "203.0.113.16");

	assert_int_equal(parse_dns(&dqs, l, ARES_ESERVFAIL, 0, NULL), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "DNS SERVFAIL");
	assert_int_equal(parse_dns(&dqs, l, ARES_ETIMEOUT, 0, NULL), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "DNS timeout");
	assert_int_equal(parse_dns(&dqs, l, ARES_EREFUSED, 0, NULL), ANSWER_TRANSIENT);
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_non_null(strstr(l->result.details, "REFUSED"));
	assert_int_equal(parse_dns(&dqs, l, ARES_ECONNREFUSED, 0, NULL), ANSWER_TRANSIENT);
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	lookup_del(l);
}

static void test_spamhaus_dbl(void **state)
{
	(void)state;
	struct integration zen = integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct lookup *l = lookup_new(&zen, INDICATOR_DOMAIN, "dbltest.com");

	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.1.2", NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "DBL-spam");
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.1.4", NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "DBL-phish");
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.1.103", NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_SUSPICIOUS, "DBL-abused-redirector");
	assert_int_equal(parse_dns(&zen, l, ARES_ENOTFOUND, 0, NULL), ANSWER_DECIDED);
	assert_result(l, LOOKUP_CLEAN, "not listed");
	/* the answer DBL gives when asked about an IP */
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.1.255", NULL), ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "unexpected answer 127.0.1.255 (an IP was sent to DBL)");
	/* ZEN codes do not count for a domain */
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.2", NULL), ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "unexpected answer 127.0.0.2");
	lookup_del(l);
}

static void test_spamhaus_test_connection(void **state)
{
	(void)state;
	struct integration zen = integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);

	assert_int_equal(spamhaus_ops.test_kind, INDICATOR_IP);
	assert_dns_name(&zen, spamhaus_ops.test_kind, spamhaus_ops.test_indicator,
			"2.0.0.127.zen.spamhaus.org");
}

/* -------------------------------------------------------------- VirusTotal */

#define VT_ROOT "https://www.virustotal.com/api/v3"

static const char vt_malicious_url[] =
	"{\"data\":{\"type\":\"url\",\"id\":\"14b570acce51451285fa2340e01f97344efe518c8770f5bbc0a794d9bcd55f01\","
	"\"links\":{\"self\":\"https://www.virustotal.com/api/v3/urls/14b570acce51451285fa2340e01f97344efe518c8770f5bbc0a794d9bcd55f01\"},"
	"\"attributes\":{\"url\":\"http://www.example.com/\",\"last_final_url\":\"http://www.example.com/\","
	"\"last_analysis_date\":1732200000,\"reputation\":-42,"
	"\"total_votes\":{\"harmless\":0,\"malicious\":7},"
	"\"categories\":{\"Forcepoint ThreatSeeker\":\"phishing and other frauds\"},"
	"\"last_analysis_stats\":{\"harmless\":60,\"malicious\":12,\"suspicious\":2,\"undetected\":19,\"timeout\":0},"
	"\"last_analysis_results\":{"
	"\"EngineA\":{\"category\":\"malicious\",\"engine_name\":\"EngineA\",\"method\":\"blacklist\",\"result\":\"phishing\"},"
	"\"EngineB\":{\"category\":\"harmless\",\"engine_name\":\"EngineB\",\"method\":\"blacklist\",\"result\":\"clean\"}}}}}";

static const char vt_clean_ip[] =
	"{\"data\":{\"type\":\"ip_address\",\"id\":\"192.0.2.10\","
	"\"links\":{\"self\":\"https://www.virustotal.com/api/v3/ip_addresses/192.0.2.10\"},"
	"\"attributes\":{\"as_owner\":\"EXAMPLE-NET\",\"asn\":64500,\"country\":\"US\",\"network\":\"192.0.2.0/24\","
	"\"last_analysis_date\":1732200000,\"reputation\":0,"
	"\"last_analysis_stats\":{\"harmless\":62,\"malicious\":0,\"suspicious\":0,\"undetected\":31,\"timeout\":0},"
	"\"last_analysis_results\":{}}}}";

static const char vt_eicar[] =
	"{\"data\":{\"type\":\"file\",\"id\":\"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\","
	"\"attributes\":{\"md5\":\"44d88612fea8a8f36de82e1278abb02f\","
	"\"sha1\":\"3395856ce81f2b7382dee72602f798b642f14140\","
	"\"sha256\":\"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\","
	"\"size\":68,\"type_description\":\"Text\",\"meaningful_name\":\"eicar.com\","
	"\"last_analysis_date\":1732200000,"
	"\"last_analysis_stats\":{\"harmless\":0,\"malicious\":61,\"suspicious\":0,\"undetected\":8,\"timeout\":0,"
	"\"confirmed-timeout\":0,\"failure\":0,\"type-unsupported\":5},"
	"\"popular_threat_classification\":{\"suggested_threat_label\":\"virus.eicar/test\"}}}}";

static const char vt_suspicious_ip[] =
	"{\"data\":{\"type\":\"ip_address\",\"id\":\"198.51.100.7\",\"attributes\":{"
	"\"last_analysis_date\":1732200000,"
	"\"last_analysis_stats\":{\"harmless\":60,\"malicious\":0,\"suspicious\":3,\"undetected\":30,\"timeout\":0}}}}";

static const char vt_unscanned_url[] =
	"{\"data\":{\"type\":\"url\",\"id\":\"x\",\"attributes\":{\"url\":\"http://new.example.net/\","
	"\"last_analysis_stats\":{\"harmless\":0,\"malicious\":0,\"suspicious\":0,\"undetected\":0,\"timeout\":0}}}}";

static const char vt_not_found[] =
	"{\"error\":{\"code\":\"NotFoundError\",\"message\":\"File \\\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\\\" not found\"}}";
static const char vt_bad_key[] =
	"{\"error\":{\"code\":\"WrongCredentialsError\",\"message\":\"Wrong API key\"}}";
static const char vt_missing_header[] =
	"{\"error\":{\"code\":\"AuthenticationRequiredError\",\"message\":\"X-Apikey header is missing\"}}";
static const char vt_quota[] =
	"{\"error\":{\"code\":\"QuotaExceededError\",\"message\":\"Quota exceeded\"}}";
static const char vt_too_many[] =
	"{\"error\":{\"code\":\"TooManyRequestsError\",\"message\":\"Too many requests\"}}";
static const char vt_transient[] =
	"{\"error\":{\"code\":\"TransientError\",\"message\":\"Transient error, please retry\"}}";

static void assert_vt_url(const struct integration *in, enum indicator_kind kind,
			  const char *indicator, const char *expected_url)
{
	struct lookup *l = lookup_new(in, kind, indicator);
	struct http_request req;

	build(&virustotal_ops, in, &l, 1, &req);
	assert_string_equal(req.url->str, expected_url);
	assert_string_equal(req.method, "GET");
	assert_null(req.body);
	assert_null(req.basic_auth);
	assert_true(has_header(&req, "x-apikey: " VT_KEY));
	assert_true(has_header(&req, "Accept: application/json"));
	request_clear(&req);
	lookup_del(l);
}

static void test_virustotal_requests(void **state)
{
	(void)state;
	struct integration vt = integration("vt", VT_ROOT, VT_KEY, NULL, 1);
	struct integration slash = integration("vt", VT_ROOT "/", VT_KEY, NULL, 1);

	/* the document's worked examples of the URL identifier */
	assert_vt_url(&vt, INDICATOR_URL, "http://www.example.com/",
		      VT_ROOT "/urls/aHR0cDovL3d3dy5leGFtcGxlLmNvbS8");
	assert_vt_url(&vt, INDICATOR_URL, "https://login-example.com/verify?id=1&x=\xc3\xa4",
		      VT_ROOT "/urls/aHR0cHM6Ly9sb2dpbi1leGFtcGxlLmNvbS92ZXJpZnk_aWQ9MSZ4PcOk");
	assert_vt_url(&slash, INDICATOR_URL, "http://www.example.com/",
		      VT_ROOT "/urls/aHR0cDovL3d3dy5leGFtcGxlLmNvbS8");
	assert_vt_url(&vt, INDICATOR_DOMAIN, "login-example.com", VT_ROOT "/domains/login-example.com");
	assert_vt_url(&vt, INDICATOR_IP, "192.0.2.10", VT_ROOT "/ip_addresses/192.0.2.10");
	assert_vt_url(&vt, INDICATOR_IP, "2001:db8::1", VT_ROOT "/ip_addresses/2001:db8::1");
	assert_vt_url(&vt, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f",
		      VT_ROOT "/files/44d88612fea8a8f36de82e1278abb02f");
}

static void test_virustotal_verdicts(void **state)
{
	(void)state;
	struct integration vt = integration("vt", VT_ROOT, VT_KEY, NULL, 1);
	struct integration strict = integration("vt", VT_ROOT, VT_KEY, NULL, 15);
	struct lookup *l = lookup_new(&vt, INDICATOR_URL, "http://www.example.com/");

	assert_int_equal(parse(&virustotal_ops, &vt, l, 200, vt_malicious_url), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "12/93");
	/* under the threshold: suspicious */
	assert_int_equal(parse(&virustotal_ops, &strict, l, 200, vt_malicious_url), ANSWER_DECIDED);
	assert_result(l, LOOKUP_SUSPICIOUS, "12/93");
	assert_int_equal(parse(&virustotal_ops, &vt, l, 200, vt_suspicious_ip), ANSWER_DECIDED);
	assert_result(l, LOOKUP_SUSPICIOUS, "0/93");
	assert_int_equal(parse(&virustotal_ops, &vt, l, 200, vt_clean_ip), ANSWER_DECIDED);
	assert_result(l, LOOKUP_CLEAN, "0/93");
	assert_true(virustotal_ops.test_ok(l));
	/* every counter is part of the total, hyphenated ones too */
	assert_int_equal(parse(&virustotal_ops, &vt, l, 200, vt_eicar), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "61/74");
	/* exists but never analysed */
	assert_int_equal(parse(&virustotal_ops, &vt, l, 200, vt_unscanned_url), ANSWER_DECIDED);
	assert_result(l, LOOKUP_UNKNOWN, "0/0");
	assert_int_equal(parse(&virustotal_ops, &vt, l, 404, vt_not_found), ANSWER_DECIDED);
	assert_result(l, LOOKUP_UNKNOWN, "not found");
	assert_true(virustotal_ops.test_ok(l));
	assert_int_equal(parse(&virustotal_ops, &vt, l, 400,
			       "{\"error\":{\"code\":\"NotAvailableYet\",\"message\":\"later\"}}"),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_UNKNOWN, "not available yet");
	lookup_del(l);
}

static void test_virustotal_errors(void **state)
{
	(void)state;
	struct integration vt = integration("vt", VT_ROOT, VT_KEY, NULL, 1);
	struct lookup *l = lookup_new(&vt, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f");

	assert_int_equal(parse(&virustotal_ops, &vt, l, 401, vt_bad_key), ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, "HTTP 401 WrongCredentialsError");
	assert_false(virustotal_ops.test_ok(l));
	assert_int_equal(parse(&virustotal_ops, &vt, l, 401, vt_missing_header), ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, "HTTP 401 AuthenticationRequiredError");
	/* both 429s: the quota and the burst limit */
	assert_int_equal(parse(&virustotal_ops, &vt, l, 429, vt_quota), ANSWER_QUOTA);
	assert_result(l, LOOKUP_RATE_LIMITED, "HTTP 429 QuotaExceededError");
	assert_false(virustotal_ops.test_ok(l));
	assert_int_equal(parse(&virustotal_ops, &vt, l, 429, vt_too_many), ANSWER_QUOTA);
	assert_result(l, LOOKUP_RATE_LIMITED, "HTTP 429 TooManyRequestsError");
	assert_int_equal(parse(&virustotal_ops, &vt, l, 503, vt_transient), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 503");
	assert_int_equal(parse(&virustotal_ops, &vt, l, 504,
			       "{\"error\":{\"code\":\"DeadlineExceededError\",\"message\":\"x\"}}"),
			 ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 504");
	assert_int_equal(parse(&virustotal_ops, &vt, l, 403,
			       "{\"error\":{\"code\":\"ForbiddenError\",\"message\":\"premium\"}}"),
			 ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 403 ForbiddenError");
	assert_int_equal(parse(&virustotal_ops, &vt, l, 400,
			       "{\"error\":{\"code\":\"InvalidArgumentError\",\"message\":\"bad id\"}}"),
			 ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 400 InvalidArgumentError");
	assert_int_equal(parse(&virustotal_ops, &vt, l, 200, "{\"data\": {\"attributes\""),
			 ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	assert_int_equal(parse(&virustotal_ops, &vt, l, 200, "<html>busy</html>"), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	assert_int_equal(parse(&virustotal_ops, &vt, l, 200, "{\"data\":{}}"), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	/* hostile counters are read as 0, never cast out of range */
	assert_int_equal(parse(&virustotal_ops, &vt, l, 200,
			       "{\"data\":{\"attributes\":{\"last_analysis_date\":1,"
			       "\"last_analysis_stats\":{\"malicious\":-3,\"suspicious\":1e300,"
			       "\"harmless\":5}}}}"),
			 ANSWER_DECIDED);
	assert_int_equal(l->result.status, LOOKUP_SUSPICIOUS);
	assert_non_null(l->result.details);
	assert_true(g_str_has_prefix(l->result.details, "0/"));
	lookup_del(l);
}

/* ---------------------------------------------------------- Safe Browsing */

#define GSB_ROOT "https://safebrowsing.googleapis.com/v4"

static const char gsb_malicious[] =
	"{\"matches\":["
	"{\"threatType\":\"SOCIAL_ENGINEERING\",\"platformType\":\"ANY_PLATFORM\",\"threatEntryType\":\"URL\","
	"\"threat\":{\"url\":\"http://login-example.test/verify\"},\"cacheDuration\":\"300s\"},"
	"{\"threatType\":\"MALWARE\",\"platformType\":\"ANY_PLATFORM\",\"threatEntryType\":\"URL\","
	"\"threat\":{\"url\":\"http://login-example.test/verify\"},"
	"\"threatEntryMetadata\":{\"entries\":[{\"key\":\"bWFsd2FyZV90aHJlYXRfdHlwZQ==\",\"value\":\"bGFuZGluZw==\"}]},"
	"\"cacheDuration\":\"300s\"}]}";

static const char gsb_test_url[] =
	"{\"matches\":[{\"threatType\":\"MALWARE\",\"platformType\":\"ANY_PLATFORM\",\"threatEntryType\":\"URL\","
	"\"threat\":{\"url\":\"http://testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/MALWARE/URL/\"},\"cacheDuration\":\"300s\"}]}";

static const char google_bad_key_sb[] =
	"{\"error\":{\"code\":400,\"message\":\"API key not valid. Please pass a valid API key.\",\"status\":\"INVALID_ARGUMENT\","
	"\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":\"API_KEY_INVALID\",\"domain\":\"googleapis.com\","
	"\"metadata\":{\"service\":\"safebrowsing.googleapis.com\"}}]}}";
static const char gsb_disabled[] =
	"{\"error\":{\"code\":403,\"message\":\"Safe Browsing API has not been used in project 123456789 before or it is disabled.\","
	"\"status\":\"PERMISSION_DENIED\"}}";
static const char gsb_quota[] =
	"{\"error\":{\"code\":429,\"message\":\"Quota exceeded for quota metric 'Requests' of service 'safebrowsing.googleapis.com'.\","
	"\"status\":\"RESOURCE_EXHAUSTED\"}}";
static const char gsb_no_entry_type[] =
	"{\"error\":{\"code\":400,\"message\":\"Invalid request: threat entry type not set.\",\"status\":\"INVALID_ARGUMENT\"}}";
static const char gsb_unavailable[] =
	"{\"error\":{\"code\":503,\"message\":\"The service is currently unavailable.\",\"status\":\"UNAVAILABLE\"}}";

static void test_safebrowsing_supports(void **state)
{
	(void)state;
	assert_true(safebrowsing_ops.supports(INDICATOR_URL));
	assert_true(safebrowsing_ops.supports(INDICATOR_DOMAIN));
	assert_false(safebrowsing_ops.supports(INDICATOR_IP));
	assert_false(safebrowsing_ops.supports(INDICATOR_HASH));
	assert_int_equal(safebrowsing_ops.max_batch, 500);
}

static const cJSON *path(const cJSON *json, const char *a, const char *b)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, a);

	return b ? cJSON_GetObjectItemCaseSensitive(item, b) : item;
}

static void assert_string_list(const cJSON *array, const char *const *expected, int n)
{
	assert_true(cJSON_IsArray(array));
	assert_int_equal(cJSON_GetArraySize(array), n);
	for (int i = 0; i < n; i++) {
		const cJSON *item = cJSON_GetArrayItem(array, i);

		assert_true(cJSON_IsString(item));
		assert_string_equal(item->valuestring, expected[i]);
	}
}

static void test_safebrowsing_request(void **state)
{
	(void)state;
	static const char *const threat_types[] = {
		"MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE", "POTENTIALLY_HARMFUL_APPLICATION",
	};
	static const char *const any[] = { "ANY_PLATFORM" };
	static const char *const url[] = { "URL" };
	struct integration gsb = integration("gsb", GSB_ROOT "/", GOOGLE_KEY, NULL, 0);
	struct lookup *batch[4] = {
		lookup_new(&gsb, INDICATOR_URL, "http://login-example.test/verify"),
		lookup_new(&gsb, INDICATOR_URL, "https://www.example.org/"),
		lookup_new(&gsb, INDICATOR_DOMAIN, "example.net"),
		lookup_new(&gsb, INDICATOR_URL, "http://example.net/"),	/* same as the host form */
	};
	struct http_request req;

	build(&safebrowsing_ops, &gsb, batch, 4, &req);
	assert_string_equal(req.method, "POST");
	/* the colon stays a colon; the key is in the query */
	assert_string_equal(req.url->str, GSB_ROOT "/threatMatches:find?key=" GOOGLE_KEY);
	assert_true(has_header(&req, "Content-Type: application/json"));
	assert_null(req.basic_auth);
	assert_non_null(req.body);

	cJSON *body = cJSON_Parse(req.body->str);
	assert_non_null(body);
	assert_string_equal(path(body, "client", "clientId")->valuestring, "threatmilter");
	assert_string_equal(path(body, "client", "clientVersion")->valuestring, PACKAGE_VERSION);
	const cJSON *info = path(body, "threatInfo", NULL);
	assert_string_list(path(info, "threatTypes", NULL), threat_types, 4);
	assert_string_list(path(info, "platformTypes", NULL), any, 1);
	assert_string_list(path(info, "threatEntryTypes", NULL), url, 1);
	const cJSON *entries = path(info, "threatEntries", NULL);
	assert_int_equal(cJSON_GetArraySize(entries), 3);
	assert_string_equal(path(cJSON_GetArrayItem(entries, 0), "url", NULL)->valuestring,
			    "http://login-example.test/verify");
	assert_string_equal(path(cJSON_GetArrayItem(entries, 1), "url", NULL)->valuestring,
			    "https://www.example.org/");
	assert_string_equal(path(cJSON_GetArrayItem(entries, 2), "url", NULL)->valuestring,
			    "http://example.net/");
	/* the key is never in the body */
	assert_null(strstr(req.body->str, GOOGLE_KEY));
	cJSON_Delete(body);
	request_clear(&req);
	for (int i = 0; i < 4; i++)
		lookup_del(batch[i]);
}

static void test_safebrowsing_request_full_batch(void **state)
{
	(void)state;
	struct integration gsb = integration("gsb", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *batch[500];
	struct http_request req;

	for (int i = 0; i < 500; i++) {
		char url[64];

		snprintf(url, sizeof(url), "http://host%d.example/path?q=%d", i, i);
		batch[i] = lookup_new(&gsb, INDICATOR_URL, url);
	}
	build(&safebrowsing_ops, &gsb, batch, 500, &req);
	cJSON *body = cJSON_Parse(req.body->str);
	const cJSON *entries = path(path(body, "threatInfo", NULL), "threatEntries", NULL);
	assert_int_equal(cJSON_GetArraySize(entries), 500);
	assert_string_equal(path(cJSON_GetArrayItem(entries, 499), "url", NULL)->valuestring,
			    "http://host499.example/path?q=499");
	cJSON_Delete(body);

	/* nothing listed: every one of them is clean */
	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 500, 200, "{}"), ANSWER_DECIDED);
	for (int i = 0; i < 500; i++) {
		assert_result(batch[i], LOOKUP_CLEAN, "not listed");
		lookup_del(batch[i]);
	}
	request_clear(&req);
}

static void test_safebrowsing_verdicts(void **state)
{
	(void)state;
	struct integration gsb = integration("gsb", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *batch[3] = {
		lookup_new(&gsb, INDICATOR_URL, "http://login-example.test/verify"),
		lookup_new(&gsb, INDICATOR_URL, "https://www.example.org/"),
		/* keyed on the string sent: the same URL with a slash is another */
		lookup_new(&gsb, INDICATOR_URL, "http://login-example.test/verify/"),
	};

	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 3, 200, gsb_malicious),
			 ANSWER_DECIDED);
	assert_result(batch[0], LOOKUP_MALICIOUS, "SOCIAL_ENGINEERING,MALWARE");
	assert_int_equal(batch[0]->result.ttl_s, 300);
	assert_result(batch[1], LOOKUP_CLEAN, "not listed");
	assert_int_equal(batch[1]->result.ttl_s, 0);
	assert_result(batch[2], LOOKUP_CLEAN, "not listed");

	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 3, 200, "{}"), ANSWER_DECIDED);
	for (int i = 0; i < 3; i++)
		assert_result(batch[i], LOOKUP_CLEAN, "not listed");
	for (int i = 0; i < 3; i++)
		lookup_del(batch[i]);
}

static void test_safebrowsing_suspicious_and_worst(void **state)
{
	(void)state;
	struct integration gsb = integration("gsb", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *batch[3] = {
		lookup_new(&gsb, INDICATOR_URL, "http://unwanted.example/dl"),
		lookup_new(&gsb, INDICATOR_DOMAIN, "pha.example"),
		lookup_new(&gsb, INDICATOR_URL, "http://both.example/"),
	};
	const char *body =
		"{\"matches\":["
		"{\"threatType\":\"UNWANTED_SOFTWARE\",\"platformType\":\"ANY_PLATFORM\","
		"\"threatEntryType\":\"URL\",\"threat\":{\"url\":\"http://unwanted.example/dl\"},\"cacheDuration\":\"300.000s\"},"
		"{\"threatType\":\"UNWANTED_SOFTWARE\",\"platformType\":\"WINDOWS\","
		"\"threatEntryType\":\"URL\",\"threat\":{\"url\":\"http://unwanted.example/dl\"},\"cacheDuration\":\"120.500s\"},"
		"{\"threatType\":\"POTENTIALLY_HARMFUL_APPLICATION\",\"platformType\":\"ANY_PLATFORM\","
		"\"threatEntryType\":\"URL\",\"threat\":{\"url\":\"http://pha.example/\"}},"
		"{\"threatType\":\"UNWANTED_SOFTWARE\",\"platformType\":\"ANY_PLATFORM\","
		"\"threatEntryType\":\"URL\",\"threat\":{\"url\":\"http://both.example/\"},\"cacheDuration\":\"300s\"},"
		"{\"threatType\":\"MALWARE\",\"platformType\":\"ANY_PLATFORM\","
		"\"threatEntryType\":\"URL\",\"threat\":{\"url\":\"http://both.example/\"},\"cacheDuration\":\"600s\"}]}";

	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 3, 200, body), ANSWER_DECIDED);
	/* one list, two platforms: said once; the shorter duration wins */
	assert_result(batch[0], LOOKUP_SUSPICIOUS, "UNWANTED_SOFTWARE");
	assert_int_equal(batch[0]->result.ttl_s, 120);
	/* the host form is asked as http://<host>/ */
	assert_result(batch[1], LOOKUP_SUSPICIOUS, "POTENTIALLY_HARMFUL_APPLICATION");
	assert_int_equal(batch[1]->result.ttl_s, 0);
	assert_result(batch[2], LOOKUP_MALICIOUS, "UNWANTED_SOFTWARE,MALWARE");
	assert_int_equal(batch[2]->result.ttl_s, 300);
	for (int i = 0; i < 3; i++)
		lookup_del(batch[i]);
}

static void test_safebrowsing_errors(void **state)
{
	(void)state;
	struct integration gsb = integration("gsb", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *batch[2] = {
		lookup_new(&gsb, INDICATOR_URL, "http://login-example.test/verify"),
		lookup_new(&gsb, INDICATOR_DOMAIN, "example.org"),
	};

	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 2, 400, google_bad_key_sb),
			 ANSWER_AUTH);
	for (int i = 0; i < 2; i++)
		assert_result(batch[i], LOOKUP_ERROR,
			      "HTTP 400 API_KEY_INVALID: API key not valid. Please pass a valid API key.");
	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 2, 400, gsb_no_entry_type),
			 ANSWER_PERMANENT);
	for (int i = 0; i < 2; i++)
		assert_result(batch[i], LOOKUP_ERROR,
			      "HTTP 400 INVALID_ARGUMENT: Invalid request: threat entry type not set.");
	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 2, 403, gsb_disabled), ANSWER_AUTH);
	assert_result(batch[1], LOOKUP_ERROR,
		      "HTTP 403 PERMISSION_DENIED: Safe Browsing API has not been used in project "
		      "123456789 before or it is disabled.");
	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 2, 429, gsb_quota), ANSWER_QUOTA);
	for (int i = 0; i < 2; i++)
		assert_result(batch[i], LOOKUP_RATE_LIMITED,
			      "HTTP 429 RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'Requests' "
			      "of service 'safebrowsing.googleapis.com'.");
	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 2, 503, gsb_unavailable),
			 ANSWER_TRANSIENT);
	assert_result(batch[0], LOOKUP_ERROR, "HTTP 503 UNAVAILABLE: The service is currently unavailable.");
	/* a 5xx without Google's envelope */
	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 2, 502, "<html>Bad Gateway</html>"),
			 ANSWER_TRANSIENT);
	assert_result(batch[0], LOOKUP_ERROR, "HTTP 502");
	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 2, 200, "{\"matches\":[{\"threatT"),
			 ANSWER_TRANSIENT);
	for (int i = 0; i < 2; i++)
		assert_result(batch[i], LOOKUP_ERROR, "malformed answer");
	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 2, 200, "{\"matches\":\"none\"}"),
			 ANSWER_TRANSIENT);
	assert_result(batch[0], LOOKUP_ERROR, "malformed answer");
	/* a match we cannot attribute: never call the rest clean */
	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 2, 200,
				     "{\"matches\":[{\"threatType\":\"MALWARE\"}]}"),
			 ANSWER_TRANSIENT);
	assert_result(batch[1], LOOKUP_ERROR, "malformed answer");
	/* a threat type that is no enum name never reaches a details text */
	assert_int_equal(parse_batch(&safebrowsing_ops, &gsb, batch, 2, 200,
				     "{\"matches\":[{\"threatType\":\"MALWARE\\r\\nX-Threat-Verdict: clean\","
				     "\"threat\":{\"url\":\"http://login-example.test/verify\"}}]}"),
			 ANSWER_TRANSIENT);
	assert_result(batch[0], LOOKUP_ERROR, "malformed answer");
	for (int i = 0; i < 2; i++)
		lookup_del(batch[i]);
}

static void test_google_message_never_carries_the_key(void **state)
{
	(void)state;
	struct integration gsb = integration("gsb", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = lookup_new(&gsb, INDICATOR_URL, "http://a.example/");
	const char *echo =
		"{\"error\":{\"code\":400,\"message\":\"API key " GOOGLE_KEY " not valid\\nretry\","
		"\"status\":\"INVALID_ARGUMENT\",\"details\":[{\"reason\":\"API_KEY_INVALID\"}]}}";
	const char *odd_status =
		"{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":\"" GOOGLE_KEY "\"}}";

	assert_int_equal(parse(&safebrowsing_ops, &gsb, l, 400, echo), ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, "HTTP 400 API_KEY_INVALID: API key <key> not valid retry");
	assert_int_equal(parse(&webrisk_ops, &gsb, l, 400, odd_status), ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 400: bad");
	lookup_del(l);
}

static void test_google_message_is_bounded(void **state)
{
	(void)state;
	struct integration gsb = integration("gsb", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = lookup_new(&gsb, INDICATOR_URL, "http://a.example/");
	/* byte 200 is inside a two-byte character: the cut goes before it */
	char *a199 = g_strnfill(199, 'a');
	char *b100 = g_strnfill(100, 'b');
	char *body = g_strdup_printf("{\"error\":{\"code\":500,\"message\":\"%s\xc3\xa4%s\","
				     "\"status\":\"INTERNAL\"}}", a199, b100);
	char *expected = g_strdup_printf("HTTP 500 INTERNAL: %s", a199);

	assert_int_equal(parse(&safebrowsing_ops, &gsb, l, 500, body), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, expected);
	g_free(expected);
	g_free(body);
	g_free(b100);
	g_free(a199);
	lookup_del(l);
}

static void test_safebrowsing_test_connection(void **state)
{
	(void)state;
	struct integration gsb = integration("gsb", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = lookup_new(&gsb, safebrowsing_ops.test_kind,
				      safebrowsing_ops.test_indicator);

	assert_int_equal(parse(&safebrowsing_ops, &gsb, l, 200, gsb_test_url), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "MALWARE");
	assert_true(safebrowsing_ops.test_ok(l));
	assert_int_equal(parse(&safebrowsing_ops, &gsb, l, 200, "{}"), ANSWER_DECIDED);
	assert_false(safebrowsing_ops.test_ok(l));
	assert_int_equal(parse(&safebrowsing_ops, &gsb, l, 400, google_bad_key_sb), ANSWER_AUTH);
	assert_false(safebrowsing_ops.test_ok(l));
	lookup_del(l);
}

/* ---------------------------------------------------------------- Web Risk */

#define WR_ROOT "https://webrisk.googleapis.com/v1"
#define WR_TYPES "threatTypes=MALWARE&threatTypes=SOCIAL_ENGINEERING&threatTypes=UNWANTED_SOFTWARE"

static const char wr_malicious[] =
	"{\"threat\":{\"threatTypes\":[\"SOCIAL_ENGINEERING\",\"MALWARE\"],\"expireTime\":\"2025-11-22T10:15:30.123456789Z\"}}";
static const char wr_suspicious[] =
	"{\"threat\":{\"threatTypes\":[\"UNWANTED_SOFTWARE\"],\"expireTime\":\"2025-11-22T10:20:00Z\"}}";
static const char google_bad_key_wr[] =
	"{\"error\":{\"code\":400,\"message\":\"API key not valid. Please pass a valid API key.\",\"status\":\"INVALID_ARGUMENT\","
	"\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":\"API_KEY_INVALID\",\"domain\":\"googleapis.com\","
	"\"metadata\":{\"service\":\"webrisk.googleapis.com\"}}]}}";
static const char wr_billing[] =
	"{\"error\":{\"code\":403,\"message\":\"This API method requires billing to be enabled.\",\"status\":\"PERMISSION_DENIED\"}}";
static const char wr_no_types[] =
	"{\"error\":{\"code\":400,\"message\":\"Invalid value: threat_types must be specified.\",\"status\":\"INVALID_ARGUMENT\"}}";
static const char wr_quota[] =
	"{\"error\":{\"code\":429,\"message\":\"Quota exceeded for quota metric 'SearchUris requests' and limit "
	"'SearchUris requests per minute'.\",\"status\":\"RESOURCE_EXHAUSTED\"}}";
static const char wr_deadline[] =
	"{\"error\":{\"code\":504,\"message\":\"Deadline exceeded.\",\"status\":\"DEADLINE_EXCEEDED\"}}";

static void assert_wr_url(const struct integration *in, enum indicator_kind kind,
			  const char *indicator, const char *expected_url)
{
	struct lookup *l = lookup_new(in, kind, indicator);
	struct http_request req;

	build(&webrisk_ops, in, &l, 1, &req);
	assert_string_equal(req.url->str, expected_url);
	assert_string_equal(req.method, "GET");
	assert_null(req.body);
	assert_null(req.basic_auth);
	assert_true(has_header(&req, "Accept: application/json"));
	request_clear(&req);
	lookup_del(l);
}

static void test_webrisk_requests(void **state)
{
	(void)state;
	struct integration doc = integration("webrisk", WR_ROOT, "API_KEY", NULL, 0);
	struct integration wr = integration("webrisk", WR_ROOT "/", GOOGLE_KEY, NULL, 0);

	assert_true(webrisk_ops.supports(INDICATOR_URL));
	assert_true(webrisk_ops.supports(INDICATOR_DOMAIN));
	assert_false(webrisk_ops.supports(INDICATOR_IP));
	assert_false(webrisk_ops.supports(INDICATOR_HASH));
	assert_int_equal(webrisk_ops.max_batch, 1);
	/* the document's example, byte for byte */
	assert_wr_url(&doc, INDICATOR_URL, "https://login-example.com/verify?id=1",
		      "https://webrisk.googleapis.com/v1/uris:search?threatTypes=MALWARE"
		      "&threatTypes=SOCIAL_ENGINEERING&threatTypes=UNWANTED_SOFTWARE"
		      "&uri=https%3A%2F%2Flogin-example.com%2Fverify%3Fid%3D1&key=API_KEY");
	assert_wr_url(&wr, INDICATOR_DOMAIN, "example.net",
		      WR_ROOT "/uris:search?" WR_TYPES "&uri=http%3A%2F%2Fexample.net%2F&key=" GOOGLE_KEY);
	assert_wr_url(&wr, INDICATOR_URL, "http://a.example/p?x=1&y=\xc3\xa4#frag",
		      WR_ROOT "/uris:search?" WR_TYPES
		      "&uri=http%3A%2F%2Fa.example%2Fp%3Fx%3D1%26y%3D%C3%A4%23frag&key=" GOOGLE_KEY);
	assert_wr_url(&wr, webrisk_ops.test_kind, webrisk_ops.test_indicator,
		      WR_ROOT "/uris:search?" WR_TYPES
		      "&uri=http%3A%2F%2Ftestsafebrowsing.appspot.com%2Fs%2Fmalware.html&key=" GOOGLE_KEY);
}

static void test_webrisk_verdicts(void **state)
{
	(void)state;
	struct integration wr = integration("webrisk", WR_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = lookup_new(&wr, INDICATOR_URL, "http://login-example.test/verify");

	assert_int_equal(parse(&webrisk_ops, &wr, l, 200, wr_malicious), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "SOCIAL_ENGINEERING,MALWARE");
	/* the fixture's expireTime is in the past: cache it as briefly as possible */
	assert_int_equal(l->result.ttl_s, 1);
	assert_true(webrisk_ops.test_ok(l));

	l->result.ttl_s = 0;
	assert_int_equal(parse(&webrisk_ops, &wr, l, 200, wr_suspicious), ANSWER_DECIDED);
	assert_result(l, LOOKUP_SUSPICIOUS, "UNWANTED_SOFTWARE");
	assert_false(webrisk_ops.test_ok(l));

	assert_int_equal(parse(&webrisk_ops, &wr, l, 200,
			       "{\"threat\":{\"threatTypes\":[\"SOCIAL_ENGINEERING_EXTENDED_COVERAGE\"]}}"),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "SOCIAL_ENGINEERING_EXTENDED_COVERAGE");
	/* no expireTime: no hint */
	assert_int_equal(l->result.ttl_s, 0);

	assert_int_equal(parse(&webrisk_ops, &wr, l, 200, "{}"), ANSWER_DECIDED);
	assert_result(l, LOOKUP_CLEAN, "not listed");
	assert_false(webrisk_ops.test_ok(l));
	lookup_del(l);
}

static void test_webrisk_expire_time(void **state)
{
	(void)state;
	struct integration wr = integration("webrisk", WR_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = lookup_new(&wr, INDICATOR_URL, "http://login-example.test/verify");
	GDateTime *now = g_date_time_new_now_utc();
	GDateTime *later = g_date_time_add_seconds(now, 600);
	char *stamp = g_date_time_format(later, "%Y-%m-%dT%H:%M:%S.123456789Z");
	char *body = g_strdup_printf("{\"threat\":{\"threatTypes\":[\"MALWARE\"],\"expireTime\":\"%s\"}}",
				     stamp);

	assert_int_equal(parse(&webrisk_ops, &wr, l, 200, body), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "MALWARE");
	assert_in_range(l->result.ttl_s, 595, 600);

	l->result.ttl_s = 77;
	assert_int_equal(parse(&webrisk_ops, &wr, l, 200,
			       "{\"threat\":{\"threatTypes\":[\"MALWARE\"],\"expireTime\":\"tomorrow\"}}"),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "MALWARE");
	assert_int_equal(l->result.ttl_s, 0);
	g_free(body);
	g_free(stamp);
	g_date_time_unref(later);
	g_date_time_unref(now);
	lookup_del(l);
}

static void test_webrisk_errors(void **state)
{
	(void)state;
	struct integration wr = integration("webrisk", WR_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = lookup_new(&wr, INDICATOR_URL, "http://login-example.test/verify");

	assert_int_equal(parse(&webrisk_ops, &wr, l, 400, google_bad_key_wr), ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, "HTTP 400 API_KEY_INVALID: API key not valid. Please pass a valid API key.");
	assert_false(webrisk_ops.test_ok(l));
	assert_int_equal(parse(&webrisk_ops, &wr, l, 400, wr_no_types), ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 400 INVALID_ARGUMENT: Invalid value: threat_types must be specified.");
	assert_int_equal(parse(&webrisk_ops, &wr, l, 403, wr_billing), ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, "HTTP 403 PERMISSION_DENIED: This API method requires billing to be enabled.");
	assert_int_equal(parse(&webrisk_ops, &wr, l, 429, wr_quota), ANSWER_QUOTA);
	assert_result(l, LOOKUP_RATE_LIMITED,
		      "HTTP 429 RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'SearchUris requests' "
		      "and limit 'SearchUris requests per minute'.");
	assert_int_equal(parse(&webrisk_ops, &wr, l, 504, wr_deadline), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 504 DEADLINE_EXCEEDED: Deadline exceeded.");
	assert_int_equal(parse(&webrisk_ops, &wr, l, 500, ""), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 500");
	assert_int_equal(parse(&webrisk_ops, &wr, l, 200, "{\"threat\":"), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	assert_int_equal(parse(&webrisk_ops, &wr, l, 200, "[]"), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	assert_int_equal(parse(&webrisk_ops, &wr, l, 200, "{\"threat\":{\"threatTypes\":\"MALWARE\"}}"),
			 ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	assert_int_equal(parse(&webrisk_ops, &wr, l, 200, "{\"threat\":{\"threatTypes\":[7]}}"),
			 ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	assert_int_equal(parse(&webrisk_ops, &wr, l, 200,
			       "{\"threat\":{\"threatTypes\":[\"MALWARE\",\"Malware, or not\"]}}"),
			 ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	lookup_del(l);
}

/* ----------------------------------------------------------------- X-Force */

#define XF_ROOT "https://api.xforce.ibmcloud.com"

static const char xf_ip_malicious[] =
	"{\"ip\":\"203.0.113.7\",\"score\":8.6,\"reason\":\"Anonymization Services\",\"reasonDescription\":\"Host used as anonymizing proxy.\","
	"\"cats\":{\"Spam\":43,\"Anonymisation Services\":86},\"categoryDescriptions\":{\"Spam\":\"This category lists IP addresses that were seen sending out spam.\"},"
	"\"geo\":{\"country\":\"Netherlands\",\"countrycode\":\"NL\"},"
	"\"subnets\":[{\"subnet\":\"203.0.113.0/24\",\"ip\":\"203.0.113.0\",\"score\":5,\"cats\":{},\"reason\":\"Regional Internet Registry\",\"created\":\"2024-01-01T00:00:00.000Z\"}],"
	"\"history\":[{\"created\":\"2025-10-01T12:00:00.000Z\",\"ip\":\"203.0.113.7\",\"score\":8.6,\"cats\":{\"Spam\":43},\"reason\":\"Spam\",\"geo\":{\"country\":\"Netherlands\",\"countrycode\":\"NL\"}}],"
	"\"tags\":[]}";

static const char xf_ip_clean[] =
	"{\"ip\":\"8.8.8.8\",\"score\":1,\"reason\":\"Regional Internet Registry\",\"reasonDescription\":\"One of the five RIRs announced a (new) location mapping of the IP.\","
	"\"cats\":{},\"categoryDescriptions\":{},\"geo\":{\"country\":\"United States\",\"countrycode\":\"US\"},"
	"\"subnets\":[{\"subnet\":\"8.0.0.0/8\",\"ip\":\"8.0.0.0\",\"score\":1,\"cats\":{},\"reason\":\"Regional Internet Registry\",\"created\":\"2018-04-24T06:22:00.000Z\"}],"
	"\"history\":[],\"tags\":[]}";

static const char xf_url_malicious[] =
	"{\"result\":{\"url\":\"login-example.test/verify\",\"score\":10,\"cats\":{\"Phishing URLs\":true},"
	"\"categoryDescriptions\":{\"Phishing URLs\":\"Sites that trick users into revealing credentials.\"}},"
	"\"associated\":[{\"url\":\"login-example.test\",\"score\":10,\"cats\":{\"Phishing URLs\":true},\"categoryDescriptions\":{}}],"
	"\"tags\":[]}";

static const char xf_url_clean[] =
	"{\"result\":{\"url\":\"www.example.org\",\"score\":1,\"cats\":{\"Search Engines / Web Catalogs / Portals\":true},\"categoryDescriptions\":{}},"
	"\"associated\":[],\"tags\":[]}";

static const char xf_eicar[] =
	"{\"malware\":{\"type\":\"md5\",\"md5\":\"0x44D88612FEA8A8F36DE82E1278ABB02F\",\"hash\":\"0x44D88612FEA8A8F36DE82E1278ABB02F\","
	"\"risk\":\"high\",\"family\":[\"eicar\"],\"familyMembers\":{\"eicar\":{\"count\":12}},\"created\":\"2015-01-01T00:00:00Z\","
	"\"origins\":{\"external\":{\"source\":\"reversingLabs\",\"firstSeen\":\"2015-01-01T00:00:00Z\",\"lastSeen\":\"2025-10-01T00:00:00Z\","
	"\"malwareType\":\"Test\",\"platform\":\"DOS\",\"detectionCoverage\":58,\"family\":[\"eicar\"]}}},\"tags\":[]}";

static const char xf_low_risk[] =
	"{\"malware\":{\"type\":\"sha256\",\"sha256\":\"0x55D2AD612F36AEBF2184F138D37BA1A16B774627FBBAFD737425731369EFD010\","
	"\"hash\":\"0x55D2AD612F36AEBF2184F138D37BA1A16B774627FBBAFD737425731369EFD010\",\"risk\":\"low\","
	"\"origins\":{\"external\":{\"source\":\"reversingLabs\",\"detectionCoverage\":0,\"family\":null}}}}";

static void assert_xf_url(const struct integration *in, enum indicator_kind kind,
			  const char *indicator, const char *expected_url)
{
	struct lookup *l = lookup_new(in, kind, indicator);
	struct http_request req;

	build(&xforce_ops, in, &l, 1, &req);
	assert_string_equal(req.url->str, expected_url);
	assert_string_equal(req.method, "GET");
	assert_null(req.body);
	assert_non_null(req.basic_auth);
	assert_string_equal(req.basic_auth, XF_KEY ":" XF_PASS);
	assert_true(has_header(&req, "Accept: application/json"));
	/* credentials go through curl's Basic auth, never a header or the URL */
	assert_false(has_header_named(&req, "Authorization"));
	assert_null(strstr(req.url->str, XF_KEY));
	assert_null(strstr(req.url->str, XF_PASS));
	request_clear(&req);
	lookup_del(l);
}

static void test_xforce_requests(void **state)
{
	(void)state;
	struct integration xf = integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 0);
	struct integration exchange = integration("xforce", "https://exchange.xforce.ibmcloud.com/api/",
						  XF_KEY, XF_PASS, 0);

	for (int k = INDICATOR_URL; k <= INDICATOR_HASH; k++)
		assert_true(xforce_ops.supports((enum indicator_kind)k));
	assert_int_equal(xforce_ops.max_batch, 1);
	assert_xf_url(&xf, INDICATOR_IP, "203.0.113.7", XF_ROOT "/ipr/203.0.113.7");
	assert_xf_url(&xf, INDICATOR_URL, "http://login-example.test/verify",
		      XF_ROOT "/url/http%3A%2F%2Flogin-example.test%2Fverify");
	/* the document's quote_plus example */
	assert_xf_url(&xf, INDICATOR_URL, "https://a.example/x?y=1",
		      XF_ROOT "/url/https%3A%2F%2Fa.example%2Fx%3Fy%3D1");
	assert_xf_url(&xf, INDICATOR_URL, "https://a.example/x#top",
		      XF_ROOT "/url/https%3A%2F%2Fa.example%2Fx%23top");
	assert_xf_url(&xf, INDICATOR_DOMAIN, "www.example.org", XF_ROOT "/url/www.example.org");
	assert_xf_url(&xf, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f",
		      XF_ROOT "/malware/44d88612fea8a8f36de82e1278abb02f");
	/* what curl puts in Authorization, as the document's mock expects */
	struct integration doc = integration("xforce", XF_ROOT, "testkey", "testpass", 0);
	struct lookup *l = lookup_new(&doc, INDICATOR_IP, "8.8.8.8");
	struct http_request req;
	build(&xforce_ops, &doc, &l, 1, &req);
	char *token = g_base64_encode((const guchar *)req.basic_auth, strlen(req.basic_auth));
	assert_string_equal(token, "dGVzdGtleTp0ZXN0cGFzcw==");
	g_free(token);
	request_clear(&req);
	lookup_del(l);
	assert_xf_url(&exchange, INDICATOR_IP, "8.8.8.8",
		      "https://exchange.xforce.ibmcloud.com/api/ipr/8.8.8.8");
	assert_int_equal(xforce_ops.test_kind, INDICATOR_IP);
	assert_xf_url(&xf, xforce_ops.test_kind, xforce_ops.test_indicator, XF_ROOT "/ipr/8.8.8.8");
}

static void test_xforce_scores(void **state)
{
	(void)state;
	struct integration xf = integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 0);
	struct integration strict = integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 9);
	struct integration bogus = integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 42);
	struct lookup *ip = lookup_new(&xf, INDICATOR_IP, "203.0.113.7");
	struct lookup *url = lookup_new(&xf, INDICATOR_URL, "http://login-example.test/verify");

	assert_int_equal(parse(&xforce_ops, &xf, ip, 200, xf_ip_malicious), ANSWER_DECIDED);
	assert_result(ip, LOOKUP_MALICIOUS, "score 8.6");
	/* DetectionThreshold is the malicious cut-off */
	assert_int_equal(parse(&xforce_ops, &strict, ip, 200, xf_ip_malicious), ANSWER_DECIDED);
	assert_result(ip, LOOKUP_SUSPICIOUS, "score 8.6");
	/* out of 1..10: the default 7 */
	assert_int_equal(parse(&xforce_ops, &bogus, ip, 200, xf_ip_malicious), ANSWER_DECIDED);
	assert_result(ip, LOOKUP_MALICIOUS, "score 8.6");
	assert_int_equal(parse(&xforce_ops, &xf, ip, 200, "{\"ip\":\"203.0.113.8\",\"score\":7}"),
			 ANSWER_DECIDED);
	assert_result(ip, LOOKUP_MALICIOUS, "score 7");
	assert_int_equal(parse(&xforce_ops, &xf, ip, 200, "{\"ip\":\"198.51.100.1\",\"score\":5}"),
			 ANSWER_DECIDED);
	assert_result(ip, LOOKUP_SUSPICIOUS, "score 5");
	assert_int_equal(parse(&xforce_ops, &xf, ip, 200, "{\"ip\":\"198.51.100.2\",\"score\":4}"),
			 ANSWER_DECIDED);
	assert_result(ip, LOOKUP_SUSPICIOUS, "score 4");
	assert_int_equal(parse(&xforce_ops, &xf, ip, 200, "{\"ip\":\"198.51.100.3\",\"score\":3.9}"),
			 ANSWER_DECIDED);
	assert_result(ip, LOOKUP_CLEAN, "score 3.9");
	assert_int_equal(parse(&xforce_ops, &xf, ip, 200, xf_ip_clean), ANSWER_DECIDED);
	assert_result(ip, LOOKUP_CLEAN, "score 1");
	assert_true(xforce_ops.test_ok(ip));
	/* no score: X-Force does not know */
	assert_int_equal(parse(&xforce_ops, &xf, ip, 200, "{\"ip\":\"192.0.2.1\",\"score\":null}"),
			 ANSWER_DECIDED);
	assert_result(ip, LOOKUP_UNKNOWN, "no score");
	assert_true(xforce_ops.test_ok(ip));
	/* the IP score is top-level: result.score does not count for an IP */
	assert_int_equal(parse(&xforce_ops, &xf, ip, 200, xf_url_malicious), ANSWER_DECIDED);
	assert_result(ip, LOOKUP_UNKNOWN, "no score");

	assert_int_equal(parse(&xforce_ops, &xf, url, 200, xf_url_malicious), ANSWER_DECIDED);
	assert_result(url, LOOKUP_MALICIOUS, "score 10");
	assert_int_equal(parse(&xforce_ops, &xf, url, 200, xf_url_clean), ANSWER_DECIDED);
	assert_result(url, LOOKUP_CLEAN, "score 1");
	assert_int_equal(parse(&xforce_ops, &xf, url, 200, "{\"result\":{\"url\":\"x.example\"}}"),
			 ANSWER_DECIDED);
	assert_result(url, LOOKUP_UNKNOWN, "no score");
	/* a URL's score is result.score, not a top-level one */
	assert_int_equal(parse(&xforce_ops, &xf, url, 200, xf_ip_malicious), ANSWER_DECIDED);
	assert_result(url, LOOKUP_UNKNOWN, "no score");
	lookup_del(ip);
	lookup_del(url);
}

static void test_xforce_hashes(void **state)
{
	(void)state;
	struct integration xf = integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 0);
	struct lookup *l = lookup_new(&xf, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f");

	assert_int_equal(parse(&xforce_ops, &xf, l, 200, xf_eicar), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "risk high (eicar)");
	/* family null, no malware.family: parsed without it */
	assert_int_equal(parse(&xforce_ops, &xf, l, 200, xf_low_risk), ANSWER_DECIDED);
	assert_result(l, LOOKUP_SUSPICIOUS, "risk low");
	assert_int_equal(parse(&xforce_ops, &xf, l, 200,
			       "{\"malware\":{\"risk\":\"medium\",\"family\":null,"
			       "\"origins\":{\"external\":{\"family\":[\"badur\",\"tsunami\"]}}}}"),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_SUSPICIOUS, "risk medium (badur,tsunami)");
	/* no origins at all */
	assert_int_equal(parse(&xforce_ops, &xf, l, 200, "{\"malware\":{\"risk\":\"high\"}}"),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "risk high");
	assert_int_equal(parse(&xforce_ops, &xf, l, 404, "{\"error\":\"Not found.\"}"), ANSWER_DECIDED);
	assert_result(l, LOOKUP_UNKNOWN, "not found");
	/* 404 is unknown whatever the body */
	assert_int_equal(parse(&xforce_ops, &xf, l, 404, "Not Found"), ANSWER_DECIDED);
	assert_result(l, LOOKUP_UNKNOWN, "not found");
	assert_int_equal(parse(&xforce_ops, &xf, l, 200, "{\"tags\":[]}"), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	lookup_del(l);
}

static void test_xforce_errors(void **state)
{
	(void)state;
	struct integration xf = integration("xforce", XF_ROOT, XF_KEY, XF_PASS, 0);
	struct lookup *l = lookup_new(&xf, INDICATOR_IP, "8.8.8.8");

	assert_int_equal(parse(&xforce_ops, &xf, l, 401, "{\"error\":\"Not authorized.\"}"), ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, "HTTP 401: credentials refused");
	assert_false(xforce_ops.test_ok(l));
	assert_int_equal(parse(&xforce_ops, &xf, l, 402, "{\"error\":\"Monthly quota exceeded.\"}"),
			 ANSWER_QUOTA);
	assert_result(l, LOOKUP_RATE_LIMITED, "HTTP 402: monthly quota exhausted");
	assert_false(xforce_ops.test_ok(l));
	assert_int_equal(parse(&xforce_ops, &xf, l, 403, "{\"error\":\"Access denied.\"}"),
			 ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 403: access denied");
	assert_int_equal(parse(&xforce_ops, &xf, l, 429, "{\"error\":\"Too many requests.\"}"),
			 ANSWER_QUOTA);
	assert_result(l, LOOKUP_RATE_LIMITED, "HTTP 429: provider rate limit");
	assert_int_equal(parse(&xforce_ops, &xf, l, 400, "{\"error\":\"Invalid IP address.\"}"),
			 ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 400: Invalid IP address.");
	/* the server's text stays one line of ASCII */
	assert_int_equal(parse(&xforce_ops, &xf, l, 400, "{\"error\":\"Ung\xc3\xbcltig\\n\"}"),
			 ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 400: Ung  ltig ");
	assert_int_equal(parse(&xforce_ops, &xf, l, 500, "{\"error\":\"Internal error.\"}"),
			 ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 500");
	assert_int_equal(parse(&xforce_ops, &xf, l, 503, ""), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 503");
	assert_int_equal(parse(&xforce_ops, &xf, l, 200, "{\"ip\":\"8.8.8.8\",\"score\":"),
			 ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	assert_false(xforce_ops.test_ok(l));
	lookup_del(l);
}

/* ------------------------------------------------------- MetaDefender */

#define MD_ROOT "https://api.metadefender.com/v4"

/* the document's fixtures (opswat-metadefender.md, section 8) */
static const char md_eicar[] =
	"{\"data_id\":\"bzIwMDEyMkJ5bHJwRG5GeTNtTTBoNWpJbUZm\",\"scan_results\":{"
	"\"scan_all_result_i\":1,\"scan_all_result_a\":\"Infected\",\"total_avs\":38,"
	"\"total_detected_avs\":31,\"progress_percentage\":100},\"file_info\":{"
	"\"md5\":\"44d88612fea8a8f36de82e1278abb02f\",\"display_name\":\"eicar.com\"}}";
static const char md_ip_malicious[] =
	"{\"address\":\"192.0.2.66\",\"lookup_results\":{\"start_time\":\"2026-11-20T10:00:00.000Z\","
	"\"detected_by\":3,\"sources\":["
	"{\"provider\":\"webroot.com\",\"assessment\":\"phishing\",\"status\":1},"
	"{\"provider\":\"example-bl.net\",\"assessment\":\"spam\",\"status\":1},"
	"{\"provider\":\"example-rep.org\",\"assessment\":\"high risk\",\"status\":1},"
	"{\"provider\":\"clean-source.test\",\"assessment\":\"\",\"status\":5}]},"
	"\"geo_info\":{\"country\":{\"code\":\"ZZ\",\"name\":\"Unknown\"}}}";
static const char md_url_clean[] =
	"{\"address\":\"https://www.example.com/\",\"lookup_results\":{\"detected_by\":0,"
	"\"sources\":[{\"provider\":\"webroot.com\",\"assessment\":\"trustworthy\",\"status\":0}]}}";

static void assert_md_url(const struct integration *in, enum indicator_kind kind,
			  const char *indicator, const char *expected)
{
	struct lookup *l = lookup_new(in, kind, indicator);
	struct http_request req;

	build(&metadefender_ops, in, &l, 1, &req);
	assert_string_equal(req.method, "GET");
	assert_null(req.body);
	assert_null(req.basic_auth);
	assert_string_equal(req.url->str, expected);
	/* the key travels in its header, never in the URL */
	assert_true(has_header(&req, "apikey: " MD_KEY));
	assert_null(strstr(req.url->str, MD_KEY));
	request_clear(&req);
	lookup_del(l);
}

static void test_metadefender_requests(void **state)
{
	(void)state;
	struct integration md = integration("metadefender", MD_ROOT, MD_KEY, NULL, 0);
	struct integration slash = integration("metadefender", MD_ROOT "/", MD_KEY, NULL, 0);

	for (int k = INDICATOR_URL; k <= INDICATOR_HASH; k++)
		assert_true(metadefender_ops.supports((enum indicator_kind)k));
	assert_int_equal(metadefender_ops.max_batch, 1);
	assert_md_url(&md, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f",
		      MD_ROOT "/hash/44d88612fea8a8f36de82e1278abb02f");
	assert_md_url(&slash, INDICATOR_IP, "192.0.2.66", MD_ROOT "/ip/192.0.2.66");
	assert_md_url(&md, INDICATOR_IP, "2001:db8::1", MD_ROOT "/ip/2001%3Adb8%3A%3A1");
	/* the whole URL is one path segment */
	assert_md_url(&md, INDICATOR_URL, "https://www.example.com/",
		      MD_ROOT "/url/https%3A%2F%2Fwww.example.com%2F");
	assert_md_url(&md, INDICATOR_URL, "http://a.example/p?q=1&r=2#f",
		      MD_ROOT "/url/http%3A%2F%2Fa.example%2Fp%3Fq%3D1%26r%3D2%23f");
	assert_md_url(&md, INDICATOR_DOMAIN, "login.example.net", MD_ROOT "/domain/login.example.net");
	assert_int_equal(metadefender_ops.test_kind, INDICATOR_IP);
	assert_md_url(&md, metadefender_ops.test_kind, metadefender_ops.test_indicator,
		      MD_ROOT "/ip/8.8.8.8");
}

static void test_metadefender_hashes(void **state)
{
	(void)state;
	struct integration md = integration("metadefender", MD_ROOT, MD_KEY, NULL, 0);
	struct lookup *l = lookup_new(&md, INDICATOR_HASH, "44d88612fea8a8f36de82e1278abb02f");
	static const struct { int code; enum lookup_status status; } table[] = {
		{ 0, LOOKUP_CLEAN }, { 1, LOOKUP_MALICIOUS }, { 2, LOOKUP_SUSPICIOUS },
		{ 3, LOOKUP_UNKNOWN }, { 4, LOOKUP_SUSPICIOUS }, { 5, LOOKUP_UNKNOWN },
		{ 7, LOOKUP_CLEAN }, { 8, LOOKUP_MALICIOUS }, { 9, LOOKUP_UNKNOWN },
		{ 10, LOOKUP_UNKNOWN }, { 12, LOOKUP_UNKNOWN }, { 22, LOOKUP_SUSPICIOUS },
		{ 23, LOOKUP_UNKNOWN }, { 255, LOOKUP_UNKNOWN }, { 6, LOOKUP_UNKNOWN },
	};

	assert_int_equal(parse(&metadefender_ops, &md, l, 200, md_eicar), ANSWER_DECIDED);
	assert_result(l, LOOKUP_MALICIOUS, "Infected 31/38");
	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		char *body = g_strdup_printf("{\"scan_results\":{\"scan_all_result_i\":%d}}",
					     table[i].code);
		char *details = g_strdup_printf("result %d", table[i].code);

		assert_int_equal(parse(&metadefender_ops, &md, l, 200, body), ANSWER_DECIDED);
		assert_result(l, table[i].status, details);
		g_free(body);
		g_free(details);
	}
	/* the engine's name is sanitised before it can become a header */
	assert_int_equal(parse(&metadefender_ops, &md, l, 200,
			       "{\"scan_results\":{\"scan_all_result_i\":2,"
			       "\"scan_all_result_a\":\"Sus\\r\\npicious\",\"total_avs\":0}}"),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_SUSPICIOUS, "Sus  picious");
	assert_int_equal(parse(&metadefender_ops, &md, l, 404,
			       "{\"error\":{\"code\":404003,\"messages\":[\"The hash was not found\"]}}"),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_UNKNOWN, "not found");
	/* MetaDefender Core's (and API v3's) "not found" */
	assert_int_equal(parse(&metadefender_ops, &md, l, 200,
			       "{\"44D88612FEA8A8F36DE82E1278ABB02F\":\"Not Found\"}"),
			 ANSWER_DECIDED);
	assert_result(l, LOOKUP_UNKNOWN, "not found");
	assert_int_equal(parse(&metadefender_ops, &md, l, 200, "{\"data_id\":\"x\"}"),
			 ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	lookup_del(l);
}

static void test_metadefender_reputation(void **state)
{
	(void)state;
	struct integration md = integration("metadefender", MD_ROOT, MD_KEY, NULL, 0);
	struct integration strict = integration("metadefender", MD_ROOT, MD_KEY, NULL, 4);
	struct lookup *ip = lookup_new(&md, INDICATOR_IP, "192.0.2.66");
	struct lookup *url = lookup_new(&md, INDICATOR_URL, "https://www.example.com/");

	assert_int_equal(parse(&metadefender_ops, &md, ip, 200, md_ip_malicious), ANSWER_DECIDED);
	assert_result(ip, LOOKUP_MALICIOUS, "detected by 3");
	assert_true(metadefender_ops.test_ok(ip));
	/* the threshold is the integration's DetectionThreshold */
	assert_int_equal(parse(&metadefender_ops, &strict, ip, 200, md_ip_malicious), ANSWER_DECIDED);
	assert_result(ip, LOOKUP_SUSPICIOUS, "detected by 3");
	assert_int_equal(parse(&metadefender_ops, &md, ip, 200,
			       "{\"lookup_results\":{\"detected_by\":1,\"sources\":[]}}"),
			 ANSWER_DECIDED);
	assert_result(ip, LOOKUP_SUSPICIOUS, "detected by 1");
	assert_int_equal(parse(&metadefender_ops, &md, url, 200, md_url_clean), ANSWER_DECIDED);
	assert_result(url, LOOKUP_CLEAN, "detected by 0 of 1");
	/* nobody has an entry: not "clean" */
	assert_int_equal(parse(&metadefender_ops, &md, url, 200,
			       "{\"lookup_results\":{\"detected_by\":0,\"sources\":["
			       "{\"provider\":\"a\",\"status\":5},{\"provider\":\"b\",\"status\":5}]}}"),
			 ANSWER_DECIDED);
	assert_result(url, LOOKUP_UNKNOWN, "no source knows it");
	assert_true(metadefender_ops.test_ok(url));
	assert_int_equal(parse(&metadefender_ops, &md, url, 200, "{\"address\":\"x\"}"),
			 ANSWER_TRANSIENT);
	assert_result(url, LOOKUP_ERROR, "malformed answer");
	lookup_del(ip);
	lookup_del(url);
}

static void test_metadefender_errors(void **state)
{
	(void)state;
	struct integration md = integration("metadefender", MD_ROOT, MD_KEY, NULL, 0);
	struct lookup *l = lookup_new(&md, INDICATOR_IP, "8.8.8.8");

	assert_int_equal(parse(&metadefender_ops, &md, l, 401,
			       "{\"error\":{\"code\":401006,\"messages\":[\"Invalid apikey\"]}}"),
			 ANSWER_AUTH);
	assert_result(l, LOOKUP_ERROR, "HTTP 401: credentials refused");
	assert_false(metadefender_ops.test_ok(l));
	assert_int_equal(parse(&metadefender_ops, &md, l, 403, "{}"), ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 403: not in the licence");
	assert_int_equal(parse(&metadefender_ops, &md, l, 429,
			       "{\"error\":{\"code\":429000,\"messages\":[\"API limit exceeded\"]}}"),
			 ANSWER_QUOTA);
	assert_result(l, LOOKUP_RATE_LIMITED, "HTTP 429: API limit reached");
	assert_false(metadefender_ops.test_ok(l));
	assert_int_equal(parse(&metadefender_ops, &md, l, 400,
			       "{\"error\":{\"code\":400064,\"messages\":[\"Invalid IP\\naddress\"]}}"),
			 ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 400: Invalid IP address");
	assert_int_equal(parse(&metadefender_ops, &md, l, 400, "Bad Request"), ANSWER_PERMANENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 400");
	assert_int_equal(parse(&metadefender_ops, &md, l, 503, ""), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "HTTP 503");
	assert_int_equal(parse(&metadefender_ops, &md, l, 200, "{\"lookup_results\":"),
			 ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "malformed answer");
	lookup_del(l);
}

/* ------------------------------------------------------- shared helpers */

static void test_transport_failure(void **state)
{
	(void)state;
	struct integration gsb = integration("gsb", GSB_ROOT, GOOGLE_KEY, NULL, 0);
	struct lookup *l = lookup_new(&gsb, INDICATOR_URL, "http://a.example/");
	struct http_response resp = { .status = 0, .body = "", .retry_after_s = -1,
				      .transport_error = "timeout" };

	assert_int_equal(provider_http_failure(&l, 1, &resp), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "timeout");
	assert_int_equal(provider_google_failure(&gsb, &l, 1, &resp), ANSWER_TRANSIENT);
	assert_result(l, LOOKUP_ERROR, "timeout");
	lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spamhaus_supports),
		cmocka_unit_test(test_spamhaus_query_names),
		cmocka_unit_test(test_spamhaus_dqs_key_zone),
		cmocka_unit_test(test_spamhaus_never_sends_ip_to_dbl),
		cmocka_unit_test(test_spamhaus_listed),
		cmocka_unit_test(test_spamhaus_pbl_only_is_suspicious),
		cmocka_unit_test(test_spamhaus_not_listed),
		cmocka_unit_test(test_spamhaus_error_codes),
		cmocka_unit_test(test_spamhaus_dns_failures),
		cmocka_unit_test(test_spamhaus_dbl),
		cmocka_unit_test(test_spamhaus_test_connection),
		cmocka_unit_test(test_virustotal_requests),
		cmocka_unit_test(test_virustotal_verdicts),
		cmocka_unit_test(test_virustotal_errors),
		cmocka_unit_test(test_safebrowsing_supports),
		cmocka_unit_test(test_safebrowsing_request),
		cmocka_unit_test(test_safebrowsing_request_full_batch),
		cmocka_unit_test(test_safebrowsing_verdicts),
		cmocka_unit_test(test_safebrowsing_suspicious_and_worst),
		cmocka_unit_test(test_safebrowsing_errors),
		cmocka_unit_test(test_google_message_never_carries_the_key),
		cmocka_unit_test(test_google_message_is_bounded),
		cmocka_unit_test(test_safebrowsing_test_connection),
		cmocka_unit_test(test_webrisk_requests),
		cmocka_unit_test(test_webrisk_verdicts),
		cmocka_unit_test(test_webrisk_expire_time),
		cmocka_unit_test(test_webrisk_errors),
		cmocka_unit_test(test_xforce_requests),
		cmocka_unit_test(test_xforce_scores),
		cmocka_unit_test(test_xforce_hashes),
		cmocka_unit_test(test_xforce_errors),
		cmocka_unit_test(test_metadefender_requests),
		cmocka_unit_test(test_metadefender_hashes),
		cmocka_unit_test(test_metadefender_reputation),
		cmocka_unit_test(test_metadefender_errors),
		cmocka_unit_test(test_transport_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
