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
	return spamhaus_dns.parse(in, lookup, ares_status, addrs, naddrs);
}

static char *dns_name(const struct integration *in, enum indicator_kind kind,
		      const char *indicator)
{
	struct lookup *lookup = pt_lookup_new(in, kind, indicator);
	char *name = spamhaus_dns.name(in, lookup);

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
	assert_non_null(spamhaus_dns.name);
	assert_null(provider_type_find("spamhaus")->ops.http);
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

static void test_spamhaus_answers(void **state)
{
	(void)state;
	/* the "cases" of tests/mock/fixtures/spamhaus-zen.json: the listings
	 * the mock DNS server serves, and what each answer becomes */
	assert_true(pt_run_dns_cases("spamhaus-zen", "spamhaus", "zen.spamhaus.org", DQS_KEY) > 20);
}

static void test_spamhaus_test_connection(void **state)
{
	(void)state;
	struct integration zen = pt_integration("spamhaus", "zen.spamhaus.org", NULL, NULL, 0);

	assert_int_equal(provider_type_find("spamhaus")->test.kind, INDICATOR_IP);
	assert_dns_name(&zen, provider_type_find("spamhaus")->test.kind,
			provider_type_find("spamhaus")->test.indicator, "2.0.0.127.zen.spamhaus.org");
	/* the test point must be listed; PBL alone or not listed is a failure */
	struct lookup *l = pt_lookup_new(&zen, INDICATOR_IP, "127.0.0.2");
	parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.2", "127.0.0.4", "127.0.0.10", NULL);
	assert_true(provider_type_find("spamhaus")->test.ok(l));
	parse_dns(&zen, l, ARES_SUCCESS, 60, "127.0.0.10", NULL);
	assert_false(provider_type_find("spamhaus")->test.ok(l));
	parse_dns(&zen, l, ARES_ENOTFOUND, 0, NULL);
	assert_false(provider_type_find("spamhaus")->test.ok(l));
	pt_lookup_del(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spamhaus_supports),
		cmocka_unit_test(test_spamhaus_query_names),
		cmocka_unit_test(test_spamhaus_dqs_key_zone),
		cmocka_unit_test(test_spamhaus_never_sends_ip_to_dbl),
		cmocka_unit_test(test_spamhaus_answers),
		cmocka_unit_test(test_spamhaus_test_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
