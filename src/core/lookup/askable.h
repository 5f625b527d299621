/* askable.h: can an indicator be asked of an integration at all?
 *
 * Indicators come from the message, so an attacker chooses them. One
 * that no provider can be asked (a host label over 63 characters, a
 * name over 253, characters outside a DNS name, an over-long URL) is
 * refused here, at planning time, with LOOKUP_INVALID: it never reaches a
 * provider, so it can neither cost a request nor count as a failure of
 * the provider (issue 17.3). */
#ifndef TM_ASKABLE_H
#define TM_ASKABLE_H

#include <stdbool.h>

#include "lookup/lookup.h"

struct integration;

/* Longest URL sent to a provider, bytes (browsers and the providers'
 * APIs agree on about 2 KiB; VirusTotal's URL identifiers and Google's
 * Lookup API are bounded near it). */
#define ASKABLE_URL_MAX 2048
/* RFC 1035 §2.3.4: 63 octets a label, 253 characters a name in text. */
#define ASKABLE_DNS_LABEL_MAX 63
#define ASKABLE_DNS_NAME_MAX 253

/* Is text a DNS name a resolver accepts: labels 1..63 bytes of letters,
 * digits, '-' or '_', at most 253 bytes, one optional trailing dot?
 * On false, *why (static text) says what is wrong. */
bool askable_dns_name(const char *text, const char **why);

/* May `indicator` of `kind` be asked of `in`? For a DNS provider the
 * name it would query (provider_ops.dns_name, freed here) must be a valid
 * name; a URL must be at most ASKABLE_URL_MAX bytes with a host that is
 * an IP address or a valid DNS name; a domain must be a valid DNS name.
 * IPs, hashes and addresses always are. *why as above. */
bool askable(const struct integration *in, enum indicator_kind kind, const char *indicator,
	     const char **why);
/* askable() in two halves, so that a planner asking many integrations
 * checks each indicator once (issue 19): askable_value() is what does
 * not depend on the integration (URL length and host, domain name),
 * askable_by() what does (the DNS name provider_ops.dns_name would
 * query, when the type has one; true otherwise). *why as above, NULL
 * when true. */
bool askable_value(enum indicator_kind kind, const char *indicator, const char **why);
/* askable_value() of a URL whose host (url_host(), NULL for none) the
 * caller has already. */
bool askable_url(const char *url, const char *host, const char **why);
bool askable_by(const struct integration *in, enum indicator_kind kind, const char *indicator,
		const char **why);

#endif
