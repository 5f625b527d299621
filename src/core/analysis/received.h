/* received.h: the sender IP from the Received headers.
 *
 * Walk the Received headers from the top; each header's `from` clause
 * names the connecting IP (the last [bracketed] literal, "IPv6:" prefix
 * dropped, or for Exchange-style headers the last bare IP in
 * parentheses). The first IP that is neither private (net_addr_is_private)
 * nor in the trusted networks (InternalHosts) is the sender IP. */
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
