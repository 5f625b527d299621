/* cli.h: what the daemon, its subcommands and threatmilterctl share on
 * the command line. */
#ifndef TM_CLI_H
#define TM_CLI_H

#include <getopt.h>
#include <stddef.h>

struct tm_config;

/* The default configuration file: SYSCONFDIR/threatmilter/threatmilter.conf */
const char *cli_default_config_path(void);

/* path given (-c): load it, errors are fatal. No path: the default file if
 * it exists, else the embedded defaults (Spamhaus ZEN only, in-memory
 * cache), so that a fresh install works before anything is configured. */
struct tm_config *cli_load_config(const char *path, char *err, size_t errlen);

/* The options every program and subcommand that has them spells the same
 * way: getopt_long entries, the long name with its short letter (the
 * short-option string names the same letters). threatmilterctl's
 * subcommands state theirs as tables (ctl/ctl_options.h). */
#define CLI_OPTION_CONFIG	{ "config", required_argument, NULL, 'c' }
#define CLI_OPTION_HELP		{ "help", no_argument, NULL, 'h' }
#define CLI_OPTION_VERSION	{ "version", no_argument, NULL, 'V' }
#define CLI_OPTION_END		{ NULL, 0, NULL, 0 }

#endif
