/* askable.c: indicators that cannot be asked are refused at planning. */
#include "lookup/askable.h"

#include <string.h>
#include <glib.h>

#include "analysis/url_normalize.h"
#include "config/integrations.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "util/netaddr.h"

bool askable_dns_name(const char *text, const char **why)
{
	size_t len = strlen(text), label = 0;

	if (len > 0 && text[len - 1] == '.')
		len--;
	if (len == 0) {
		*why = "empty name";
		return false;
	}
	if (len > ASKABLE_DNS_NAME_MAX) {
		*why = "name over 253 characters";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '.') {
			if (label == 0) {
				*why = "empty label";
				return false;
			}
			label = 0;
			continue;
		}
		if (!g_ascii_isalnum(c) && c != '-' && c != '_') {
			*why = "character not allowed in a DNS name";
			return false;
		}
		if (++label > ASKABLE_DNS_LABEL_MAX) {
			*why = "label over 63 characters";
			return false;
		}
	}
	return true;
}

static bool askable_host(const char *host, const char **why)
{
	struct net_addr addr;

	if (host == NULL) {
		*why = "no host";
		return false;
	}
	return net_addr_parse(host, &addr) || askable_dns_name(host, why);
}

bool askable_url(const char *url, const char *host, const char **why)
{
	*why = NULL;
	if (strlen(url) > ASKABLE_URL_MAX) {
		*why = "URL over 2048 characters";
		return false;
	}
	return askable_host(host, why);
}

bool askable_value(enum indicator_kind kind, const char *indicator, const char **why)
{
	bool ok = true;

	*why = NULL;
	if (kind == INDICATOR_URL) {
		char *host = url_host(indicator);

		ok = askable_url(indicator, host, why);
		g_free(host);
	} else if (kind == INDICATOR_DOMAIN) {
		ok = askable_dns_name(indicator, why);
	}
	return ok;
}

bool askable_by(const struct integration *in, enum indicator_kind kind, const char *indicator,
		const char **why)
{
	const struct provider_dns_ops *dns = in->type != NULL ? in->type->ops.dns : NULL;

	*why = NULL;
	if (dns == NULL)
		return true;
	/* The name really queried (zone, perhaps a key) must fit too. */
	struct lookup probe = { .integration = in, .kind = kind, .indicator = (char *)indicator };
	char *name = dns->name(in, &probe);
	bool ok = name != NULL && askable_dns_name(name, why);

	if (name == NULL)
		*why = "no DNS name for it";
	else
		memset(name, 0, strlen(name));	/* may hold a DQS key */
	g_free(name);
	return ok;
}

bool askable(const struct integration *in, enum indicator_kind kind, const char *indicator,
	     const char **why)
{
	return askable_value(kind, indicator, why) && askable_by(in, kind, indicator, why);
}
