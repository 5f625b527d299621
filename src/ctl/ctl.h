/* ctl.h: what the subcommands of threatmilterctl(8) share: the
 * configuration they edit, finding integration files, reading secrets
 * without putting them on the command line, and reloading the daemon.
 *
 * Exit statuses of every subcommand: CTL_OK (0) done, CTL_FAIL (1) the
 * change or the action failed (nothing written when it failed before the
 * write), CTL_USAGE (2) usage error, unknown name or unreadable
 * configuration. */
#ifndef TM_CTL_H
#define TM_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <glib.h>

#define CTL_OK		0
#define CTL_FAIL	1
#define CTL_USAGE	2

/* One setting of threatmilter.conf as written (not interpreted). */
struct ctl_setting {
	char *value;
	unsigned line;
};

struct ctl {
	const char *config_path;	/* -c FILE or the default; never NULL */
	char *conf_dir;			/* its directory: relative paths start here */
	char *integrations_dir;		/* IntegrationsDir, default conf_dir/integrations.d */
	char *pid_file;			/* PidFile; NULL when none */
	GHashTable *settings;		/* lower-case key -> struct ctl_setting * */
	bool no_reload;			/* --no-reload */
};

/* Reads the main configuration file's settings as written (so that a
 * broken integration file does not stop the tool that fixes it). Returns
 * false with "file:line: message" in err; ctl_clear() frees. */
bool ctl_open(struct ctl *ctl, const char *config_path, char *err, size_t errlen);
void ctl_clear(struct ctl *ctl);
/* The setting `key` (case-insensitive) as written, or NULL. */
const struct ctl_setting *ctl_setting(const struct ctl *ctl, const char *key);
/* `value` as a path: relative ones start at the configuration's directory
 * (as the daemon's loader takes them). Newly allocated. */
char *ctl_resolve(const struct ctl *ctl, const char *value);

/* Every *.conf of IntegrationsDir read with the daemon's loader
 * (integration_load_file()), sorted by file name. A file that does not
 * load is reported on stderr ("file:line: message") and counted in
 * *broken (may be NULL). Never NULL; an absent directory is empty. */
GPtrArray *ctl_load_integrations(const struct ctl *ctl, unsigned *broken);
/* The integration named `name` in `list`, or NULL. */
struct integration *ctl_find(GPtrArray *list, const char *name);
/* ctl_load_integrations() then ctl_find(): the integration named `name`,
 * pointing into *list, which the caller unrefs. NULL, with "no
 * integration named ..." printed and *list set to NULL (freed), when
 * IntegrationsDir has none of that name. */
struct integration *ctl_load_named(const struct ctl *ctl, const char *name, GPtrArray **list);

/* A secret given as `arg`: "-" reads one line from standard input
 * (without its newline), anything else is the secret itself (a warning
 * says that the command line is visible in ps). With from_file, `arg` is
 * a file whose first line is the secret. Returns a new string, or NULL
 * with the reason in err (never the secret). */
char *ctl_read_secret(const char *arg, bool from_file, const char *what,
		      char *err, size_t errlen);

/* After a change: validates the whole configuration with the daemon's
 * loader (config_load()), sends SIGHUP to the process of PidFile and
 * waits until it has reread the configuration (threatmilterctl(8),
 * "RELOAD"). Prints what happened. Returns CTL_OK when reloaded, or when
 * nothing had to be (--no-reload, no PidFile, daemon not running),
 * CTL_FAIL otherwise. */
int ctl_reload(const struct ctl *ctl);
/* `threatmilterctl reload` */
int ctl_reload_main(struct ctl *ctl, int argc, char **argv);

/* `threatmilterctl integration ...` (ctl_integration.c) */
int ctl_integration_main(struct ctl *ctl, int argc, char **argv);
/* `integration add|edit|enable|disable` (ctl_integration_edit.c); argv[0]
 * is the verb. */
int ctl_integration_change(struct ctl *ctl, int argc, char **argv);
/* `threatmilterctl exclude ...` (ctl_exclude.c) */
int ctl_exclude_main(struct ctl *ctl, int argc, char **argv);

/* "threatmilterctl: " + message on stderr. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
