/* cli.h: what the daemon and the scan command share on the command line. */
#ifndef TM_CLI_H
#define TM_CLI_H

#include <stddef.h>

struct tm_config;

/* The default configuration file: SYSCONFDIR/threatmilter/threatmilter.conf */
const char *cli_default_config_path(void);

/* path given (-c): load it, errors are fatal. No path: the default file if
 * it exists, else the embedded defaults (Spamhaus ZEN only, in-memory
 * cache), so that a fresh install works before anything is configured. */
struct tm_config *cli_load_config(const char *path, char *err, size_t errlen);

#endif
