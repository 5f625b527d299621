/* test_exclude.c: exclusion matching -- domain vs subdomain vs look-alike,
 * URL prefixes, CIDR edges (IPv4 and IPv6), IPs that exclude URLs on
 * that host, extensions -- and the rule text reported for a match. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "analysis/exclude.h"

static struct exclusions *excl_with(const char *const *urls, const char *const *ips,
				    const char *const *exts)
{
	struct exclusions *excl = exclusions_new();
	char err[256];

	for (; urls && *urls; urls++)
		assert_true(exclusions_add_url(excl, *urls, err, sizeof(err)));
	for (; ips && *ips; ips++)
		assert_true(exclusions_add_ip(excl, *ips, err, sizeof(err)));
	for (; exts && *exts; exts++)
		assert_true(exclusions_add_extension(excl, *exts, err, sizeof(err)));
	return excl;
}

static void test_domain_and_subdomains(void **state)
{
	(void)state;
	const char *urls[] = { "example.com", "*.corp.example", NULL };
	struct exclusions *excl = excl_with(urls, NULL, NULL);

	assert_string_equal(exclusions_match_url(excl, "https://example.com/"), "domain example.com");
	assert_string_equal(exclusions_match_url(excl, "http://www.example.com/a?b=c"),
			    "domain example.com");
	assert_string_equal(exclusions_match_url(excl, "http://a.b.example.com:8080/"),
			    "domain example.com");
	assert_string_equal(exclusions_match_url(excl, "https://user:pw@deep.example.com/"),
			    "domain example.com");
	assert_string_equal(exclusions_match_url(excl, "https://portal.corp.example/x"),
			    "domain *.corp.example");
	/* look-alikes */
	assert_null(exclusions_match_url(excl, "https://badexample.com/"));
	assert_null(exclusions_match_url(excl, "https://example.com.evil.net/"));
	assert_null(exclusions_match_url(excl, "https://evil.net/example.com"));
	assert_null(exclusions_match_url(excl, "https://example.co/"));
	exclusions_free(excl);
}

static void test_domain_entries_are_normalised(void **state)
{
	(void)state;
	const char *urls[] = { "Example.ORG", "bücher.example", NULL };
	struct exclusions *excl = excl_with(urls, NULL, NULL);

	assert_non_null(exclusions_match_url(excl, "http://www.example.org/"));
	assert_non_null(exclusions_match_url(excl, "http://shop.xn--bcher-kva.example/"));
	exclusions_free(excl);
}

static void test_url_prefix(void **state)
{
	(void)state;
	const char *urls[] = { "https://portal.example.net/safe/", NULL };
	struct exclusions *excl = excl_with(urls, NULL, NULL);

	assert_string_equal(exclusions_match_url(excl, "https://portal.example.net/safe/doc?id=1"),
			    "url https://portal.example.net/safe/");
	assert_null(exclusions_match_url(excl, "https://portal.example.net/unsafe/"));
	assert_null(exclusions_match_url(excl, "http://portal.example.net/safe/"));
	assert_null(exclusions_match_url(excl, "https://portal.example.net.evil/safe/"));
	exclusions_free(excl);
}

/* Defect 7: a URL prefix matched anywhere, so "https://example.com/app"
 * excluded "https://example.com/application-evil/login". */
static void test_defect7_url_prefix_matches_only_at_a_boundary(void **state)
{
	(void)state;
	const char *urls[] = { "https://example.com/app", "https://example.net/spa#/admin", NULL };
	struct exclusions *excl = excl_with(urls, NULL, NULL);

	assert_null(exclusions_match_url(excl, "https://example.com/application-evil/login"));
	assert_null(exclusions_match_url(excl, "https://example.com/app.evil/"));
	assert_null(exclusions_match_url(excl, "https://example.com/apple"));
	assert_non_null(exclusions_match_url(excl, "https://example.com/app"));
	assert_non_null(exclusions_match_url(excl, "https://example.com/app/login"));
	assert_non_null(exclusions_match_url(excl, "https://example.com/app?next=/x"));
	assert_non_null(exclusions_match_url(excl, "https://example.com/app#top"));
	/* a fragment in the rule is a prefix like any other */
	assert_non_null(exclusions_match_url(excl, "https://example.net/spa#/admin"));
	assert_non_null(exclusions_match_url(excl, "https://example.net/spa#/admin/users"));
	assert_null(exclusions_match_url(excl, "https://example.net/spa#/administrator"));
	assert_null(exclusions_match_url(excl, "https://example.net/spa"));
	exclusions_free(excl);
}

