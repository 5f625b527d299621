/* scan.c: `threatmilter scan`: the end-of-message pipeline on files.
 *
 * Prints one JSON object per message, one per line (JSON Lines), so that
 * a script can read the output of many files with one parser; --pretty
 * indents it for people. */
#include <autoconfig.h>
#include "cli/scan.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analyze.h"
#include "cli/cli.h"
#include "config/config.h"
#include "engine/engine.h"
#include "config/integrations.h"
#include "output/decide.h"
#include "output/eom.h"
#include "output/headers.h"
#include "lookup/judge.h"
#include "lookup/plan.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "output/verdict.h"

struct scan_options {
	bool lookups;
	bool pretty;
	const char *config_path;
};

struct scan_context {
	struct tm_config *cfg;
	struct engine *engine;	/* NULL: facts only */
	const struct scan_options *opts;
	char *warning;		/* the embedded default gives no real answers */
};

static void scan_usage(FILE *out)
{
	fputs("usage: threatmilter scan [--no-lookups] [--pretty] [-c FILE] FILE.eml... | -\n"
	      "  Analyses each message (URLs, sender IP, attachments, reported messages),\n"
	      "  asks the configuration's integrations and prints the facts, the lookups,\n"
	      "  the verdict and what the daemon would do, one JSON object per line.\n"
	      "  '-' reads standard input.\n"
	      "  --no-lookups  the facts only: no integration is asked\n"
	      "  --pretty      indented JSON\n"
	      "  -c FILE       configuration (default: the daemon's; without one, the\n"
	      "                embedded defaults: Spamhaus through this host's resolver)\n"
	      "  Exit status: 0 all scanned, 1 a file could not be read, 2 usage or\n"
	      "  configuration error.\n", out);
}

static void print_json(cJSON *json, bool pretty)
{
	char *text = pretty ? cJSON_Print(json) : cJSON_PrintUnformatted(json);

	fputs(text, stdout);
	fputc('\n', stdout);
	cJSON_free(text);
}

static cJSON *lookup_to_json(const struct lookup *lookup)
{
	cJSON *obj = cJSON_CreateObject();
	const struct integration *in = lookup->integration;

	cJSON_AddStringToObject(obj, "integration", in->name);
	cJSON_AddStringToObject(obj, "type", in->type ? in->type->name : "");
	cJSON_AddStringToObject(obj, "kind", indicator_kind_name(lookup->kind));
	cJSON_AddStringToObject(obj, "indicator", lookup->indicator);
	cJSON_AddStringToObject(obj, "result", lookup_status_name(lookup->result.status));
	if (lookup->result.details != NULL)
		cJSON_AddStringToObject(obj, "details", lookup->result.details);
	cJSON_AddNumberToObject(obj, "latency_ms", lookup->result.latency_ms);
	cJSON_AddBoolToObject(obj, "cached", lookup->result.cached);
	return obj;
}

/* ------------------------------------------ the recording eom_ops */

/* What the milter would do to the message, one string each: "insert
 * NAME: VALUE", "change NAME #N: VALUE" or "(delete)", "add NAME: VALUE",
 * "quarantine REASON", "reply 550 5.7.1 TEXT". ctx: a cJSON array. */
static bool record(void *ctx, char *text)
{
	cJSON_AddItemToArray(ctx, cJSON_CreateString(text));
	g_free(text);
	return true;
}

static bool rec_header(void *ctx, enum header_edit edit, unsigned index, const char *name,
		       const char *value)
{
	switch (edit) {
	case HEADER_INSERT:
		return record(ctx, g_strdup_printf("insert %s: %s", name, value));
	case HEADER_CHANGE:
		return record(ctx, g_strdup_printf("change %s #%u: %s", name, index,
						   value ? value : "(delete)"));
	case HEADER_ADD:
		return record(ctx, g_strdup_printf("add %s: %s", name, value));
	}
	return false;
}

static bool rec_quarantine(void *ctx, const char *reason)
{
	return record(ctx, g_strdup_printf("quarantine %s", reason));
}

static bool rec_reply(void *ctx, const char *rcode, const char *xcode, const char *text)
{
	return record(ctx, g_strdup_printf("reply %s %s %s", rcode, xcode, text));
}

static const struct eom_ops recorder_ops = {
	.header = rec_header,
	.quarantine = rec_quarantine,
	.set_reply = rec_reply,
};

/* The header block of a raw message: our own header names counted as the
 * milter counts them, and the first Subject (unfolded). */
