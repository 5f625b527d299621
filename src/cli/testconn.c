/* testconn.c: Test Connection for the integrations of a configuration.
 *
 * Each provider says which lookup proves its key (provider_ops.test_kind,
 * .test_indicator) and which answers count (.test_ok); the request goes
 * through the engine like any other, so the proxy, TLS verification, the
 * key's header and the provider's own errors are exactly what a message
 * would meet. Inactive integrations are tested too: testing comes before
 * switching one on. Keys never reach the output: details come from the
 * providers, which never quote them. */
#include "cli/testconn.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "cli/cli.h"
#include "config/config.h"
#include "engine/engine.h"
#include "config/integrations.h"
#include "lookup/lookup.h"
#include "providers/provider.h"
#include "providers/registry.h"

static void testconn_usage(FILE *out)
{
	fprintf(out, "usage: threatmilter test [-c FILE] [NAME...]\n"
		"  tests every integration of the configuration, or the NAMEd ones\n");
}

static const struct integration *find_integration(const struct tm_config *cfg, const char *name)
{
	for (guint i = 0; i < cfg->integrations->len; i++) {
		const struct integration *in = g_ptr_array_index(cfg->integrations, i);

		if (strcmp(in->name, name) == 0)
			return in;
	}
	return NULL;
}

/* Prints one line for the integration; true when it works. */
static bool print_outcome(const struct integration *in, const struct lookup *lookup)
{
	const struct provider_ops *ops = in->type->ops;
	const char *details = lookup->result.details ? lookup->result.details : "";

	if (ops->test_ok(lookup)) {
		printf("%s: connection OK (%s %s: %s%s%s, %u ms)\n", in->name,
		       indicator_kind_name(lookup->kind), lookup->indicator,
		       lookup_status_name(lookup->result.status), *details ? ", " : "", details,
		       lookup->result.latency_ms);
		return true;
	}
	printf("%s: connection failed (%s %s: %s%s%s)\n", in->name,
	       indicator_kind_name(lookup->kind), lookup->indicator,
	       lookup_status_name(lookup->result.status), *details ? ", " : "", details);
	return false;
}

int testconn_main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	char err[1024];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'h': testconn_usage(stdout); return 0;
		default: testconn_usage(stderr); return 2;
		}
	}
	struct tm_config *cfg = cli_load_config(config_path, err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "threatmilter test: %s\n", err);
		return 2;
	}

	GPtrArray *chosen = g_ptr_array_new();
	for (int i = optind; i < argc; i++) {
		const struct integration *in = find_integration(cfg, argv[i]);

		if (in == NULL) {
			fprintf(stderr, "threatmilter test: no integration named '%s'\n", argv[i]);
			g_ptr_array_unref(chosen);
			config_unref(cfg);
			return 2;
		}
		g_ptr_array_add(chosen, (gpointer)in);
	}
	if (optind >= argc)
		for (guint i = 0; i < cfg->integrations->len; i++)
			g_ptr_array_add(chosen, g_ptr_array_index(cfg->integrations, i));

	struct engine_options eopts = { .ca_file = cfg->ca_cert_file };
	struct engine *engine = engine_new(&eopts, err, sizeof(err));
	if (engine == NULL) {
		fprintf(stderr, "threatmilter test: %s\n", err);
		g_ptr_array_unref(chosen);
		config_unref(cfg);
		return 2;
	}

	/* every testable integration asked at once, like a message's lookups */
	GPtrArray *lookups = g_ptr_array_new();
	int64_t timeout_ms = 0;
	for (guint i = 0; i < chosen->len; i++) {
		const struct integration *in = g_ptr_array_index(chosen, i);
		const struct provider_ops *ops = in->type->ops;

		if (ops == NULL || ops->test_ok == NULL)
			continue;
		struct lookup *lookup = g_new0(struct lookup, 1);
		lookup->integration = in;
		lookup->kind = ops->test_kind;
		lookup->indicator = g_strdup(ops->test_indicator);
		g_ptr_array_add(lookups, lookup);
		timeout_ms = MAX(timeout_ms, (int64_t)in->timeout_ms);
	}
	/* the integrations' own Timeout decides; one retry may follow */
	engine_run(engine, cfg, (struct lookup *const *)lookups->pdata, lookups->len,
		   engine_now_ms() + 2 * timeout_ms + 1000);

	int status = 0;
	guint next = 0;
	for (guint i = 0; i < chosen->len; i++) {
		const struct integration *in = g_ptr_array_index(chosen, i);

		if (in->type->ops == NULL || in->type->ops->test_ok == NULL) {
			printf("%s: cannot be tested: %s is not implemented yet\n", in->name,
			       in->type->display_name);
			status = 1;
			continue;
		}
		struct lookup *lookup = g_ptr_array_index(lookups, next++);
		if (!print_outcome(in, lookup))
			status = 1;
		g_free(lookup->indicator);
		g_free(lookup->result.details);
		g_free(lookup);
	}
	fflush(stdout);
	g_ptr_array_unref(lookups);
	g_ptr_array_unref(chosen);
	engine_free(engine);
	config_unref(cfg);
	return status;
}
