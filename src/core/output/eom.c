/* eom.c: end of message: analyse, judge, decide, act. */
#include <autoconfig.h>
#include "output/eom.h"

#include <string.h>
#include <unistd.h>

#include "analysis/analyze.h"
#include "lookup/plan.h"
#include "engine/engine.h"
#include "metrics/catalog.h"
#include "analysis/exclude.h"
#include "output/headers.h"
#include "config/integrations.h"
#include "util/log.h"
#include "util/netaddr.h"

static const char *const own_suffixes[EOM_OWN_HEADERS] = { "Verdict", "Report", "Scanned", "Filter" };

void eom_count_own_headers(const struct tm_config *cfg, const char *name,
			   unsigned counts[EOM_OWN_HEADERS])
{
	const char *prefix = cfg->header_prefix ? cfg->header_prefix : "X-Threat-";
	size_t plen = strlen(prefix);

	if (g_ascii_strncasecmp(name, prefix, plen) != 0)
		return;
	for (int i = 0; i < EOM_OWN_HEADERS; i++)
		if (g_ascii_strcasecmp(name + plen, own_suffixes[i]) == 0)
			counts[i]++;
}

/* Forged copies go first, from the last one up, so that the indexes of
 * the remaining ones do not move. */
static void remove_own_headers(const struct eom_input *in, const struct eom_ops *ops, void *ctx)
{
	const char *prefix = in->cfg->header_prefix ? in->cfg->header_prefix : "X-Threat-";

	for (int i = 0; i < EOM_OWN_HEADERS; i++) {
		if (in->own_header_counts[i] == 0)
			continue;
		char *name = g_strconcat(prefix, own_suffixes[i], NULL);
		for (unsigned idx = in->own_header_counts[i]; idx >= 1; idx--)
			if (!ops->header(ctx, HEADER_CHANGE, idx, name, NULL))
				log_msg(LOG_WARNING, "%s: cannot remove %s #%u", in->queue_id, name, idx);
		g_free(name);
	}
}

/* The sender IP: the connecting client, unless it is one of ours
 * (InternalHosts, or a private address, which is never the Internet
 * sender); then the Received walk the analysis already did. */
static void apply_client_ip(const struct eom_input *in, struct facts *facts)
{
	struct net_addr addr;
	char text[NET_ADDR_TEXT_MAX];

	if (in->client_ip == NULL || !net_addr_parse(in->client_ip, &addr))
		return;
	if (net_addr_is_private(&addr) || net_list_match(in->cfg->internal_hosts, &addr) != NULL)
		return;
	g_free(facts->sender_ip);
	facts->sender_ip = g_strdup(net_addr_format(&addr, text, sizeof(text)));
	facts->sender_ip_excluded = exclusions_match_ip(in->cfg->exclusions, facts->sender_ip);
}

/* The report of a message that was not analysed, by its event. */
static const char *not_scanned_text(enum tm_event event)
{
	switch (event) {
	case EVENT_TOO_LARGE: return "not scanned: message larger than MaxMessageSize";
	case EVENT_INTERNAL_ERROR: return "not scanned: internal error";
	default: return "not scanned";
	}
}

static void add_headers(const struct eom_input *in, const struct eom_outcome *out,
			const struct eom_ops *ops, void *ctx)
{
	struct verdict_headers h;

	verdict_headers_build(&out->judgement, in->cfg, in->cfg->report_hostname, &h);
	if (!out->scanned) {
		g_free(h.report.value);
		h.report.value = g_strdup(not_scanned_text(out->event));
	}
	/* Inserted at the top in reverse, so they read Verdict, Report, Scanned. */
	if (in->cfg->software_header) {
		/* OpenDKIM's "DKIM-Filter: OpenDKIM Filter v2.11.0 host id" pattern */
		const char *prefix = in->cfg->header_prefix ? in->cfg->header_prefix : "X-Threat-";
		char *name = g_strconcat(prefix, "Filter", NULL);
		char *host = header_sanitize(in->cfg->report_hostname, 200);
		char *id = header_sanitize(in->queue_id && *in->queue_id ? in->queue_id : "NOQUEUE", 64);
		char *value = g_strdup_printf("%s v%s %s %s", PACKAGE_NAME, PACKAGE_VERSION, host, id);

		ops->header(ctx, HEADER_INSERT, 0, name, value);
		g_free(name);
		g_free(host);
		g_free(id);
		g_free(value);
	}
	ops->header(ctx, HEADER_INSERT, 0, h.scanned.name, h.scanned.value);
	ops->header(ctx, HEADER_INSERT, 0, h.report.name, h.report.value);
	ops->header(ctx, HEADER_INSERT, 0, h.verdict.name, h.verdict.value);
	verdict_headers_clear(&h);
}

