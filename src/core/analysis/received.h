/* received.h: the sender IP from the Received headers
 * (../shared/corpus/README.md, "sender_ip").
 *
 * Walk the Received headers from the top; each header's `from` clause
 * gives at most one IP, the peer address in the receiving MTA's own
 * position (Postfix, Sendmail, Gmail, Exim, qmail, Exchange, Microsoft
 * 365 layouts; see received.c), never one from the client's HELO text.
 * "IPv6:" prefixes are dropped. The first IP that is neither private
 * (net_addr_is_private) nor in the trusted networks (InternalHosts) is
 * the sender IP. */
#ifndef TM_RECEIVED_H
#define TM_RECEIVED_H

#include <stdbool.h>
#include <stddef.h>

#include "util/netaddr.h"

/* The connecting IP of one Received header value (unfolded or folded).
 * False when the header has no usable `from` IP. */
bool received_from_ip(const char *value, struct net_addr *out);

/* values: the Received header values in message order (top first).
 * trusted may be NULL. Returns the canonical text of the sender IP
 * (g_malloc'd) or NULL. */
char *received_sender_ip(const char *const *values, size_t count,
			 const struct net_list *trusted);

#endif
