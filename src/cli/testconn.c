/* testconn.c: Test Connection for the integrations of a configuration.
 *
 * Each provider type's table says which lookup proves its key
 * (provider_type.test: kind, indicator) and which answers count (.ok); the
 * request is the provider's own, sent by the synchronous runner with the
 * integration's proxy, TLS verification and Timeout, so the key's header
 * and the provider's own errors are exactly what a message would meet.
 * The integrations are tested at once, one thread each. Inactive
 * integrations are tested too: testing comes before switching one on.
 * Keys never reach the output: details come from the providers, which
 * never quote them. */
#include "cli/testconn.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "cache/redis_probe.h"
#include "cli/cli.h"
#include "config/config.h"
#include "config/integrations.h"
#include "lookup/lookup.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "providers/sync_runner.h"

struct test_run {
	struct provider_run run;
	struct lookup lookup;
	/* a type without a test lookup (IRONSCALES, VMRay): its own "ping" */
	const struct provider_action *ping;
	struct cJSON *answer;
	char err[512];
	GThread *thread;
};

static gpointer test_thread(gpointer data)
{
	struct test_run *t = data;

	if (t->ping != NULL)
		t->answer = provider_run_action(&t->run, t->ping, NULL, t->err, sizeof(t->err));
	else
		provider_run_lookup(&t->run, &t->lookup);
	return NULL;
}

/* The type's own "ping" action (IRONSCALES: no lookups; FortiSandbox:
 * login and logout, §6 of its document), or NULL for the generic one
 * (the test lookup of the type's table). */
static const struct provider_action *own_ping(const struct integration *in)
{
	const struct provider_action *ping = provider_action_find(in->type, "ping");

	return ping != &provider_action_ping ? ping : NULL;
}

static bool testable(const struct integration *in)
{
	return (provider_asks(in->type) && in->type->test.ok != NULL) || own_ping(in) != NULL;
}

/* The outcome of an own "ping": its first message or its failure. */
static bool print_ping_outcome(const struct integration *in, struct test_run *t)
{
	const char *message = cJSON_GetStringValue(
		cJSON_GetArrayItem(cJSON_GetObjectItem(t->answer, "messages"), 0));

	bool ok = t->answer != NULL;

	if (ok)
		printf("%s: connection OK (%s)\n", in->name, message ? message : "");
	else
		printf("%s: connection failed (%s)\n", in->name, t->err);
	cJSON_Delete(t->answer);
	return ok;
}

/* CacheBackend redis: one line for the server; true when it works. */
static bool test_redis(const struct tm_config *cfg)
{
	struct redis_settings s;
	char where[300], line[512];
	bool ok;

	if (!redis_settings_parse(cfg->redis_server, cfg->redis_timeout_ms, &s, line,
				  sizeof(line))) {
		printf("redis: %s\n", line);
		return false;
	}
	redis_settings_describe(&s, where, sizeof(where));
	ok = redis_probe(&s, line, sizeof(line));
	printf("redis %s: connection %s (%s)\n", where, ok ? "OK" : "failed", line);
	redis_settings_clear(&s);
	return ok;
}

static void testconn_usage(FILE *out)
{
	fprintf(out, "usage: threatmilter test [-c FILE] [NAME...]\n"
		"  tests every integration of the configuration (and the Redis server of\n"
		"  CacheBackend redis), or the NAMEd integrations\n");
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
	const char *details = lookup->result.details ? lookup->result.details : "";

	if (in->type->test.ok(lookup)) {
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
		CLI_OPTION_CONFIG,
		CLI_OPTION_HELP,
		CLI_OPTION_END,
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
	if (chosen->len == 0) {
		/* silence and 0 would read as "every connection OK" */
		fprintf(stderr, "threatmilter test: no integration to test: add one under %s\n",
			cfg->integrations_dir ? cfg->integrations_dir : "integrations.d");
		g_ptr_array_unref(chosen);
		config_unref(cfg);
		return 1;
	}

	if (!provider_runner_init()) {
		fprintf(stderr, "threatmilter test: cannot initialise libcurl or c-ares\n");
		g_ptr_array_unref(chosen);
		config_unref(cfg);
		return 2;
	}
	/* every testable integration asked at once, like a message's lookups */
	GPtrArray *tests = g_ptr_array_new();
	for (guint i = 0; i < chosen->len; i++) {
		const struct integration *in = g_ptr_array_index(chosen, i);

		if (!testable(in))
			continue;
		struct test_run *t = g_new0(struct test_run, 1);
		t->run.in = in;
		t->run.ca_file = cfg->ca_cert_file;
		t->ping = own_ping(in);
		t->lookup.integration = in;
		t->lookup.kind = in->type->test.kind;
		t->lookup.indicator = g_strdup(in->type->test.indicator);
		t->lookup.result.status = LOOKUP_SKIPPED;
		t->thread = g_thread_new("testconn", test_thread, t);
		g_ptr_array_add(tests, t);
	}
	for (guint i = 0; i < tests->len; i++) {
		struct test_run *t = g_ptr_array_index(tests, i);
		g_thread_join(t->thread);
	}

	int status = 0;
	guint next = 0;
	if (optind >= argc && redis_settings_wanted(cfg) && !test_redis(cfg))
		status = 1;
	for (guint i = 0; i < chosen->len; i++) {
		const struct integration *in = g_ptr_array_index(chosen, i);

		if (!testable(in)) {
			printf("%s: cannot be tested: %s is not implemented yet\n", in->name,
			       in->type->display_name);
			status = 1;
			continue;
		}
		struct test_run *t = g_ptr_array_index(tests, next++);
		if (!(t->ping ? print_ping_outcome(in, t) : print_outcome(in, &t->lookup)))
			status = 1;
		g_free(t->lookup.indicator);
		g_free(t->lookup.result.details);
		g_free(t);
	}
	fflush(stdout);
	g_ptr_array_unref(tests);
	g_ptr_array_unref(chosen);
	config_unref(cfg);
	provider_runner_cleanup();
	return status;
}
