/* test_received.c: the connecting IP of each Received header style and
 * the top-down walk for the sender IP. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "util/netaddr.h"
#include "analysis/received.h"

static const char *from_ip(const char *header, char *buf)
{
	struct net_addr addr;

	if (!received_from_ip(header, &addr))
		return NULL;
	return net_addr_format(&addr, buf, NET_ADDR_TEXT_MAX);
}

static void test_header_styles(void **state)
{
	(void)state;
	char buf[NET_ADDR_TEXT_MAX];

	/* Postfix */
	assert_string_equal(from_ip("from smtp.badhost.example (smtp.badhost.example [198.51.100.23])\r\n"
				    "\tby mx-edge.corp.example (Postfix) with ESMTPS id 77A2\r\n"
				    "\tfor <alice@corp.example>; Tue, 2 Jan 2024 10:00:01 +0000", buf),
			    "198.51.100.23");
	/* Sendmail, with its forged-name comment nested in the parentheses */
	assert_string_equal(from_ip("from unknown (host.example [203.0.113.9] (may be forged))"
				    " by mail.example.org (8.15.2/8.15.2) with ESMTP id x1; Mon, 1 Jan 2024", buf),
			    "203.0.113.9");
	/* Gmail */
	assert_string_equal(from_ip("from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\n"
				    "        by mx.google.com with SMTPS id a1sor;\n"
				    "        Tue, 02 Jan 2024 02:00:00 -0800 (PST)", buf),
			    "209.85.220.41");
	/* Exim: literal first, then a comment with a port */
	assert_string_equal(from_ip("from [192.0.2.44] (port=51234 helo=evil.example) by mx.example.net"
				    " with esmtpa (Exim 4.96)", buf),
			    "192.0.2.44");
	/* IPv6 literal */
	assert_string_equal(from_ip("from host6.example (host6.example [IPv6:2001:DB8::25])"
				    " by mx.example.net (Postfix) with ESMTPS id 1", buf),
			    "2001:db8::25");
	/* Exchange: bare IPs in parentheses; the by clause's IP must not win */
	assert_string_equal(from_ip("from EXCH01.corp.example (192.0.2.10) by EXCH02.corp.example"
				    " (192.0.2.11) with Microsoft SMTP Server id 15.1.2375.7", buf),
			    "192.0.2.10");
	assert_string_equal(from_ip("from BN8PR12MB.namprd12.prod.outlook.com (2603:10b6:408:e0::21) by"
				    " DM6PR12MB.namprd12.prod.outlook.com (2603:10b6:5:1c0::10) with"
				    " Microsoft SMTP Server", buf),
			    "2603:10b6:408:e0::21");
	/* bracketed literal preferred over a bare one */
	assert_string_equal(from_ip("from a.example (198.51.100.1) ([203.0.113.2]) by b.example", buf),
			    "203.0.113.2");
}

static void test_headers_without_from_ip(void **state)
{
	(void)state;
	struct net_addr addr;

	assert_false(received_from_ip("by mail.example.org (Postfix, from userid 1000) id 4F3;"
				      " Mon, 1 Jan 2024", &addr));
	assert_false(received_from_ip("from localhost by mail.example.org (8.15.2) id x1", &addr));
	/* an address only in the by clause is not the client's */
	assert_false(received_from_ip("from helo.example by mx.example.net ([198.51.100.5])", &addr));
	/* a literal after the date is not part of the from clause */
	assert_false(received_from_ip("from helo.example; Mon, 1 Jan 2024 [198.51.100.5]", &addr));
	assert_false(received_from_ip("fromage [198.51.100.5]", &addr));
	assert_false(received_from_ip("", &addr));
	assert_false(received_from_ip(NULL, &addr));
	assert_false(received_from_ip("from x ([not.an.ip]) (host.example) by y", &addr));
	/* unterminated bracket: no crash, no address */
	assert_false(received_from_ip("from x ([198.51.100.5", &addr));
}