static char *read_header_block(const GByteArray *raw, const struct tm_config *cfg,
			       unsigned counts[EOM_OWN_HEADERS])
{
	const char *p = (const char *)raw->data, *end = p + raw->len;
	GString *subject = NULL;
	bool in_subject = false;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol ? eol : end) - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0)
			break;	/* end of the header */
		if (*p == ' ' || *p == '\t') {
			if (in_subject)
				g_string_append_len(subject, p, (gssize)len);
		} else {
			const char *colon = memchr(p, ':', len);
			char *name = colon ? g_strndup(p, (gsize)(colon - p)) : NULL;

			in_subject = false;
			if (name != NULL) {
				eom_count_own_headers(cfg, name, counts);
				if (subject == NULL && g_ascii_strcasecmp(name, "Subject") == 0) {
					const char *v = colon + 1;

					while (v < p + len && (*v == ' ' || *v == '\t'))
						v++;
					subject = g_string_new_len(v, (gssize)(p + len - v));
					in_subject = true;
				}
			}
			g_free(name);
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return subject ? g_string_free(subject, FALSE) : NULL;
}

static void add_summary(cJSON *json, const struct eom_outcome *out)
{
	const struct verdict_summary *summary = &out->judgement.summary;
	cJSON *sum = cJSON_AddObjectToObject(json, "summary");

	cJSON_AddNumberToObject(sum, "lookups", summary->lookups);
	cJSON_AddNumberToObject(sum, "cached", summary->cached);
	cJSON_AddNumberToObject(sum, "errors", summary->errors);
	cJSON_AddNumberToObject(sum, "timeouts", summary->timeouts);
	cJSON_AddNumberToObject(sum, "rate_limited", summary->rate_limited);
	cJSON_AddNumberToObject(sum, "indicators", summary->indicators);
	cJSON_AddNumberToObject(sum, "unjudged", summary->unjudged);
	if (summary->limits != 0) {
		char *limits = verdict_limits_text(summary->limits);

		cJSON_AddStringToObject(sum, "limits", limits);
		g_free(limits);
		cJSON_AddNumberToObject(sum, "not_asked", summary->dropped);
	}
	cJSON_AddBoolToObject(sum, "reported", out->judgement.reported);
	cJSON_AddNumberToObject(sum, "elapsed_ms", (double)out->judgement.elapsed_ms);
}

/* The daemon's end-of-message code (eom.c) on the file, through the
 * recording eom_ops: the same limits (MaxMessageSize), lookups, verdict,
 * event, action and headers as the milter (issue 11.6). */
static void add_outcome(cJSON *json, GByteArray *raw, const struct scan_context *ctx)
{
	struct eom_outcome out;
	struct eom_input in = {
		.cfg = ctx->cfg,
		.engine = ctx->engine,
		.size = raw->len,
		.too_large = raw->len > ctx->cfg->max_message_size,
		.queue_id = "",
		.all_digests = true,	/* the facts are printed */
	};
	char *subject = read_header_block(raw, ctx->cfg, in.own_header_counts);
	cJSON *actions = cJSON_CreateArray();

	in.subject = subject;
	if (!in.too_large)
		in.message = analyze_memory_stream(raw->data, raw->len);
	eom_process(&in, &recorder_ops, actions, &out);

	cJSON_AddItemToObject(json, "facts", out.facts != NULL ? facts_to_json(out.facts)
							      : cJSON_CreateNull());
	cJSON *list = cJSON_AddArrayToObject(json, "lookups");
	for (guint i = 0; i < out.judgement.lookups->len; i++)
		cJSON_AddItemToArray(list, lookup_to_json(g_ptr_array_index(out.judgement.lookups, i)));
	cJSON_AddStringToObject(json, "verdict", verdict_name(out.judgement.summary.verdict));
	cJSON_AddStringToObject(json, "event", event_key(out.event));
	cJSON_AddStringToObject(json, "action", action_name(out.action));
	cJSON_AddStringToObject(json, "why", out.reason);
	add_summary(json, &out);
	cJSON_AddItemToObject(json, "milter", actions);
	if (in.message != NULL)
		g_object_unref(in.message);
	g_free(subject);
	eom_outcome_clear(&out);
}

static GByteArray *read_all(int fd, char *err, size_t errlen, const char *path)
{
	GByteArray *bytes = g_byte_array_new();
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_byte_array_append(bytes, (const guint8 *)buf, (guint)n);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		g_byte_array_unref(bytes);
		return NULL;
	}
	return bytes;
}

static GByteArray *read_message(const char *path, char *err, size_t errlen)
{
	if (strcmp(path, "-") == 0)
		return read_all(STDIN_FILENO, err, errlen, "standard input");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	GByteArray *bytes = read_all(fd, err, errlen, path);
	close(fd);
	return bytes;
}

/* The embedded defaults ask Spamhaus through whatever resolver the host
 * has, without a key. Spamhaus refuses public resolvers (127.255.255.x
 * answers) and some resolvers answer NXDOMAIN for everything, which
 * reads as "not listed": clean answers that look real (issue 18.12).
 * So the first thing `scan` does with the embedded defaults is ask each
 * integration its provider's test indicator (the one Test Connection
 * uses: 127.0.0.2 must be listed); when that does not come back as it
 * must, the integration is left out (its answers would not be real, so
 * the verdict is unknown, never clean) and the output says why. NULL
 * when all is well, else a g_malloc'd warning. */
