/* plan.c: facts x integrations -> lookups. */
#include "lookup/plan.h"

#include <string.h>

#include "config/config.h"
#include "config/integrations.h"
#include "util/netaddr.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "analysis/url_normalize.h"

void lookup_free(struct lookup *lookup)
{
	if (lookup == NULL)
		return;
	g_free(lookup->indicator);
	g_free(lookup->result.details);
	g_free(lookup);
}

static void lookup_free_cb(gpointer data)
{
	lookup_free(data);
}

GPtrArray *plan_array_new(void)
{
	return g_ptr_array_new_with_free_func(lookup_free_cb);
}

struct planner {
	const struct integration *in;
	const struct provider_ops *ops;
	GHashTable *seen;	/* "kind\x1findicator" of this integration */
	GPtrArray *out;
};

static void add(struct planner *p, enum indicator_kind kind, const char *indicator)
{
	char *key = g_strdup_printf("%d\x1f%s", kind, indicator);

	if (!g_hash_table_add(p->seen, key))
		return;
	struct lookup *lookup = g_new0(struct lookup, 1);
	lookup->integration = p->in;
	lookup->kind = kind;
	lookup->indicator = g_strdup(indicator);
	/* Until the engine answers: never start as 0, which is "malicious". */
	lookup->result.status = LOOKUP_SKIPPED;
	g_ptr_array_add(p->out, lookup);
}

static bool supports(const struct planner *p, enum indicator_kind kind)
{
	return provider_supports(p->in->type, kind);
}

static void plan_url(struct planner *p, const char *url)
{
	bool by_domain = p->in->hide_url_parameters || !supports(p, INDICATOR_URL);

	if (!by_domain) {
		add(p, INDICATOR_URL, url);
		return;
	}
	char *host = url_host(url);
	struct net_addr addr;

	if (host == NULL)
		return;
	if (net_addr_parse(host, &addr)) {
		if (supports(p, INDICATOR_IP) && !net_addr_is_private(&addr))
			add(p, INDICATOR_IP, host);
	} else if (supports(p, INDICATOR_DOMAIN)) {
		add(p, INDICATOR_DOMAIN, host);
	}
	g_free(host);
}

static void plan_message(struct planner *p, const struct facts *facts, bool with_reported)
{
	if (p->in->urls)
		for (guint i = 0; i < facts->urls->len; i++) {
			const char *url = g_ptr_array_index(facts->urls, i);

			if (!g_hash_table_contains(facts->excluded_urls, url))
				plan_url(p, url);
		}
	if (p->in->sender_ip && facts->sender_ip != NULL && facts->sender_ip_excluded == NULL &&
	    supports(p, INDICATOR_IP))
		add(p, INDICATOR_IP, facts->sender_ip);
	if (p->in->attachments && supports(p, INDICATOR_HASH))
		for (guint i = 0; i < facts->attachments->len; i++) {
			const struct attachment_fact *att = g_ptr_array_index(facts->attachments, i);

			if (att->excluded == NULL)
				add(p, INDICATOR_HASH, att->sha256);
		}
	if (with_reported)
		for (guint i = 0; i < facts->reported->len; i++)
			plan_message(p, g_ptr_array_index(facts->reported, i), true);
}

void plan_lookups(const struct facts *facts, const struct tm_config *cfg,
		  bool with_reported, GPtrArray *out)
{
	for (guint i = 0; i < cfg->integrations->len; i++) {
		const struct integration *in = g_ptr_array_index(cfg->integrations, i);
		struct planner p = { .in = in, .out = out };

		if (!in->active || in->type == NULL || in->type->ops == NULL)
			continue;
		p.ops = in->type->ops;
		p.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		plan_message(&p, facts, with_reported);
		g_hash_table_destroy(p.seen);
	}
}
