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
	GHashTable *seen;		/* value (borrowed) -> bit set of its kinds */
	GArray *candidates;		/* struct candidate */
	GHashTable *files;		/* sha256 -> struct attachment_fact * (borrowed) */
	unsigned limits;
};

/* value as a candidate of kind, once. */
static void add_candidate(struct collector *c, enum indicator_kind kind, const char *value)
{
	struct candidate cand = { .kind = kind, .value = value, .seq = c->candidates->len };
	unsigned kinds = GPOINTER_TO_UINT(g_hash_table_lookup(c->seen, value));

	if ((kinds & (1u << kind)) != 0)
		return;
	g_hash_table_insert(c->seen, (gpointer)value, GUINT_TO_POINTER(kinds | (1u << kind)));
	g_array_append_val(c->candidates, cand);
}

static void collect_one(struct collector *c, enum indicator_kind kind, const char *value)
{
	if (c->takes[kind])
		add_candidate(c, kind, value);
}

static bool active(const struct integration *in)
{
	return in->active && provider_asks(in->type);
}

/* Whether an active integration that has no hash lookup but takes files
 * (ANY.RUN's sandbox API) would get att itself: then the attachment is an
 * indicator even when no integration looks hashes up. One it would not
 * get is no indicator, as with no integration taking files at all. */
static bool uploaded_by_some(const struct collector *c, const struct attachment_fact *att)
{
	const char *why;

	if (att->sample == NULL)
		return false;
	for (guint i = 0; i < c->cfg->integrations->len; i++) {
		const struct integration *in = g_ptr_array_index(c->cfg->integrations, i);

		if (active(in) && in->attachments && provider_uploads(in->type) &&
		    plan_may_upload(in, att, &why))
			return true;
	}
	return false;
}

/* Over MaxIndicators only: each URL's round, the n-th of its registrable
 * domain in the order found. */
static void number_rounds(GArray *candidates)
{
	GHashTable *per_domain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < candidates->len; i++) {
		struct candidate *cand = &g_array_index(candidates, struct candidate, i);

		if (cand->kind != INDICATOR_URL)
			continue;
		char *host = url_host(cand->value);
		char *domain = plan_domain_of(host != NULL ? host : "");
		unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(per_domain, domain));

		cand->round = n;
		g_hash_table_insert(per_domain, domain, GUINT_TO_POINTER(n + 1));
		g_free(host);
	}
	g_hash_table_destroy(per_domain);
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
		if (c->takes[INDICATOR_HASH] || uploaded_by_some(c, att))
			add_candidate(c, INDICATOR_HASH, att->sha256);
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