static void tag_subject(const struct eom_input *in, const struct eom_ops *ops, void *ctx)
{
	const char *tag = in->cfg->subject_tag;

	if (tag == NULL || *tag == '\0')
		return;
	if (in->subject == NULL) {
		ops->header(ctx, HEADER_ADD, 0, "Subject", tag);
		return;
	}
	if (g_str_has_prefix(in->subject, tag))
		return;	/* already tagged, e.g. by a previous hop of ours */
	char *value = g_strconcat(tag, " ", in->subject, NULL);
	ops->header(ctx, HEADER_CHANGE, 1, "Subject", value);
	g_free(value);
}

static char *decision_reason(const struct eom_input *in, const struct eom_outcome *out)
{
	const struct lookup *decisive = out->judgement.summary.decisive;

	if (!out->scanned && out->event == EVENT_INTERNAL_ERROR) {
		char *raw = g_strdup_printf("%s: message not stored: %s", event_key(out->event),
					    in->error != NULL ? in->error : "no message");
		char *clean = header_sanitize(raw, 400);
		g_free(raw);
		return clean;
	}
	if (!out->scanned)
		return g_strdup(event_key(out->event));
	if (out->event == EVENT_LIMIT) {
		char *limits = verdict_limits_text(out->judgement.summary.limits);
		char *text = g_strdup_printf("%s: %s, %u indicators not asked", event_key(out->event),
					     limits, out->judgement.summary.dropped);
		g_free(limits);
		return text;
	}
	if (decisive != NULL) {
		char *raw = g_strdup_printf("%s: %s %s=%s %s", verdict_name(out->judgement.summary.verdict),
					    decisive->integration->name,
					    indicator_kind_name(decisive->kind), decisive->indicator,
					    decisive->result.details ? decisive->result.details : "");
		char *clean = header_sanitize(raw, 400);
		g_free(raw);
		return clean;
	}
	return g_strdup_printf("%s: %u lookups, %u errors, %u timeouts",
			       event_key(out->event), out->judgement.summary.lookups,
			       out->judgement.summary.errors, out->judgement.summary.timeouts);
}

static void act(const struct eom_input *in, struct eom_outcome *out, const struct eom_ops *ops,
		void *ctx)
{
	struct smtp_reply reply;

	switch (out->action) {
	case ACTION_TAG:
		tag_subject(in, ops, ctx);
		break;
	case ACTION_QUARANTINE:
		if (!ops->quarantine(ctx, out->reason))
			log_msg(LOG_ERR, "%s: quarantine failed", in->queue_id);
		break;
	case ACTION_REJECT:
	case ACTION_TEMPFAIL:
		decide_reply(in->cfg->reject_message, out->action,
			     verdict_name(out->judgement.summary.verdict), &reply);
		ops->set_reply(ctx, reply.rcode, reply.xcode, reply.text);
		smtp_reply_clear(&reply);
		break;
	case ACTION_ACCEPT:
	case ACTION_DISCARD:
		break;
	}
}

void eom_process(const struct eom_input *in, const struct eom_ops *ops, void *ops_ctx,
		 struct eom_outcome *out)
{
	int64_t start = engine_now_ms();
	bool report_mode = in->cfg->mode == MODE_REPORT || in->only_report_recipients;

	memset(out, 0, sizeof(*out));
	remove_own_headers(in, ops, ops_ctx);