static char *probe_embedded_default(const struct tm_config *cfg, struct engine *engine)
{
	GString *warning = g_string_new(NULL);
	GPtrArray *probes = plan_array_new();
	unsigned timeout_ms = 0;

	for (guint i = 0; i < cfg->integrations->len; i++) {
		const struct integration *in = g_ptr_array_index(cfg->integrations, i);
		const struct provider_type *type = in->type;

		if (!in->active || !provider_asks(type) || type->test.ok == NULL)
			continue;
		struct lookup *probe = g_new0(struct lookup, 1);
		probe->integration = in;
		probe->kind = type->test.kind;
		probe->indicator = g_strdup(type->test.indicator);
		g_ptr_array_add(probes, probe);
		timeout_ms = MAX(timeout_ms, in->timeout_ms);
	}
	if (probes->len > 0)
		engine_run(engine, (struct tm_config *)cfg, (struct lookup *const *)probes->pdata,
			   probes->len, engine_now_ms() + 2 * (int64_t)timeout_ms + 1000);
	for (guint i = 0; i < probes->len; i++) {
		const struct lookup *probe = g_ptr_array_index(probes, i);

		if (probe->integration->type->test.ok(probe))
			continue;
		/* scan owns this snapshot: the integration is left out */
		((struct integration *)probe->integration)->active = false;
		g_string_append_printf(warning, "%s%s: no real answers, not asked: its test entry %s "
				       "came back %s%s%s (the embedded default asks Spamhaus through "
				       "this host's resolver without a key; see threatmilter.conf(5), "
				       "DNSServers and APIKey)",
				       warning->len ? "; " : "", probe->integration->name,
				       probe->indicator, lookup_status_name(probe->result.status),
				       probe->result.details ? ": " : "",
				       probe->result.details ? probe->result.details : "");
	}
	g_ptr_array_unref(probes);
	if (warning->len == 0) {
		g_string_free(warning, TRUE);
		return NULL;
	}
	return g_string_free(warning, FALSE);
}

static int scan_file(const char *path, const struct scan_context *ctx)
{
	char err[512];
	GByteArray *raw = read_message(path, err, sizeof(err));

	if (raw == NULL) {
		fprintf(stderr, "threatmilter scan: %s\n", err);
		return 1;
	}
	cJSON *json = cJSON_CreateObject();
	cJSON_AddStringToObject(json, "file", path);
	if (ctx->warning != NULL)
		cJSON_AddStringToObject(json, "warning", ctx->warning);
	if (ctx->engine != NULL) {
		add_outcome(json, raw, ctx);
	} else {
		/* --no-lookups: the facts alone */
		GMimeStream *stream = analyze_memory_stream(raw->data, raw->len);
		struct analyze_options keep;
		bool uploads = plan_sample_options(ctx->cfg, &keep);
		struct facts *facts = analyze_stream_keep(stream, ctx->cfg, uploads ? &keep : NULL);

		g_object_unref(stream);
		cJSON_AddItemToObject(json, "facts", facts_to_json(facts));
		facts_free(facts);
	}
	print_json(json, ctx->opts->pretty);
	cJSON_Delete(json);
	g_byte_array_unref(raw);
	return 0;
}

int scan_main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "no-lookups", no_argument, NULL, 'L' },
		{ "pretty", no_argument, NULL, 'P' },
		CLI_OPTION_CONFIG,
		CLI_OPTION_HELP,
		CLI_OPTION_END,
	};
	struct scan_options opts = { .lookups = true };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'L': opts.lookups = false; break;
		case 'P': opts.pretty = true; break;
		case 'c': opts.config_path = optarg; break;
		case 'h': scan_usage(stdout); return 0;
		default: scan_usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		scan_usage(stderr);
		return 2;
	}

	char err[1024];
	struct tm_config *cfg = cli_load_config(opts.config_path, err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "threatmilter scan: %s\n", err);
		return 2;
	}
	struct scan_context ctx = { .cfg = cfg, .opts = &opts };
	if (opts.lookups) {
		struct engine_options eopts = { .ca_file = cfg->ca_cert_file };

		ctx.engine = engine_new(&eopts, err, sizeof(err));
		if (ctx.engine == NULL) {
			fprintf(stderr, "threatmilter scan: %s\n", err);
			config_unref(cfg);
			return 2;
		}
	}

	if (ctx.engine != NULL && cfg->path == NULL) {
		ctx.warning = probe_embedded_default(cfg, ctx.engine);
		if (ctx.warning != NULL)
			fprintf(stderr, "threatmilter scan: warning: %s\n", ctx.warning);
	}
	analyze_init();
	int status = 0;
	for (int i = optind; i < argc; i++)
		if (scan_file(argv[i], &ctx) != 0)
			status = 1;
	fflush(stdout);
	engine_free(ctx.engine);
	g_free(ctx.warning);
	analyze_shutdown();
	config_unref(cfg);
	return status;
}