/* Fills takes; returns the number of active integrations. */
static unsigned which_kinds(const struct tm_config *cfg, bool takes[INDICATOR_KINDS])
{
	unsigned n = 0;

	for (guint i = 0; i < cfg->integrations->len; i++) {
		const struct integration *in = g_ptr_array_index(cfg->integrations, i);

		if (!active(in))
			continue;
		n++;
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
	return n;
}

/* ------------------------------------------------- the message's names */

/* What the lookups of every integration share, worked out once per
 * message rather than once per integration (issue 19): each distinct
 * (kind, value) a lookup may ask, and whether it can be asked at all
 * (askable_value). */
struct name {
	enum indicator_kind kind;
	const char *value;	/* borrowed: the indicator's or its host's */
	bool ok;		/* askable_value() */
	const char *why;	/* ... why not */
};

#define NO_NAME G_MAXUINT

/* The names of one indicator: its own and, for a URL, that of its host
 * (an IP outside the private ranges, or a domain in lower case), else
 * NO_NAME. */
struct indicator_names {
	unsigned own, host;
	char *host_text;	/* the URL's host, g_malloc'd; may be NULL */
};

struct names {
	struct name *all;		/* at most two an indicator */
	unsigned len;
	GHashTable *index;		/* IPs and hosts: struct name * (in all) -> index + 1 */
	struct indicator_names *of;	/* one per plan indicator */
	guint n;
};

static guint name_hash(gconstpointer key)
{
	const struct name *name = key;

	return g_str_hash(name->value) + name->kind;
}

static gboolean name_equal(gconstpointer a, gconstpointer b)
{
	const struct name *x = a, *y = b;

	return x->kind == y->kind && strcmp(x->value, y->value) == 0;
}

/* url_host: a URL's host (URL names only). The indicators are distinct
 * (collect_one): only IPs (the sender's, a URL's host) and domains (two
 * URLs of one host) can repeat. */
static unsigned name_of(struct names *names, enum indicator_kind kind, const char *value,
			const char *url_host)
{
	struct name *name = &names->all[names->len];

	name->kind = kind;
	name->value = value;
	if (kind == INDICATOR_IP || kind == INDICATOR_DOMAIN) {
		unsigned found = GPOINTER_TO_UINT(g_hash_table_lookup(names->index, name));

		if (found > 0)
			return found - 1;
		g_hash_table_insert(names->index, name, GUINT_TO_POINTER(names->len + 1));
	}
	name->ok = kind == INDICATOR_URL ? askable_url(value, url_host, &name->why)
					 : askable_value(kind, value, &name->why);
	return names->len++;
}

static void name_indicator(struct names *names, const struct plan_indicator *ind,
			   struct indicator_names *out)
{
	struct net_addr addr;

	out->host = NO_NAME;
	out->host_text = ind->kind == INDICATOR_URL ? url_host(ind->value) : NULL;
	out->own = name_of(names, ind->kind, ind->value, out->host_text);
	if (out->host_text == NULL)
		return;
	if (net_addr_parse(out->host_text, &addr)) {
		if (!net_addr_is_private(&addr))
			out->host = name_of(names, INDICATOR_IP, out->host_text, NULL);
	} else {
		for (char *c = out->host_text; *c != '\0'; c++)
			*c = g_ascii_tolower(*c);
		out->host = name_of(names, INDICATOR_DOMAIN, out->host_text, NULL);
	}
}

static void names_build(struct names *names, const GPtrArray *indicators)
{
	names->n = indicators->len;
	names->all = g_new(struct name, 2 * names->n + 1);
	names->len = 0;
	names->index = g_hash_table_new(name_hash, name_equal);
	names->of = g_new(struct indicator_names, names->n + 1);
	for (guint k = 0; k < names->n; k++)
		name_indicator(names, g_ptr_array_index(indicators, k), &names->of[k]);
}

static void names_clear(struct names *names)
{
	for (guint k = 0; k < names->n; k++)
		g_free(names->of[k].host_text);
	g_free(names->of);
	g_hash_table_destroy(names->index);
	g_free(names->all);
}

/* ------------------------------------------------------------- lookups */

struct planner {
	const struct integration *in;
	const struct names *names;
	const struct indicator_names *at;	/* the indicator being planned */
	struct lookup **made;	/* by name: the lookups of in so far */
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

/* value (of kind) about ind: the indicator itself when kind is its own,
 * else its host (p->at). One lookup per name and integration. */
static void ask(struct planner *p, struct plan_indicator *ind, enum indicator_kind kind,
		const char *value)
{
	unsigned at = kind == ind->kind ? p->at->own : p->at->host;
	const struct name *name = &p->names->all[at];
	struct lookup *lookup = p->made[at];
	const char *why = name->why;

	if (lookup == NULL) {
		lookup = g_new(struct lookup, 1);
		/* Until the engine answers: never start as 0, which is "malicious". */
		*lookup = (struct lookup){ .integration = p->in, .kind = kind,
					   .indicator = g_strdup(value),
					   .result.status = LOOKUP_SKIPPED };
		if (!name->ok || !askable_by(p->in, kind, value, &why)) {
			lookup->result.status = LOOKUP_INVALID;
			lookup->result.details = g_strdup(why);
		} else if (kind == INDICATOR_HASH) {
			attach_sample(p, lookup);
		}
		g_ptr_array_add(p->plan->lookups, lookup);
		p->made[at] = lookup;
	}
	g_ptr_array_add(ind->lookups, lookup);
}

/* A URL's host: its IP or its domain, as the type can take it. */
static void ask_host(struct planner *p, struct plan_indicator *ind)
{
	if (p->at->host == NO_NAME)
		return;
	const struct name *host = &p->names->all[p->at->host];

	if (provider_supports(p->in->type, host->kind))
		ask(p, ind, host->kind, host->value);
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

/* Every active integration's lookups of the plan's indicators. */
static void plan_lookups(const struct tm_config *cfg, GHashTable *files, struct plan *out)
{
	struct names names;

	names_build(&names, out->indicators);
	struct lookup **made = g_new(struct lookup *, names.len + 1);

	for (guint i = 0; i < cfg->integrations->len; i++) {
		struct planner p = { .in = g_ptr_array_index(cfg->integrations, i), .plan = out,
				     .names = &names, .made = made, .files = files };

		if (!active(p.in))
			continue;
		memset(made, 0, (names.len + 1) * sizeof(*made));
		for (guint k = 0; k < out->indicators->len; k++) {
			p.at = &names.of[k];
			ask_indicator(&p, g_ptr_array_index(out->indicators, k));
		}
	}
	g_free(made);
	names_clear(&names);
}

void plan_build(const struct facts *const *roots, size_t n, const struct tm_config *cfg,
		struct plan *out)
{
	struct collector c = {
		.cfg = cfg,
		.seen = g_hash_table_new(g_str_hash, g_str_equal),
		.candidates = g_array_new(FALSE, FALSE, sizeof(struct candidate)),
		.files = g_hash_table_new(g_str_hash, g_str_equal),
	};

	memset(out, 0, sizeof(*out));
	out->indicators = g_ptr_array_new_with_free_func(plan_indicator_free);
	unsigned integrations = which_kinds(cfg, c.takes);
	for (size_t i = 0; i < n; i++)
		collect_message(&c, roots[i]);
	out->limits = c.limits;
	if (cfg->max_indicators > 0 && c.candidates->len > cfg->max_indicators) {
		number_rounds(c.candidates);
		g_array_sort(c.candidates, by_round_then_order);
		out->dropped = c.candidates->len - cfg->max_indicators;
		out->limits |= PLAN_LIMIT_MAX_INDICATORS;
		g_array_set_size(c.candidates, cfg->max_indicators);
	}
	/* as plan_array_new(), room for a lookup an indicator and integration */
	out->lookups = g_ptr_array_new_full(c.candidates->len * integrations, lookup_free_cb);
	for (guint i = 0; i < c.candidates->len; i++) {
		const struct candidate *cand = &g_array_index(c.candidates, struct candidate, i);
		struct plan_indicator *ind = g_new0(struct plan_indicator, 1);

		ind->kind = cand->kind;
		ind->value = g_strdup(cand->value);
		ind->lookups = g_ptr_array_sized_new(integrations);
		g_ptr_array_add(out->indicators, ind);
	}
	plan_lookups(cfg, c.files, out);
	g_array_unref(c.candidates);
	g_hash_table_destroy(c.files);
	g_hash_table_destroy(c.seen);
}
