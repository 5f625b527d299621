/* main.c: command line of threatmilter.
 *
 *   threatmilter [-c FILE] [-n] [-e KEY] [-V] [-f]
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
#include "config/integrations.h"
#include "cli/scan.h"
#include "cli/testconn.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: threatmilter [-c FILE] [-n] [-e KEY] [-V] [-f]\n"
		"       threatmilter scan [--no-lookups] [--pretty] [-c FILE] FILE.eml... | -\n"
		"       threatmilter test [-c FILE] [NAME...]   (Test Connection)\n"
		"  -c FILE  configuration file (default %s;\n"
		"           without it, the embedded defaults)\n"
		"  -n       check the configuration and exit (0 valid, 1 not)\n"
		"  -e KEY   print the effective value of KEY and exit\n"
		"  -V       print version and features and exit\n"
		"  -f       stay in the foreground\n",
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

static int check_config(const char *path)
{
	char err[1024];
	struct tm_config *cfg = cli_load_config(path, err, sizeof(err));

	if (cfg == NULL) {
		fprintf(stderr, "threatmilter: %s\n", err);
		return 1;
	}
	unsigned active = 0;
	for (guint i = 0; i < cfg->integrations->len; i++) {
		const struct integration *integration = g_ptr_array_index(cfg->integrations, i);

		if (integration->active)
			active++;
	}
	printf("%s: configuration OK, %u integration%s (%u active)\n",
	       cfg->path ? cfg->path : "embedded defaults",
	       cfg->integrations->len, cfg->integrations->len == 1 ? "" : "s", active);
	config_unref(cfg);
	return 0;
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
	const char *config_path = NULL;
	const char *print_key = NULL;
	bool check_only = false;
	bool foreground = false;
	int c;

	if (argc > 1 && strcmp(argv[1], "scan") == 0)
		return scan_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "test") == 0)
		return testconn_main(argc - 1, argv + 1);

	while ((c = getopt(argc, argv, "c:ne:Vfh")) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'n': check_only = true; break;
		case 'e': print_key = optarg; break;
		case 'V': print_version(); return 0;
		case 'f': foreground = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (print_key != NULL)
		return print_value(config_path, print_key);
	if (check_only)
		return check_config(config_path);

	return daemon_run(config_path, foreground);
}
