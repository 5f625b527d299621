/* threatmilterctl.c: the administrator's tool (the rspamadm / opendkim-*
 * shape: one program, subcommands). This is its shell: option parsing,
 * --help and --version. The subcommands (integration, exclude, apivoid,
 * ironscales) are added one file each under src/ctl/. */
#include <autoconfig.h>

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ctl/ctl_apivoid.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: threatmilterctl [-c FILE] COMMAND [ARGS...]\n"
		"       threatmilterctl --help | --version\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -h, --help         print this help and exit\n"
		"  -V, --version      print the version and exit\n",
		cli_default_config_path());
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("threatmilterctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "apivoid") == 0)
		return ctl_apivoid_main(argc - optind, argv + optind, config_path);
	fprintf(stderr, "threatmilterctl: unknown command '%s' (see --help)\n", argv[optind]);
	return 2;
}
