/* plan.c: facts x integrations -> lookups, within MaxIndicators. */
#include "lookup/plan.h"

#include <string.h>

#include "config/config.h"
#include "config/integrations.h"
#include "lookup/askable.h"
#include "lookup/sample.h"
#include "util/netaddr.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "analysis/analyze.h"
#include "analysis/url_normalize.h"
#include "util/log.h"

void lookup_free(struct lookup *lookup)
{
	if (lookup == NULL)
		return;
	g_free(lookup->indicator);
	sample_unref(lookup->sample);
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

void plan_indicator_free(gpointer data)
{
	struct plan_indicator *ind = data;

	if (ind == NULL)
		return;
	g_free(ind->value);
	g_ptr_array_unref(ind->lookups);
	g_free(ind);
}

void plan_clear(struct plan *plan)
{
	if (plan->lookups != NULL)
		g_ptr_array_unref(plan->lookups);
	if (plan->indicators != NULL)
		g_ptr_array_unref(plan->indicators);
	memset(plan, 0, sizeof(*plan));
}

char *plan_domain_of(const char *host)
{
	struct net_addr addr;
	char *lower = g_ascii_strdown(host, -1);
	size_t len = strlen(lower);

	while (len > 0 && lower[len - 1] == '.')
		lower[--len] = '\0';
	if (net_addr_parse(lower, &addr))
		return lower;
	char *last = strrchr(lower, '.');
	if (last == NULL)
		return lower;
	const char *start = lower;
	unsigned want = strlen(last + 1) == 2 ? 3 : 2;	/* ccTLD: maybe "co.uk" */
	unsigned labels = 0;
	for (const char *p = lower + len; p > lower; p--) {
		if (p[-1] != '.')
			continue;
		labels++;
		if (labels == 2 && want == 3 && (size_t)(last - p) > 3) {
			start = p;	/* "example.de": the second label is a name */
			break;
		}
		if (labels == want) {
			start = p;
			break;
		}
	}
	char *domain = g_strdup(start);
	g_free(lower);
	return domain;
}

/* ------------------------------------------------------------- uploads */

bool plan_may_upload(const struct integration *in, const struct attachment_fact *att,
		     const char **why)
{
	const char *no = NULL;

	if (!provider_uploads(in->type))
		no = "the type takes no files";
	else if (!in->attachments)
		no = "Attachments is off";
	else if (att->excluded != NULL)
		no = "excluded extension";
	else if (att->pe && !in->upload_pe_files)
		no = "UploadPEFiles is off";
	else if (!att->pe && !in->upload_other_files)
		no = "UploadOtherFiles is off";
	else if (att->size > in->max_upload_size)
		no = "larger than MaxUploadSize";
	if (why != NULL)
		*why = no;
	return no == NULL;
}

bool plan_sample_options(const struct tm_config *cfg, struct analyze_options *out)
{
	memset(out, 0, sizeof(*out));
	out->memory_limit = cfg->sample_memory_limit;
	out->tmp_dir = cfg->tmp_dir;
	for (guint i = 0; i < cfg->integrations->len; i++) {
		const struct integration *in = g_ptr_array_index(cfg->integrations, i);

		if (!in->active || !in->attachments || !provider_uploads(in->type))
			continue;
		if (in->upload_pe_files) {
			out->keep_pe = true;
			out->pe_max = MAX(out->pe_max, in->max_upload_size);
		}
		if (in->upload_other_files) {
			out->keep_other = true;
			out->other_max = MAX(out->other_max, in->max_upload_size);
		}
	}
	return out->keep_pe || out->keep_other;
}

/* ---------------------------------------------- the message's indicators */

struct candidate {
	enum indicator_kind kind;	/* URL, IP, HASH or EMAIL */
	const char *value;		/* borrowed from the facts */
	unsigned round;			/* URLs: the n-th of their domain */
	unsigned seq;			/* order found */
};

struct collector {
	const struct tm_config *cfg;
	bool takes[INDICATOR_KINDS];	/* some active integration takes it */
	GHashTable *seen;		/* "kind\x1fvalue" */
	GHashTable *per_domain;		/* domain -> URLs so far */
	GArray *candidates;		/* struct candidate */
	GHashTable *files;		/* sha256 -> struct attachment_fact * (borrowed) */
	unsigned limits;
};

/* "kind\x1fvalue": the key of an indicator in the planner's tables;
 * concatenated, not printf'd: built ~80 times per message (issue 19). */
static char *kind_key(enum indicator_kind kind, const char *value)
{
	return g_strconcat(indicator_kind_name(kind), "\x1f", value, NULL);
}

static void collect_one(struct collector *c, enum indicator_kind kind, const char *value)
{
	struct candidate cand = { .kind = kind, .value = value, .seq = c->candidates->len };

	if (!c->takes[kind] ||
	    !g_hash_table_add(c->seen, kind_key(kind, value)))
		return;
	if (kind == INDICATOR_URL) {
		char *host = url_host(value);
		char *domain = plan_domain_of(host != NULL ? host : "");
		unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(c->per_domain, domain));

		cand.round = n;
		g_hash_table_insert(c->per_domain, domain, GUINT_TO_POINTER(n + 1));
		g_free(host);
	}
	g_array_append_val(c->candidates, cand);
}

