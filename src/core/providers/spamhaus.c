/* spamhaus.c: Spamhaus ZEN for IP addresses and DBL for domains, over DNS.
 *
 * How an answer becomes a verdict (../shared/providers/spamhaus-zen.md):
 * NXDOMAIN or no A record = not listed (clean); each A record in 127/8 is
 * a reason code; SBL, CSS, XBL, DROP, BCL and DBL's own listings are
 * malicious, PBL-only and DBL's "abused legitimate" codes suspicious.
 * Anything in 127.255.255.0/24, or a code not documented, is an error for
 * the whole lookup, never a listing (a public resolver gets .254 for
 * everything: treating that as "listed" would reject all mail).
 *
 * Zones: APIURL is the ZEN zone (default zen.spamhaus.org, the public
 * mirror); DBL is the same zone with its "zen" label replaced by "dbl".
 * With an APIKey (Spamhaus DQS), the public mirror becomes
 * <key>.zen.dq.spamhaus.net; the key is in every query name, so query
 * names are never logged. */
#include "providers/provider.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "util/netaddr.h"

#define PUBLIC_ZEN "zen.spamhaus.org"
#define DQS_ZEN "zen.dq.spamhaus.net"
/* NXDOMAIN carries no TTL here; Spamhaus data changes within minutes. */
#define NOT_LISTED_TTL_S 300

/* Appends the zone for this lookup kind, with the DQS key when there is
 * one. */
static void append_zone(GString *name, const struct integration *in, enum indicator_kind kind)
{
	const char *zen = in->api_url && *in->api_url ? in->api_url : PUBLIC_ZEN;
	bool keyed = in->api_key != NULL && *in->api_key != '\0';

	if (keyed && g_ascii_strcasecmp(zen, PUBLIC_ZEN) == 0)
		zen = DQS_ZEN;
	if (keyed) {
		g_string_append(name, in->api_key);
		g_string_append_c(name, '.');
	}
	if (kind == INDICATOR_DOMAIN) {
		/* replace the "zen" label: zen.spamhaus.org -> dbl.spamhaus.org */
		const char *label = g_ascii_strncasecmp(zen, "zen.", 4) == 0 ? zen
				  : strstr(zen, ".zen.");
		if (label == zen) {
			g_string_append(name, "dbl.");
			g_string_append(name, zen + 4);
		} else if (label != NULL) {
			g_string_append_len(name, zen, label - zen);
			g_string_append(name, ".dbl.");
			g_string_append(name, label + 5);
		} else {
			g_string_append(name, "dbl.");
			g_string_append(name, zen);
		}
	} else {
		g_string_append(name, zen);
	}
}

/* Appends 203.0.113.7 as 7.113.0.203, IPv6 as 32 reversed nibbles
 * (ip6.arpa). */
static void append_reversed_ip(GString *name, const struct net_addr *addr)
{
	if (addr->family == AF_INET) {
		for (int i = 3; i >= 0; i--) {
			char octet[4];
			unsigned len = 0, v = addr->bytes[i];

			do
				octet[len++] = (char)('0' + v % 10);
			while ((v /= 10) > 0);
			while (len > 0)
				g_string_append_c(name, octet[--len]);
			g_string_append_c(name, '.');
		}
	} else {
		static const char hex[] = "0123456789abcdef";

		for (int i = 15; i >= 0; i--) {
			g_string_append_c(name, hex[addr->bytes[i] & 0xf]);
			g_string_append_c(name, '.');
			g_string_append_c(name, hex[addr->bytes[i] >> 4]);
			g_string_append_c(name, '.');
		}
	}
	g_string_truncate(name, name->len - 1);
}

/* Built in one buffer, appended rather than printf'd: planning checks
 * the name of every Spamhaus lookup (askable.h, issue 19). The buffer is
 * sized so that it never moves: no copy of a DQS key is left in freed
 * memory. */
static char *spamhaus_dns_name(const struct integration *in, const struct lookup *lookup)
{
	struct net_addr addr;
	bool ip = net_addr_parse(lookup->indicator, &addr);

	if (lookup->kind == INDICATOR_IP ? !ip : ip)	/* never an IP to DBL */
		return NULL;
	size_t room = MAX(strlen(lookup->indicator), 64) + 16 +
		      (in->api_key ? strlen(in->api_key) : 0) +
		      MAX(in->api_url ? strlen(in->api_url) : 0, sizeof(DQS_ZEN));
	GString *name = g_string_sized_new(room);

	if (ip) {
		append_reversed_ip(name, &addr);
	} else {
		g_string_append(name, lookup->indicator);
		for (char *c = name->str; *c != '\0'; c++)
			*c = g_ascii_tolower(*c);
	}
	g_string_append_c(name, '.');
	append_zone(name, in, lookup->kind);
	return g_string_free(name, FALSE);
}

struct code {
	unsigned last_octets;	/* (third << 8) | fourth */
	const char *list;
	enum lookup_status status;
};

static const struct code zen_codes[] = {
	{ 0x0002, "SBL", LOOKUP_MALICIOUS }, { 0x0003, "CSS", LOOKUP_MALICIOUS },
	{ 0x0004, "XBL", LOOKUP_MALICIOUS }, { 0x0005, "XBL", LOOKUP_MALICIOUS },
	{ 0x0006, "XBL", LOOKUP_MALICIOUS }, { 0x0007, "XBL", LOOKUP_MALICIOUS },
	{ 0x0009, "DROP", LOOKUP_MALICIOUS }, { 0x001e, "BCL", LOOKUP_MALICIOUS },
	{ 0x000a, "PBL", LOOKUP_SUSPICIOUS }, { 0x000b, "PBL", LOOKUP_SUSPICIOUS },
};