static void test_walk_skips_private_and_trusted(void **state)
{
	(void)state;
	const char *headers[] = {
		"by localhost (Postfix, from userid 0) id 1",
		"from mx-edge.corp.example (mx-edge.corp.example [10.20.0.5]) by mail.corp.example",
		"from gw.corp.example (gw.corp.example [203.0.113.200]) by mx-edge.corp.example",
		"from smtp.badhost.example (smtp.badhost.example [198.51.100.23]) by gw.corp.example",
		"from origin.example (origin.example [192.0.2.1]) by smtp.badhost.example",
	};
	struct net_list *trusted = net_list_new();
	char err[64];
	char *ip;

	ip = received_sender_ip(headers, 5, NULL);
	assert_string_equal(ip, "203.0.113.200");
	g_free(ip);

	assert_true(net_list_add(trusted, "203.0.113.192/26", err, sizeof(err)));
	ip = received_sender_ip(headers, 5, trusted);
	assert_string_equal(ip, "198.51.100.23");
	g_free(ip);

	ip = received_sender_ip(headers, 2, trusted);
	assert_null(ip);
	assert_null(received_sender_ip(headers, 0, NULL));
	net_list_free(trusted);
}

static void test_walk_ipv6_private(void **state)
{
	(void)state;
	const char *headers[] = {
		"from a (a [IPv6:::1]) by b",
		"from c (c [IPv6:fe80::1]) by d",
		"from e (e [IPv6:fd00::7]) by f",
		"from g (g [IPv6:2001:db8::77]) by h",
	};
	char *ip = received_sender_ip(headers, 4, NULL);

	assert_string_equal(ip, "2001:db8::77");
	g_free(ip);
}

/* Class A (issue 16): the peer address in each MTA's own position, never
 * the client's HELO text. */
static void test_helo_text_never_wins(void **state)
{
	(void)state;
	char buf[NET_ADDR_TEXT_MAX];

	/* Exim: helo=[literal] after the recorded [IP]:port */
	assert_string_equal(from_ip("from host.example.org ([198.51.100.7] helo=[203.0.113.66])\n"
				    "\tby mx.example.com with esmtp (Exim 4.96)", buf), "198.51.100.7");
	assert_string_equal(from_ip("from rdns.example ([198.51.100.8]:40123 helo=[203.0.113.67]"
				    " ident=[203.0.113.68]) by mx with esmtps", buf), "198.51.100.8");
	/* Exim without reverse name: the from-name is the literal */
	assert_string_equal(from_ip("from [198.51.100.9] (port=2525 helo=[203.0.113.69])"
				    " by mx.example.com with esmtp", buf), "198.51.100.9");
	assert_string_equal(from_ip("from [198.51.100.9]:2525 (helo=[203.0.113.69]) by mx", buf),
			    "198.51.100.9");
	/* qmail: (HELO [literal]) then (IP), with and without remoteinfo */
	assert_string_equal(from_ip("from unknown (HELO [203.0.113.70]) (198.51.100.10)\n"
				    "  by mx.example.com with SMTP; 29 Nov 2026", buf), "198.51.100.10");
	assert_string_equal(from_ip("from unknown (HELO 203.0.113.71) (joe@198.51.100.11)"
				    " by mx with SMTP", buf), "198.51.100.11");
	assert_string_equal(from_ip("from unknown (EHLO [203.0.113.72]) ([198.51.100.12]) by mx", buf),
			    "198.51.100.12");
	/* Postfix: a client saying HELO by/with/id/for/via */
	assert_string_equal(from_ip("from by (unknown [198.51.100.13]) by mx.example.com (Postfix)"
				    " with ESMTP id 4A", buf), "198.51.100.13");
	assert_string_equal(from_ip("from with (unknown [198.51.100.14]) by mx (Postfix)", buf),
			    "198.51.100.14");
	assert_string_equal(from_ip("from for (rdns.example [IPv6:2001:db8::15]) by mx", buf),
			    "2001:db8::15");
	/* Postfix: HELO [literal] as the from-name, the peer in parentheses */
	assert_string_equal(from_ip("from [203.0.113.73] (unknown [198.51.100.16]) by mx (Postfix)", buf),
			    "198.51.100.16");
	/* Gmail: odd HELO before the real literal */
	assert_string_equal(from_ip("from ?IPv6:::ffff:192.168.1.20? (host-44.example.net."
				    " [198.51.100.44]) by smtp.example.com with ESMTPSA", buf),
			    "198.51.100.44");
	/* Sendmail with ident and the forged-name comment */
	assert_string_equal(from_ip("from [203.0.113.74] (user@rdns.example [198.51.100.17]"
				    " (may be forged)) by mail (8.15.2/8.15.2) with ESMTP", buf),
			    "198.51.100.17");
	/* Microsoft 365 front door: Postfix-like group */
	assert_string_equal(from_ip("from NAM12-DM6-obe.outbound.protection.outlook.com (mail-dm6nam12on2100"
				    ".outbound.protection.outlook.com [40.107.243.100]) by"
				    " BN1NAM02FT012.mail.protection.outlook.com (10.13.2.95) with"
				    " Microsoft SMTP Server (version=TLS1_2) id 15.20.7; Sat", buf),
			    "40.107.243.100");
	/* a HELO group after the peer group does not override it */
	assert_string_equal(from_ip("from x (198.51.100.18) (HELO [203.0.113.75]) by mx", buf),
			    "198.51.100.18");
}

