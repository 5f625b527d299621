/* main.c: command line of threatmilter.
 *
 *   threatmilter [-c FILE] [-n] [-e KEY] [-V] [-f] [-h]   (GNU long forms too)
 *   threatmilter scan [--no-lookups] [-c FILE] FILE.eml... | -
 *   threatmilter test [-c FILE] [NAME...]
 */
#include <autoconfig.h>

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ares.h>
#include <gmime/gmime.h>

#include "cli/cli.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "daemon/preflight.h"
#include "cli/scan.h"
#include "cli/testconn.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: threatmilter [-c FILE] [-n] [-e KEY] [-V] [-f] [-h]\n"
		"       threatmilter scan [--no-lookups] [--pretty] [-c FILE] FILE.eml... | -\n"
		"       threatmilter test [-c FILE] [NAME...]   (Test Connection)\n"
		"  -c, --config=FILE   configuration file (default %s;\n"
		"                      without it, the embedded defaults)\n"
		"  -n, --check         check the configuration and exit (0 valid, 1 not)\n"
		"  -e, --print=KEY     print the effective value of KEY and exit\n"
		"  -f, --foreground    stay in the foreground; errors also go to stderr\n"
		"  -V, --version       print version and features and exit\n"
		"  -h, --help          print this help and exit\n",
		cli_default_config_path());
}

static void print_version(void)
{
	curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);

	printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
	printf("  GMime %u.%u.%u, libcurl %s (%s), c-ares %s, cJSON %s\n",
	       gmime_major_version, gmime_minor_version, gmime_micro_version,
	       curl->version, curl->ssl_version ? curl->ssl_version : "no TLS",
	       ares_version(NULL), cJSON_Version());
	printf("  features: milter scan");
#ifdef __SANITIZE_ADDRESS__
	printf(" asan");
#endif
	printf("\n");
}

static void print_list(const char *what, GPtrArray *list)
{
	for (guint i = 0; i < list->len; i++)
		fprintf(stderr, "threatmilter: %s: %s\n", what,
			(const char *)g_ptr_array_index(list, i));
}

/* -n: the syntax (config_load), then what the daemon checks at start. */
static int check_config(const char *path)
{
	char err[1024];
	struct tm_config *cfg = cli_load_config(path, err, sizeof(err));

	if (cfg == NULL) {
		fprintf(stderr, "threatmilter: %s\n", err);
		return 1;
	}
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	bool ok = preflight_check(cfg, errors, warnings);
	unsigned active;
	char *summary = preflight_integrations_summary(cfg, &active);

	print_list("warning", warnings);
	print_list("error", errors);
	if (ok)
		printf("%s: configuration OK, %u integration%s (%s)\n",
		       cfg->path ? cfg->path : "embedded defaults", cfg->integrations->len,
		       cfg->integrations->len == 1 ? "" : "s", summary);
	g_free(summary);
	g_ptr_array_unref(errors);
	g_ptr_array_unref(warnings);
	config_unref(cfg);
	return ok ? 0 : 1;
}

static int print_value(const char *path, const char *key)
{
	char err[1024];
	struct tm_config *cfg = cli_load_config(path, err, sizeof(err));

	if (cfg == NULL) {
		fprintf(stderr, "threatmilter: %s\n", err);
		return 1;
	}
	bool known = config_print_value(cfg, key, stdout);
	config_unref(cfg);
	if (!known) {
		fprintf(stderr, "threatmilter: unknown key '%s'\n", key);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		CLI_OPTION_CONFIG,
		{ "check", no_argument, NULL, 'n' },
		{ "print", required_argument, NULL, 'e' },
		CLI_OPTION_VERSION,
		{ "foreground", no_argument, NULL, 'f' },
		CLI_OPTION_HELP,
		CLI_OPTION_END,
	};
	const char *config_path = NULL;
	const char *print_key = NULL;
	bool check_only = false;
	bool foreground = false;
	int c;

	if (argc > 1 && strcmp(argv[1], "scan") == 0)
		return scan_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "test") == 0)
		return testconn_main(argc - 1, argv + 1);

	while ((c = getopt_long(argc, argv, "c:ne:Vfh", options, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'n': check_only = true; break;
		case 'e': print_key = optarg; break;
		case 'V': print_version(); return 0;
		case 'f': foreground = true; break;
		case 'h': usage(stdout); return 0;
		default:	/* getopt_long named the option */
			fprintf(stderr, "Try 'threatmilter --help' for more information.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "threatmilter: unexpected argument '%s' (the subcommands are "
			"'scan' and 'test'; options start with '-')\n"
			"Try 'threatmilter --help' for more information.\n", argv[optind]);
		return 2;
	}
	/* The daemon changes directory: a relative -c would make every
	 * reload fail (issue 18, 6). */
	char *absolute = config_path != NULL ? g_canonicalize_filename(config_path, NULL) : NULL;
	int status;

	if (print_key != NULL)
		status = print_value(absolute, print_key);
	else if (check_only)
		status = check_config(absolute);
	else
		status = daemon_run(absolute, foreground);
	g_free(absolute);
	return status;
}
