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
#include "lookup/judge.h"
#include "lookup/plan.h"
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
};

static void scan_usage(FILE *out)
{
	fputs("usage: threatmilter scan [--no-lookups] [--pretty] [-c FILE] FILE.eml... | -\n"
	      "  Prints the facts of each message (URLs, sender IP, attachments,\n"
	      "  reported messages) as one JSON object per line. '-' reads standard input.\n"
	      "  Exit status: 0 all scanned, 1 a file could not be read, 2 usage or\n"
	      "  configuration error.\n", out);
}

static GMimeStream *open_message(const char *path, char *err, size_t errlen)
{
	if (strcmp(path, "-") == 0) {
		/* stdin may be a pipe: GMime needs a seekable stream, so read it. */
		GByteArray *bytes = g_byte_array_new();
		char buf[65536];
		ssize_t n;

		while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
			g_byte_array_append(bytes, (const guint8 *)buf, (guint)n);
		if (n < 0) {
			snprintf(err, errlen, "standard input: %s", strerror(errno));
			g_byte_array_unref(bytes);
			return NULL;
		}
		return g_mime_stream_mem_new_with_byte_array(bytes);
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	return g_mime_stream_fs_new(fd);
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

/* Every lookup the message needs, all at once, then the verdict and what
 * the milter would do (judge.c and decide.c, the daemon's own code). */
static void add_lookups(cJSON *json, const struct facts *facts, const struct scan_context *ctx)
{
	struct judgement judgement;
	const struct verdict_summary *summary = &judgement.summary;

	judge_message(ctx->engine, ctx->cfg, facts, ctx->cfg->mode == MODE_REPORT, &judgement);

	cJSON *list = cJSON_AddArrayToObject(json, "lookups");
	for (guint i = 0; i < judgement.lookups->len; i++)
		cJSON_AddItemToArray(list, lookup_to_json(g_ptr_array_index(judgement.lookups, i)));
	cJSON_AddStringToObject(json, "verdict", verdict_name(summary->verdict));
	enum tm_event event = decide_event(&judgement);
	cJSON_AddStringToObject(json, "event", event_key(event));
	cJSON_AddStringToObject(json, "action", action_name(ctx->cfg->on[event]));
	cJSON *sum = cJSON_AddObjectToObject(json, "summary");
	cJSON_AddNumberToObject(sum, "lookups", summary->lookups);
	cJSON_AddNumberToObject(sum, "cached", summary->cached);
	cJSON_AddNumberToObject(sum, "errors", summary->errors);
	cJSON_AddNumberToObject(sum, "timeouts", summary->timeouts);
	cJSON_AddNumberToObject(sum, "rate_limited", summary->rate_limited);
	cJSON_AddBoolToObject(sum, "reported", judgement.reported);
	cJSON_AddNumberToObject(sum, "elapsed_ms", (double)judgement.elapsed_ms);
	judgement_clear(&judgement);
}

static int scan_file(const char *path, const struct scan_context *ctx)
{
	char err[512];
	GMimeStream *stream = open_message(path, err, sizeof(err));

	if (stream == NULL) {
		fprintf(stderr, "threatmilter scan: %s\n", err);
		return 1;
	}
	struct facts *facts = analyze_stream(stream, ctx->cfg);
	g_object_unref(stream);

	cJSON *json = cJSON_CreateObject();
	cJSON_AddStringToObject(json, "file", path);
	cJSON_AddItemToObject(json, "facts", facts_to_json(facts));
	if (ctx->engine != NULL)
		add_lookups(json, facts, ctx);
	print_json(json, ctx->opts->pretty);
	cJSON_Delete(json);
	facts_free(facts);
	return 0;
}

int scan_main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "no-lookups", no_argument, NULL, 'L' },
		{ "pretty", no_argument, NULL, 'P' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
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

	analyze_init();
	int status = 0;
	for (int i = optind; i < argc; i++)
		if (scan_file(argv[i], &ctx) != 0)
			status = 1;
	fflush(stdout);
	engine_free(ctx.engine);
	analyze_shutdown();
	config_unref(cfg);
	return status;
}