static void test_from_name_is_the_address(void **state)
{
	(void)state;
	char buf[NET_ADDR_TEXT_MAX];

	assert_string_equal(from_ip("from 203.0.113.19 by 10.200.5.141 with SMTP; Sat", buf),
			    "203.0.113.19");
	assert_string_equal(from_ip("from 2001:db8::19 by 10.200.5.141 with SMTP", buf), "2001:db8::19");
	assert_string_equal(from_ip("from [203.0.113.20] by mx with SMTP", buf), "203.0.113.20");
	/* a literal standing alone after the from-name */
	assert_string_equal(from_ip("from helo.example [198.51.100.21] by mx", buf), "198.51.100.21");
	/* the from-name is an address but a group records the peer */
	assert_string_equal(from_ip("from 203.0.113.22 (rdns [198.51.100.22]) by mx", buf),
			    "198.51.100.22");
	/* nothing recorded but words: no IP (not the by clause's one) */
	struct net_addr addr;
	assert_false(received_from_ip("from helo.example (port=25 helo=[203.0.113.23]) by 198.51.100.1", &addr));
	assert_false(received_from_ip("from x (HELO 203.0.113.24) by mx", &addr));
}

static void test_walk_bare_ip_gateway(void **state)
{
	(void)state;
	const char *headers[] = {
		"from mx.example.net (unknown [10.1.1.5]) by mail.example.net (Postfix) with SMTP id 4",
		"(example anti_spam gateway 4.1.0); Sat, 29 Nov 2026 17:49:43 +0800",
		"from 203.0.113.19 by 10.200.5.141 with SMTP; Sat, 29 Nov 2026 17:49:43 +0800",
	};
	char *ip = received_sender_ip(headers, 3, NULL);

	assert_string_equal(ip, "203.0.113.19");
	g_free(ip);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_styles),
		cmocka_unit_test(test_headers_without_from_ip),
		cmocka_unit_test(test_walk_skips_private_and_trusted),
		cmocka_unit_test(test_walk_ipv6_private),
		cmocka_unit_test(test_helo_text_never_wins),
		cmocka_unit_test(test_from_name_is_the_address),
		cmocka_unit_test(test_walk_bare_ip_gateway),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
