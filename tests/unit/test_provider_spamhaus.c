/* test_provider_spamhaus.c: Spamhaus ZEN and DBL over DNS
 * (../shared/providers/spamhaus-zen.md): query names, DQS keys, the
 * reason codes and the 127.255.255.x errors. */
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

#include "provider_test_util.h"
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
	struct lookup *lookup = pt_lookup_new(in, kind, indicator);
	char *name = spamhaus_ops.dns_name(in, lookup);

	pt_lookup_del(lookup);
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


static void test_spamhaus_supports(void **state)
{
	(void)state;
	assert_true(provider_supports_kind("spamhaus", INDICATOR_IP));
	assert_true(provider_supports_kind("spamhaus", INDICATOR_DOMAIN));
	assert_false(provider_supports_kind("spamhaus", INDICATOR_URL));
	assert_false(provider_supports_kind("spamhaus", INDICATOR_HASH));
	assert_non_null(spamhaus_ops.dns_name);
	assert_null(spamhaus_ops.build_request);
}

static void test_spamhaus_query_names(void **state)
{
	(void)state;
	struct integration pub = pt_integration("spamhaus", NULL, NULL, NULL, 0);
	struct integration zen = pt_integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct integration mock = pt_integration("spamhaus", "zen.mock.test", NULL, NULL, 0);

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
	struct integration dqs = pt_integration("spamhaus", "zen.spamhaus.org", DQS_KEY, NULL, 0);
	struct integration dflt = pt_integration("spamhaus", NULL, DQS_KEY, NULL, 0);
	struct integration mock = pt_integration("spamhaus", "zen.dq.mock.test", DQS_KEY, NULL, 0);

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
	struct integration zen = pt_integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
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
	struct integration zen = pt_integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct lookup *l = pt_lookup_new(&zen, INDICATOR_IP, "127.0.0.2");

	/* the test point: several codes at once */
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60,
				   "127.0.0.2", "127.0.0.4", "127.0.0.10", NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "SBL,XBL,PBL");
	assert_int_equal(l->result.ttl_s, 60);
	assert_true(provider_type_find("spamhaus")->test.ok(l));

	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 120, "127.0.0.2", "127.0.0.9", NULL),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "SBL,DROP");
	assert_int_equal(l->result.ttl_s, 120);

	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.3", NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "CSS");
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.30", NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "BCL");
	/* XBL's reserved codes are one list */
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.4", "127.0.0.5", NULL),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "XBL");
	pt_lookup_del(l);
}

static void test_spamhaus_pbl_only_is_suspicious(void **state)
{
	(void)state;
	struct integration zen = pt_integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct lookup *l = pt_lookup_new(&zen, INDICATOR_IP, "203.0.113.9");

	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.11", NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "PBL");
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.10", "127.0.0.11", NULL),
			 ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "PBL");
	assert_false(provider_type_find("spamhaus")->test.ok(l));
	pt_lookup_del(l);
}