static const struct code dbl_codes[] = {
	{ 0x0102, "DBL-spam", LOOKUP_MALICIOUS }, { 0x0104, "DBL-phish", LOOKUP_MALICIOUS },
	{ 0x0105, "DBL-malware", LOOKUP_MALICIOUS }, { 0x0106, "DBL-botnet", LOOKUP_MALICIOUS },
	{ 0x0166, "DBL-abused-spam", LOOKUP_SUSPICIOUS },
	{ 0x0167, "DBL-abused-redirector", LOOKUP_SUSPICIOUS },
	{ 0x0168, "DBL-abused-phish", LOOKUP_SUSPICIOUS },
	{ 0x0169, "DBL-abused-malware", LOOKUP_SUSPICIOUS },
	{ 0x016a, "DBL-abused-botnet", LOOKUP_SUSPICIOUS },
};

static const char *spamhaus_error_reason(unsigned fourth)
{
	switch (fourth) {
	case 252: return "127.255.255.252: typo in the zone name";
	case 254: return "127.255.255.254: resolver not allowed (public or open resolver; use a local one or DQS)";
	case 255: return "127.255.255.255: over the free-use query volume";
	case 250: case 251: return "DQS key refused";
	default: return "127.255.255.x: Spamhaus error";
	}
}

static enum answer_class spamhaus_parse_dns(const struct integration *in, struct lookup *lookup,
					    int ares_status, const struct ares_addrttl *addrs, int naddrs)
{
	(void)in;
	switch (ares_status) {
	case ARES_SUCCESS:
		break;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		provider_set_result(lookup, LOOKUP_CLEAN, "not listed");
		lookup->result.ttl_s = NOT_LISTED_TTL_S;
		return ANSWER_DECIDED;
	case ARES_ETIMEOUT:
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_TIMEOUT, "DNS timeout");
		return ANSWER_TRANSIENT;
	case ARES_ESERVFAIL:
		provider_set_result(lookup, LOOKUP_ERROR, "DNS SERVFAIL");
		return ANSWER_TRANSIENT;
	case ARES_EREFUSED:
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_PROVIDER,
			      "DNS REFUSED (service not enabled for this key?)");
		return ANSWER_TRANSIENT;
	default:
		provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_TRANSPORT, "DNS error: %s",
			      ares_strerror(ares_status));
		return ANSWER_TRANSIENT;
	}
	if (naddrs == 0) {
		provider_set_result(lookup, LOOKUP_CLEAN, "not listed");
		lookup->result.ttl_s = NOT_LISTED_TTL_S;
		return ANSWER_DECIDED;
	}

	bool is_ip = lookup->kind == INDICATOR_IP;
	const struct code *codes = is_ip ? zen_codes : dbl_codes;
	size_t ncodes = is_ip ? G_N_ELEMENTS(zen_codes) : G_N_ELEMENTS(dbl_codes);
	enum lookup_status worst = LOOKUP_SUSPICIOUS;
	GString *lists = g_string_new(NULL);
	unsigned ttl = 0;

	for (int i = 0; i < naddrs; i++) {
		uint32_t a = ntohl(addrs[i].ipaddr.s_addr);
		unsigned fourth = a & 0xff;
		const struct code *found = NULL;

		if ((a & 0xffffff00u) == 0x7fffff00u) {
			provider_fail(lookup, LOOKUP_ERROR,
				      fourth == 255 ? LOOKUP_ERR_QUOTA : LOOKUP_ERR_AUTH, "%s",
				      spamhaus_error_reason(fourth));
			g_string_free(lists, TRUE);
			return fourth == 255 ? ANSWER_QUOTA : ANSWER_AUTH;
		}
		if ((a >> 24) == 127)
			for (size_t c = 0; c < ncodes; c++)
				if (codes[c].last_octets == (a & 0xffff))
					found = &codes[c];
		if (found == NULL) {
			char text[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &addrs[i].ipaddr, text, sizeof(text));
			provider_fail(lookup, LOOKUP_ERROR, LOOKUP_ERR_MALFORMED, "unexpected answer %s%s",
				      text, (a & 0xffff) == 0x01ff ? " (an IP was sent to DBL)" : "");
			g_string_free(lists, TRUE);
			return ANSWER_PERMANENT;
		}
		if (found->status == LOOKUP_MALICIOUS)
			worst = LOOKUP_MALICIOUS;
		if (strstr(lists->str, found->list) == NULL)
			g_string_append_printf(lists, "%s%s", lists->len ? "," : "", found->list);
		if (ttl == 0 || (addrs[i].ttl > 0 && (unsigned)addrs[i].ttl < ttl))
			ttl = addrs[i].ttl > 0 ? (unsigned)addrs[i].ttl : ttl;
	}
	provider_set_result(lookup, worst, "%s", lists->str);
	lookup->result.ttl_s = ttl;
	g_string_free(lists, TRUE);
	return ANSWER_DECIDED;
}

const struct provider_dns_ops spamhaus_dns = {
	.name = spamhaus_dns_name,
	.parse = spamhaus_parse_dns,
};