	if (in->skip_analysis) {
		/* Our forged headers are gone; nothing else to do. The summary
		 * says unknown (a zeroed one would read "malicious"). */
		out->judgement.lookups = g_ptr_array_new();
		verdict_compute(NULL, 0, &out->judgement.summary);
		out->event = EVENT_UNKNOWN;
		out->action = ACTION_ACCEPT;
		out->reason = g_strdup("authenticated client, not scanned");
		out->elapsed_ms = engine_now_ms() - start;
		tm_metrics_message(engine_metrics(in->engine), false, NULL, out->action,
				   out->elapsed_ms);
		return;
	}
	if (in->too_large || in->message == NULL) {
		out->judgement.lookups = g_ptr_array_new();
		verdict_compute(NULL, 0, &out->judgement.summary);
		out->event = in->too_large ? EVENT_TOO_LARGE : EVENT_INTERNAL_ERROR;
	} else {
		struct analyze_options opts;

		plan_sample_options(in->cfg, &opts);
		/* the plan looks attachments up by SHA-256 only (plan.c collect) */
		opts.sha256_only = !in->all_digests;
		out->facts = analyze_stream_keep(in->message, in->cfg, &opts);
		apply_client_ip(in, out->facts);
		judge_message_queued(in->engine, in->cfg, out->facts, report_mode, in->queue_id,
				     &out->judgement);
		out->scanned = true;
		out->event = decide_event(&out->judgement);
	}
	out->action = in->cfg->on[out->event];
	if (in->engine != NULL && (out->action == ACTION_REJECT || out->action == ACTION_TEMPFAIL ||
				   out->action == ACTION_DISCARD))
		engine_message_not_delivered(in->engine, in->queue_id);
	out->reason = decision_reason(in, out);
	if (out->action != ACTION_REJECT && out->action != ACTION_TEMPFAIL &&
	    out->action != ACTION_DISCARD)
		add_headers(in, out, ops, ops_ctx);
	act(in, out, ops, ops_ctx);
	out->elapsed_ms = engine_now_ms() - start;
	tm_metrics_message(engine_metrics(in->engine), out->scanned,
			   verdict_name(out->judgement.summary.verdict), out->action, out->elapsed_ms);
}

void eom_outcome_clear(struct eom_outcome *out)
{
	if (out->facts != NULL)
		facts_free(out->facts);
	judgement_clear(&out->judgement);
	g_free(out->reason);
	memset(out, 0, sizeof(*out));
}

/* Per-integration "name=result/latency", one entry per integration: the
 * worst result it gave and its slowest answer. */
static void append_integrations(GString *line, const struct judgement *j)
{
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);

	for (guint i = 0; i < j->lookups->len; i++) {
		const struct lookup *l = g_ptr_array_index(j->lookups, i);

		if (!g_hash_table_add(seen, (gpointer)l->integration))
			continue;
		const struct lookup_result *worst = &l->result;
		unsigned slowest = l->result.latency_ms;
		for (guint k = i + 1; k < j->lookups->len; k++) {
			const struct lookup *o = g_ptr_array_index(j->lookups, k);

			if (o->integration != l->integration)
				continue;
			if (lookup_status_severity(o->result.status) >
			    lookup_status_severity(worst->status))
				worst = &o->result;
			if (o->result.latency_ms > slowest)
				slowest = o->result.latency_ms;
		}
		/* "timeout" and "paused" say more than "error" (issue 18.11) */
		g_string_append_printf(line, " %s=%s/%ums", l->integration->name,
				       verdict_outcome_word(worst), slowest);
		if (line->len > 700) {
			g_string_append(line, " ...");
			break;
		}
	}
	g_hash_table_unref(seen);
}

char *eom_summary_line(const struct eom_input *in, const struct eom_outcome *out)
{
	GString *line = g_string_new(NULL);
	const struct facts *f = out->facts;

	g_string_append_printf(line, "%s: client=%s", in->queue_id && *in->queue_id ? in->queue_id : "NOQUEUE",
			       in->client_ip ? in->client_ip : "local");
	if (f != NULL)
		g_string_append_printf(line, " urls=%u ip=%s attachments=%u reported=%u",
				       f->urls->len, f->sender_ip ? f->sender_ip : "none",
				       f->attachments->len, f->reported->len);
	g_string_append_printf(line, " size=%zu", in->size);
	append_integrations(line, &out->judgement);
	g_string_append_printf(line, " verdict=%s%s event=%s action=%s elapsed=%" G_GINT64_FORMAT "ms",
			       verdict_name(out->judgement.summary.verdict),
			       out->judgement.reported ? "(reported)" : "", event_key(out->event),
			       action_name(out->action), out->elapsed_ms);
	if (line->len > 1000)
		g_string_truncate(line, 1000);
	return g_string_free(line, FALSE);
}
