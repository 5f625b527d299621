/* threatmilterctl.c: the administrator's tool (the rspamadm / opendkim-*
 * shape: one program, subcommands; threatmilterctl(8)). This file is the
 * shell: global options, --help, --version, and the dispatch to one file
 * per subcommand (ctl_integration*.c, ctl_exclude.c, ctl_reload.c). */
#include <autoconfig.h>

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ctl/ctl.h"
#include "ctl/ctl_ironscales.h"
#include "ctl/ctl_apivoid.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: threatmilterctl [-c FILE] [--no-reload] COMMAND [ARGS...]\n"
		"       threatmilterctl --help | --version\n"
		"commands:\n"
		"  integration list|show|add|edit|enable|disable|delete|test ...\n"
		"  exclude list|add|remove urls|ips|extensions VALUE...\n"
		"  reload\n"
		"  apivoid domain|ip|url|email|screenshot|ping ENTITY...\n"
		"  ironscales ping|classify|incident|impersonation|mitigations|mailbox-mitigations ...\n"
		"  COMMAND --help tells more; threatmilterctl(8) tells all.\n"
		"options:\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"      --no-reload    change the files but do not signal the daemon\n"
		"  -h, --help         print this help and exit\n"
		"  -V, --version      print the version and exit\n"
		"exit status: 0 done, 1 failed, 2 usage or configuration error\n",
		cli_default_config_path());
}

/* `COMMAND --help` or `COMMAND VERB --help`: what the subcommands answer
 * before they read the configuration. */
static bool asks_help(int argc, char **argv)
{
	for (int i = 1; i < argc && i <= 2; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* --no-reload is taken anywhere on the line; the rest stays in order. */
static int take_no_reload(int argc, char **argv, bool *no_reload)
{
	int out = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--no-reload") == 0)
			*no_reload = true;
		else
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_OPTION_CONFIG,
		{ "no-reload", no_argument, NULL, 'n' },
		CLI_OPTION_HELP,
		CLI_OPTION_VERSION,
		CLI_OPTION_END,
	};
	const char *config_path = cli_default_config_path();
	struct ctl ctl = { 0 };
	bool no_reload = false;
	char err[1024];
	int c, rc;

	while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			no_reload = true;
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		case 'V':
			printf("threatmilterctl %s\n", PACKAGE_VERSION);
			return CTL_OK;
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_USAGE;
	}
	const char *command = argv[optind];
	int sub_argc = take_no_reload(argc - optind, argv + optind, &no_reload);
	char **sub_argv = argv + optind;
	int (*run)(struct ctl *, int, char **) =
		strcmp(command, "integration") == 0 ? ctl_integration_main :
		strcmp(command, "exclude") == 0 ? ctl_exclude_main :
		strcmp(command, "reload") == 0 ? ctl_reload_main : NULL;

	/* the provider actions open the configuration themselves */
	if (strcmp(command, "ironscales") == 0)
		return ctl_ironscales_main(argc - optind, argv + optind, config_path);
	if (strcmp(command, "apivoid") == 0)
		return ctl_apivoid_main(argc - optind, argv + optind, config_path);
	if (run == NULL) {
		ctl_error("unknown command '%s' (see --help)", command);
		return CTL_USAGE;
	}
	if (!ctl_open(&ctl, config_path, err, sizeof(err))) {
		if (asks_help(sub_argc, sub_argv)) {
			/* the help needs no configuration: the subcommands
			 * print it before they read anything */
			if (ctl.integrations_dir == NULL)
				ctl.integrations_dir = g_build_filename(ctl.conf_dir,
									"integrations.d", NULL);
		} else {
			ctl_error("%s%s", err, access(config_path, F_OK) != 0
				  ? " (name the configuration with -c FILE)" : "");
			ctl_clear(&ctl);
			return CTL_USAGE;
		}
	}
	ctl.no_reload = no_reload;
	rc = run(&ctl, sub_argc, sub_argv);
	fflush(stdout);
	ctl_clear(&ctl);
	return rc;
}
