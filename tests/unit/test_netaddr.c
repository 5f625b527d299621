/* test_netaddr.c: address parsing and formatting, the private ranges of
 * the corpus README, CIDR edges and prefix lists. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "util/netaddr.h"

static const char *canonical(const char *text, char *buf)
{
	struct net_addr addr;

	if (!net_addr_parse(text, &addr))
		return NULL;
	return net_addr_format(&addr, buf, NET_ADDR_TEXT_MAX);
}

static void test_parse_and_format(void **state)
{
	(void)state;
	char buf[NET_ADDR_TEXT_MAX];

	assert_string_equal(canonical("198.51.100.23", buf), "198.51.100.23");
	assert_string_equal(canonical("[198.51.100.23]", buf), "198.51.100.23");
	assert_string_equal(canonical("IPv6:2001:DB8:0:0::1", buf), "2001:db8::1");
	assert_string_equal(canonical("[IPv6:2001:db8::1]", buf), "2001:db8::1");
	assert_string_equal(canonical("2001:0db8:0000:0000:0000:ff00:0042:8329", buf),
			    "2001:db8::ff00:42:8329");
	/* mapped IPv4 is stored, and printed, as IPv4 */
	assert_string_equal(canonical("::ffff:192.0.2.1", buf), "192.0.2.1");
}

static void test_parse_rejects(void **state)
{
	(void)state;
	struct net_addr addr;
	const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4x", "host.example",
			      "[1.2.3.4", "2001:db8:::1", "IPv6:", "1.2.3.4 ", "0x7f.0.0.1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(net_addr_parse(bad[i], &addr));
	assert_false(net_addr_parse(NULL, &addr));
	assert_true(net_addr_parse_len("10.0.0.1trailing", 8, &addr));
	assert_int_equal(addr.family, AF_INET);
}

static bool is_private(const char *text)
{
	struct net_addr addr;

	assert_true(net_addr_parse(text, &addr));
	return net_addr_is_private(&addr);
}

static void test_private_ranges(void **state)
{
	(void)state;
	const char *priv[] = { "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.255", "127.0.0.1",
			       "169.254.1.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
			       "255.255.255.255", "::", "::1", "fc00::1", "fdff::1", "fe80::1",
			       "febf::1", "::ffff:10.1.2.3" };
	const char *pub[] = { "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0",
			      "192.0.2.1", "198.51.100.23", "203.0.113.7", "2001:db8::1",
			      "fec0::1", "8.8.8.8", "255.255.255.254", "::2" };

	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		assert_true(is_private(priv[i]));
	for (size_t i = 0; i < sizeof(pub) / sizeof(pub[0]); i++)
		assert_false(is_private(pub[i]));
}

static bool prefix_has(const char *prefix_text, const char *addr_text)
{
	struct net_prefix prefix;
	struct net_addr addr;
	char err[128];

	assert_true(net_prefix_parse(prefix_text, &prefix, err, sizeof(err)));
	assert_true(net_addr_parse(addr_text, &addr));
	return net_prefix_contains(&prefix, &addr);
}

static void test_cidr_edges(void **state)
{
	(void)state;
	assert_true(prefix_has("192.0.2.0/24", "192.0.2.0"));
	assert_true(prefix_has("192.0.2.0/24", "192.0.2.255"));
	assert_false(prefix_has("192.0.2.0/24", "192.0.3.0"));
	assert_false(prefix_has("192.0.2.0/24", "192.0.1.255"));
	assert_true(prefix_has("192.0.2.77/24", "192.0.2.1"));	/* host bits ignored */
	assert_true(prefix_has("10.0.0.0/9", "10.127.255.255"));
	assert_false(prefix_has("10.0.0.0/9", "10.128.0.0"));
	assert_true(prefix_has("0.0.0.0/0", "203.0.113.9"));
	assert_false(prefix_has("0.0.0.0/0", "2001:db8::1"));	/* families never mix */
	assert_true(prefix_has("198.51.100.23", "198.51.100.23"));
	assert_false(prefix_has("198.51.100.23", "198.51.100.24"));
	assert_true(prefix_has("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(prefix_has("2001:db8::/32", "2001:db9::1"));
	assert_true(prefix_has("2001:db8::/127", "2001:db8::1"));
	assert_false(prefix_has("2001:db8::/128", "2001:db8::1"));
	assert_true(prefix_has("::ffff:10.0.0.0/104", "10.1.2.3"));
	assert_true(prefix_has("10.0.0.0/8", "::ffff:10.9.9.9"));
}

static void test_prefix_errors(void **state)
{
	(void)state;
	struct net_prefix prefix;
	char err[128];
	const char *bad[] = { "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
			      "2001:db8::/129", "example.com/24", "", "/24", "10.0.0.0/0008" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_false(net_prefix_parse(bad[i], &prefix, err, sizeof(err)));
		assert_true(strlen(err) > 0);
	}
}

static void test_list_match_returns_entry(void **state)
{
	(void)state;
	struct net_list *list = net_list_new();
	struct net_addr addr;
	char err[128];

	assert_true(net_list_add(list, "10.0.0.0/8", err, sizeof(err)));
	assert_true(net_list_add(list, "2001:db8:1::/48", err, sizeof(err)));
	assert_false(net_list_add(list, "nonsense", err, sizeof(err)));
	assert_int_equal(net_list_count(list), 2);

	assert_true(net_addr_parse("10.200.1.1", &addr));
	assert_string_equal(net_list_match(list, &addr), "10.0.0.0/8");
	assert_true(net_addr_parse("2001:db8:1:2::5", &addr));
	assert_string_equal(net_list_match(list, &addr), "2001:db8:1::/48");
	assert_true(net_addr_parse("2001:db8:2::5", &addr));
	assert_null(net_list_match(list, &addr));
	assert_null(net_list_match(NULL, &addr));
	net_list_free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_format),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_private_ranges),
		cmocka_unit_test(test_cidr_edges),
		cmocka_unit_test(test_prefix_errors),
		cmocka_unit_test(test_list_match_returns_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