/* Depth first: a message, then its reported messages in MIME order. */
static void collect_message(struct collector *c, const struct facts *facts)
{
	c->limits |= facts->limits;
	if (facts->sender_ip != NULL && facts->sender_ip_excluded == NULL)
		collect_one(c, INDICATOR_IP, facts->sender_ip);
	for (guint i = 0; i < facts->attachments->len; i++) {
		const struct attachment_fact *att = g_ptr_array_index(facts->attachments, i);

		if (att->excluded != NULL)
			continue;
		collect_one(c, INDICATOR_HASH, att->sha256);
		/* the same file twice: the copy whose bytes were kept */
		if (att->sample != NULL || !g_hash_table_contains(c->files, att->sha256))
			g_hash_table_insert(c->files, (gpointer)att->sha256, (gpointer)att);
	}
	for (guint i = 0; i < facts->urls->len; i++) {
		const char *url = g_ptr_array_index(facts->urls, i);

		if (!g_hash_table_contains(facts->excluded_urls, url))
			collect_one(c, INDICATOR_URL, url);
	}
	for (guint i = 0; i < facts->emails->len; i++)
		collect_one(c, INDICATOR_EMAIL, g_ptr_array_index(facts->emails, i));
	for (guint i = 0; i < facts->reported->len; i++)
		collect_message(c, g_ptr_array_index(facts->reported, i));
}