static void test_ip_rules(void **state)
{
	(void)state;
	const char *ips[] = { "198.51.100.0/24", "2001:db8:5::/48", "192.0.2.7", NULL };
	struct exclusions *excl = excl_with(NULL, ips, NULL);

	assert_string_equal(exclusions_match_ip(excl, "198.51.100.255"), "ip 198.51.100.0/24");
	assert_null(exclusions_match_ip(excl, "198.51.101.0"));
	assert_string_equal(exclusions_match_ip(excl, "2001:db8:5:ffff::1"), "ip 2001:db8:5::/48");
	assert_null(exclusions_match_ip(excl, "2001:db8:6::1"));
	assert_string_equal(exclusions_match_ip(excl, "192.0.2.7"), "ip 192.0.2.7");
	assert_null(exclusions_match_ip(excl, "192.0.2.8"));
	assert_null(exclusions_match_ip(excl, "not-an-ip"));
	/* an IP rule also excludes URLs on that host */
	assert_string_equal(exclusions_match_url(excl, "http://198.51.100.9/login"),
			    "ip 198.51.100.0/24");
	assert_string_equal(exclusions_match_url(excl, "http://[2001:db8:5::1]:8080/"),
			    "ip 2001:db8:5::/48");
	assert_null(exclusions_match_url(excl, "http://203.0.113.1/"));
	exclusions_free(excl);
}

static void test_ip_in_url_list(void **state)
{
	(void)state;
	const char *urls[] = { "203.0.113.5", NULL };
	struct exclusions *excl = excl_with(urls, NULL, NULL);

	assert_string_equal(exclusions_match_url(excl, "https://203.0.113.5/x"), "ip 203.0.113.5");
	exclusions_free(excl);
}

static void test_extensions(void **state)
{
	(void)state;
	const char *exts[] = { "pdf", ".DOCX", NULL };
	struct exclusions *excl = excl_with(NULL, NULL, exts);

	assert_string_equal(exclusions_match_extension(excl, "pdf"), "extension pdf");
	assert_string_equal(exclusions_match_extension(excl, "PDF"), "extension pdf");
	assert_string_equal(exclusions_match_extension(excl, ".docx"), "extension docx");
	assert_null(exclusions_match_extension(excl, "exe"));
	assert_null(exclusions_match_extension(excl, "pdf.exe"));
	assert_null(exclusions_match_extension(excl, ""));
	assert_null(exclusions_match_extension(excl, NULL));
	exclusions_free(excl);
}

static void test_bad_entries(void **state)
{
	(void)state;
	struct exclusions *excl = exclusions_new();
	char err[256];

	err[0] = '\0';
	assert_false(exclusions_add_url(excl, "not a domain", err, sizeof(err)));
	assert_non_null(strstr(err, "not a domain"));
	assert_false(exclusions_add_url(excl, "localhost", err, sizeof(err)));
	assert_false(exclusions_add_url(excl, "mailto:x@example.com", err, sizeof(err)));
	assert_false(exclusions_add_ip(excl, "10.0.0.0/33", err, sizeof(err)));
	assert_false(exclusions_add_ip(excl, "example.com", err, sizeof(err)));
	assert_false(exclusions_add_extension(excl, ".", err, sizeof(err)));
	assert_false(exclusions_add_extension(excl, "a/b", err, sizeof(err)));
	/* nothing half-added */
	assert_null(exclusions_match_url(excl, "http://localhost.example/"));
	assert_null(exclusions_match_ip(excl, "10.1.1.1"));
	exclusions_free(excl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_and_subdomains),
		cmocka_unit_test(test_domain_entries_are_normalised),
		cmocka_unit_test(test_url_prefix),
		cmocka_unit_test(test_defect7_url_prefix_matches_only_at_a_boundary),
		cmocka_unit_test(test_ip_rules),
		cmocka_unit_test(test_ip_in_url_list),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_bad_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
