/* preflight.h: what `-n` and the start check beyond the syntax of the
 * configuration: users and groups, directories, socket permissions
 * (issue 18, 2 and 7; issue 17, 7 and 8). The same code runs for both,
 * so `-n` passing means the daemon starts (as far as files can tell).
 *
 * Errors: UserID or SocketGroup naming no user/group, a missing socket
 * or PidFile directory, a PidFile that is a link or not a regular file,
 * a TmpDir that is missing, not a directory or not writable by the user
 * the daemon runs as. Warnings: a unix socket nobody but the daemon's
 * user can connect to (neither SocketGroup nor SocketMode lets another
 * user in: Postfix gets 451 for every mail), running as root without
 * UserID, no active integration. */
#ifndef TM_PREFLIGHT_H
#define TM_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <glib.h>

struct tm_config;

/* The user (and group) of a UserID value "user[:group]". Returns false
 * with err set when either does not exist. *name: new string (g_free). */
bool preflight_lookup_user(const char *spec, uid_t *uid, gid_t *gid, char **name,
			   char *err, size_t errlen);

/* Runs every check; appends messages (new strings) to errors and
 * warnings. Returns true when there is no error. */
bool preflight_check(const struct tm_config *cfg, GPtrArray *errors, GPtrArray *warnings);

/* "2 active integrations: spamhaus, virustotal" / "1 active
 * integration: spamhaus" / "no active integration". New string; *active
 * gets the count. */
char *preflight_integrations_summary(const struct tm_config *cfg, unsigned *active);

#endif