static void test_spamhaus_not_listed(void **state)
{
	(void)state;
	struct integration zen = pt_integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct lookup *l = pt_lookup_new(&zen, INDICATOR_IP, "203.0.113.10");

	assert_int_equal(parse_dns(&zen, l, ARES_ENOTFOUND, 0, NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_CLEAN, "not listed");
	assert_true(l->result.ttl_s > 0);
	assert_false(provider_type_find("spamhaus")->test.ok(l));
	assert_int_equal(parse_dns(&zen, l, ARES_ENODATA, 0, NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_CLEAN, "not listed");
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 0, NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_CLEAN, "not listed");
	pt_lookup_del(l);
}

static void test_spamhaus_error_codes(void **state)
{
	(void)state;
	struct integration dqs = pt_integration("spamhaus", "zen.spamhaus.org", DQS_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&dqs, INDICATOR_IP, "203.0.113.14");
	const char *resolver = "127.255.255.254: resolver not allowed "
			       "(public or open resolver; use a local one or DQS)";

	/* a real code mixed with an error code is an error, in either order */
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.0.0.2", "127.255.255.254", NULL),
			 ANSWER_AUTH);
	pt_assert_result(l, LOOKUP_ERROR, resolver);
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.255.255.254", "127.0.0.2", NULL),
			 ANSWER_AUTH);
	pt_assert_result(l, LOOKUP_ERROR, resolver);
	assert_false(provider_type_find("spamhaus")->test.ok(l));

	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.255.255.255", NULL), ANSWER_QUOTA);
	pt_assert_result(l, LOOKUP_ERROR, "127.255.255.255: over the free-use query volume");
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.255.255.252", NULL), ANSWER_AUTH);
	pt_assert_result(l, LOOKUP_ERROR, "127.255.255.252: typo in the zone name");
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.255.255.250", NULL), ANSWER_AUTH);
	pt_assert_result(l, LOOKUP_ERROR, "DQS key refused");

	/* an undocumented code is never a listing */
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.0.0.77", NULL), ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "unexpected answer 127.0.0.77");
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.0.0.2", "10.0.0.2", NULL),
			 ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "unexpected answer 10.0.0.2");
	/* DBL codes do not count for an IP */
	assert_int_equal(parse_dns(&dqs, l, ARES_SUCCESS, 60, "127.0.1.2", NULL), ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "unexpected answer 127.0.1.2");
	pt_lookup_del(l);
}

static void test_spamhaus_dns_failures(void **state)
{
	(void)state;
	struct integration dqs = pt_integration("spamhaus", "zen.spamhaus.org", DQS_KEY, NULL, 0);
	struct lookup *l = pt_lookup_new(&dqs, INDICATOR_IP, "203.0.113.16");

	assert_int_equal(parse_dns(&dqs, l, ARES_ESERVFAIL, 0, NULL), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "DNS SERVFAIL");
	assert_int_equal(parse_dns(&dqs, l, ARES_ETIMEOUT, 0, NULL), ANSWER_TRANSIENT);
	pt_assert_result(l, LOOKUP_ERROR, "DNS timeout");
	assert_int_equal(parse_dns(&dqs, l, ARES_EREFUSED, 0, NULL), ANSWER_TRANSIENT);
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	assert_non_null(strstr(l->result.details, "REFUSED"));
	assert_int_equal(parse_dns(&dqs, l, ARES_ECONNREFUSED, 0, NULL), ANSWER_TRANSIENT);
	assert_int_equal(l->result.status, LOOKUP_ERROR);
	pt_lookup_del(l);
}

static void test_spamhaus_dbl(void **state)
{
	(void)state;
	struct integration zen = pt_integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);
	struct lookup *l = pt_lookup_new(&zen, INDICATOR_DOMAIN, "dbltest.com");

	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.1.2", NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "DBL-spam");
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.1.4", NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_MALICIOUS, "DBL-phish");
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.1.103", NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_SUSPICIOUS, "DBL-abused-redirector");
	assert_int_equal(parse_dns(&zen, l, ARES_ENOTFOUND, 0, NULL), ANSWER_DECIDED);
	pt_assert_result(l, LOOKUP_CLEAN, "not listed");
	/* the answer DBL gives when asked about an IP */
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.1.255", NULL), ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "unexpected answer 127.0.1.255 (an IP was sent to DBL)");
	/* ZEN codes do not count for a domain */
	assert_int_equal(parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.2", NULL), ANSWER_PERMANENT);
	pt_assert_result(l, LOOKUP_ERROR, "unexpected answer 127.0.0.2");
	pt_lookup_del(l);
}

static void test_spamhaus_test_connection(void **state)
{
	(void)state;
	struct integration zen = pt_integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);

	assert_int_equal(provider_type_find("spamhaus")->test.kind, INDICATOR_IP);
	assert_dns_name(&zen, provider_type_find("spamhaus")->test.kind, provider_type_find("spamhaus")->test.indicator,
			"2.0.0.127.zen.spamhaus.org");
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