static gint by_round_then_order(gconstpointer a, gconstpointer b)
{
	const struct candidate *x = a, *y = b;

	if (x->round != y->round)
		return x->round < y->round ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool active(const struct integration *in)
{
	return in->active && provider_asks(in->type);
}

static void which_kinds(const struct tm_config *cfg, bool takes[INDICATOR_KINDS])
{
	for (guint i = 0; i < cfg->integrations->len; i++) {
		const struct integration *in = g_ptr_array_index(cfg->integrations, i);

		if (!active(in))
			continue;
		const struct provider_type *t = in->type;

		if ((in->urls || in->domains) && (provider_supports(t, INDICATOR_URL) ||
				 provider_supports(t, INDICATOR_DOMAIN) ||
				 provider_supports(t, INDICATOR_IP)))
			takes[INDICATOR_URL] = true;
		if (in->sender_ip && provider_supports(t, INDICATOR_IP))
			takes[INDICATOR_IP] = true;
		if (in->attachments && provider_supports(t, INDICATOR_HASH))
			takes[INDICATOR_HASH] = true;
		if (in->email_addresses && provider_supports(t, INDICATOR_EMAIL))
			takes[INDICATOR_EMAIL] = true;
	}
}

/* ------------------------------------------------------------- lookups */

struct planner {
	const struct integration *in;
	GHashTable *made;	/* "kind\x1findicator" -> struct lookup * of in */
	GHashTable *files;	/* the collector's */
	struct plan *plan;
};

/* A new hash lookup: the file itself too when this integration may
 * upload it (plan_may_upload). */
static void attach_sample(struct planner *p, struct lookup *lookup)
{
	const struct attachment_fact *att = g_hash_table_lookup(p->files, lookup->indicator);
	const char *why;

	if (att == NULL || !provider_uploads(p->in->type) || !p->in->attachments)
		return;
	if (!plan_may_upload(p->in, att, &why)) {
		if (att->size > p->in->max_upload_size &&
		    (att->pe ? p->in->upload_pe_files : p->in->upload_other_files))
			log_msg(LOG_INFO, "integration %s: attachment %s (%zu bytes) not uploaded: "
				"larger than MaxUploadSize (%zu bytes)", p->in->name, att->sha256,
				att->size, p->in->max_upload_size);
		return;
	}
	if (att->sample == NULL) {
		log_msg(LOG_INFO, "integration %s: attachment %s not uploaded: its bytes were "
			"not kept", p->in->name, att->sha256);
		return;
	}
	lookup->sample = sample_ref(att->sample);
}

/* A type that takes files but has no hash lookup (ANY.RUN's sandbox API)
 * is asked about an attachment only when it would get the file itself:
 * a "hash" lookup there is the upload. */
static bool upload_only_takes(const struct planner *p, const char *sha256)
{
	const struct attachment_fact *att = g_hash_table_lookup(p->files, sha256);
	const char *why;

	return provider_uploads(p->in->type) && att != NULL && att->sample != NULL &&
	       plan_may_upload(p->in, att, &why);
}

static void ask(struct planner *p, struct plan_indicator *ind, enum indicator_kind kind,
		const char *value)
{
	char *key = kind_key(kind, value);
	struct lookup *lookup = g_hash_table_lookup(p->made, key);
	const char *why;

	if (lookup == NULL) {
		lookup = g_new0(struct lookup, 1);
		lookup->integration = p->in;
		lookup->kind = kind;
		lookup->indicator = g_strdup(value);
		/* Until the engine answers: never start as 0, which is "malicious". */
		lookup->result.status = LOOKUP_SKIPPED;
		if (!askable(p->in, kind, value, &why)) {
			lookup->result.status = LOOKUP_INVALID;
			lookup->result.details = g_strdup(why);
		} else if (kind == INDICATOR_HASH) {
			attach_sample(p, lookup);
		}
		g_ptr_array_add(p->plan->lookups, lookup);
		g_hash_table_insert(p->made, key, lookup);
	} else {
		g_free(key);
	}
	g_ptr_array_add(ind->lookups, lookup);
}

/* A URL's host: its IP or its domain, as the type can take it. */
static void ask_host(struct planner *p, struct plan_indicator *ind)
{
	char *host = url_host(ind->value);
	struct net_addr addr;

	if (host == NULL)
		return;
	if (net_addr_parse(host, &addr)) {
		if (provider_supports(p->in->type, INDICATOR_IP) && !net_addr_is_private(&addr))
			ask(p, ind, INDICATOR_IP, host);
	} else if (provider_supports(p->in->type, INDICATOR_DOMAIN)) {
		char *lower = g_ascii_strdown(host, -1);

		ask(p, ind, INDICATOR_DOMAIN, lower);
		g_free(lower);
	}
	g_free(host);
}

static void ask_url(struct planner *p, struct plan_indicator *ind)
{
	if (!p->in->hide_url_parameters && provider_supports(p->in->type, INDICATOR_URL))
		ask(p, ind, INDICATOR_URL, ind->value);
	else
		ask_host(p, ind);
}

/* The indicator asked as itself, when the integration's toggle for its
 * kind is on and its type answers that kind. */
static void ask_as_is(struct planner *p, struct plan_indicator *ind, bool toggle)
{
	if (toggle && provider_supports(p->in->type, ind->kind))
		ask(p, ind, ind->kind, ind->value);
}

static void ask_indicator(struct planner *p, struct plan_indicator *ind)
{
	switch (ind->kind) {
	case INDICATOR_URL:
		if (p->in->urls)
			ask_url(p, ind);
		/* Domains (APIVoid): the host too, unless URLs already asked it */
		if (p->in->domains && !(p->in->urls && p->in->hide_url_parameters))
			ask_host(p, ind);
		break;
	case INDICATOR_IP:
		ask_as_is(p, ind, p->in->sender_ip);
		break;
	case INDICATOR_HASH:
		if (p->in->attachments && (provider_supports(p->in->type, INDICATOR_HASH) ||
					   upload_only_takes(p, ind->value)))
			ask(p, ind, INDICATOR_HASH, ind->value);
		break;
	case INDICATOR_EMAIL:
		ask_as_is(p, ind, p->in->email_addresses);
		break;
	case INDICATOR_DOMAIN:
		break;
	}
}

void plan_build(const struct facts *const *roots, size_t n, const struct tm_config *cfg,
		struct plan *out)
{
	struct collector c = {
		.cfg = cfg,
		.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.per_domain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.candidates = g_array_new(FALSE, FALSE, sizeof(struct candidate)),
		.files = g_hash_table_new(g_str_hash, g_str_equal),
	};

	memset(out, 0, sizeof(*out));
	out->lookups = plan_array_new();
	out->indicators = g_ptr_array_new_with_free_func(plan_indicator_free);
	which_kinds(cfg, c.takes);
	for (size_t i = 0; i < n; i++)
		collect_message(&c, roots[i]);
	out->limits = c.limits;
	if (cfg->max_indicators > 0 && c.candidates->len > cfg->max_indicators) {
		g_array_sort(c.candidates, by_round_then_order);
		out->dropped = c.candidates->len - cfg->max_indicators;
		out->limits |= PLAN_LIMIT_MAX_INDICATORS;
		g_array_set_size(c.candidates, cfg->max_indicators);
	}
	for (guint i = 0; i < c.candidates->len; i++) {
		const struct candidate *cand = &g_array_index(c.candidates, struct candidate, i);
		struct plan_indicator *ind = g_new0(struct plan_indicator, 1);

		ind->kind = cand->kind;
		ind->value = g_strdup(cand->value);
		ind->lookups = g_ptr_array_new();
		g_ptr_array_add(out->indicators, ind);
	}
	for (guint i = 0; i < cfg->integrations->len; i++) {
		struct planner p = { .in = g_ptr_array_index(cfg->integrations, i), .plan = out,
				     .files = c.files };

		if (!active(p.in))
			continue;
		p.made = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		for (guint k = 0; k < out->indicators->len; k++)
			ask_indicator(&p, g_ptr_array_index(out->indicators, k));
		g_hash_table_destroy(p.made);
	}
	g_array_unref(c.candidates);
	g_hash_table_destroy(c.files);
	g_hash_table_destroy(c.per_domain);
	g_hash_table_destroy(c.seen);
}
