/* netaddr.h: IPv4/IPv6 addresses, CIDR prefixes and lists of them.
 *
 * Used by the Received walk (private and trusted ranges), the IP
 * exclusions and InternalHosts. IPv4-mapped IPv6 addresses
 * (::ffff:192.0.2.1) are stored as plain IPv4 so that one rule matches
 * both spellings. */
#ifndef TM_NETADDR_H
#define TM_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t bytes[16];	/* network order; IPv4 uses the first 4 */
};

struct net_prefix {
	struct net_addr addr;	/* host bits cleared */
	unsigned bits;		/* 0..32 or 0..128 */
};

/* Longest canonical text form of an address, NUL included. */
#define NET_ADDR_TEXT_MAX 46

/* Strict parse of a textual address: dotted-quad IPv4 or IPv6 (an
 * optional "IPv6:" prefix, as in Received headers, and surrounding
 * brackets are accepted). Returns false for anything else. */
bool net_addr_parse(const char *text, struct net_addr *out);
/* Same, for a text that is not NUL terminated. */
bool net_addr_parse_len(const char *text, size_t len, struct net_addr *out);
/* Canonical text (RFC 5952 for IPv6) into buf; returns buf. */
char *net_addr_format(const struct net_addr *addr, char *buf, size_t len);
/* RFC 1918, loopback, link-local, CGNAT, ULA, unspecified, broadcast:
 * the ranges listed in the corpus README as "private". Documentation
 * ranges are NOT private. */
bool net_addr_is_private(const struct net_addr *addr);

/* "192.0.2.0/24", "2001:db8::/32" or a single address (full length).
 * On failure writes a human readable reason into err. */
bool net_prefix_parse(const char *text, struct net_prefix *out,
		      char *err, size_t errlen);
bool net_prefix_contains(const struct net_prefix *prefix,
			 const struct net_addr *addr);

/* A list of prefixes, each with the text it was written as (for
 * "excluded by ..." messages). */
struct net_list;
struct net_list *net_list_new(void);
void net_list_free(struct net_list *list);
bool net_list_add(struct net_list *list, const char *text,
		  char *err, size_t errlen);
size_t net_list_count(const struct net_list *list);
/* Returns the text of the first entry containing addr, or NULL. */
const char *net_list_match(const struct net_list *list,
			   const struct net_addr *addr);

#endif
