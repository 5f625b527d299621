/* daemon.h: `threatmilter [-c FILE] [-f]`: the milter daemon. */
#ifndef TM_DAEMON_H
#define TM_DAEMON_H

#include <stdbool.h>

/* Runs until SIGTERM/SIGINT; returns the process exit status. */
int daemon_run(const char *config_path, bool foreground);

#endif
