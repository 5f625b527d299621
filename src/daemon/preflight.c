/* preflight.c: checks shared by `-n` and the daemon's start (preflight.h). */
#include "daemon/preflight.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/integrations.h"
#include "util/sockspec.h"

bool preflight_lookup_user(const char *spec, uid_t *uid, gid_t *gid, char **name,
			   char *err, size_t errlen)
{
	char *user = g_strdup(spec);
	char *group = strchr(user, ':');
	struct passwd *pw;

	if (group != NULL)
		*group++ = '\0';
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "UserID: no such user '%s'", user);
		g_free(user);
		return false;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group != NULL) {
		struct group *gr = getgrnam(group);

		if (gr == NULL) {
			snprintf(err, errlen, "UserID: no such group '%s'", group);
			g_free(user);
			return false;
		}
		*gid = gr->gr_gid;
	}
	*name = g_strdup(user);
	g_free(user);
	return true;
}

/* Can `uid` (primary group `gid`, user `name`) create files in `dir`?
 * From the mode bits and the user's groups; ACLs are not read. */
static bool writable_by(const struct stat *st, uid_t uid, gid_t gid, const char *name)
{
	if (uid == 0)
		return true;
	if (st->st_uid == uid)
		return (st->st_mode & 0300) == 0300;
	bool member = st->st_gid == gid;
	if (!member && name != NULL) {
		int n = 64;
		gid_t groups[64];

		if (getgrouplist(name, gid, groups, &n) >= 0)
			for (int i = 0; i < n && !member; i++)
				member = groups[i] == st->st_gid;
	}
	if (member)
		return (st->st_mode & 0030) == 0030;
	return (st->st_mode & 0003) == 0003;
}

static void add(GPtrArray *list, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void add(GPtrArray *list, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(list, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* A message about the value of `key`, after the "file:line: " where the
 * configuration set it (none for a default), as the loader's errors. */
static void add_at(GPtrArray *list, const struct tm_config *cfg, const char *key,
		   const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void add_at(GPtrArray *list, const struct tm_config *cfg, const char *key,
		   const char *fmt, ...)
{
	const char *origin = config_key_origin(cfg, key);
	va_list ap;

	va_start(ap, fmt);
	char *text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (origin != NULL)
		add(list, "%s: %s", origin, text);
	else
		add(list, "%s", text);
	g_free(text);
}

/* A directory the daemon writes into, as the user it runs as. */
static void check_dir(const struct tm_config *cfg, const char *key, const char *dir,
		      bool need_write, uid_t uid, gid_t gid, const char *user, GPtrArray *errors)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		add_at(errors, cfg, key, "%s: directory %s: %s", key, dir, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_at(errors, cfg, key, "%s: %s is not a directory", key, dir);
		return;
	}
	if (!need_write)
		return;
	bool ok = user == NULL && uid == geteuid() ? access(dir, W_OK | X_OK) == 0
						     : writable_by(&st, uid, gid, user);
	if (!ok)
		add_at(errors, cfg, key, "%s: directory %s is not writable by %s", key, dir,
		       user ? user : "the daemon's user");
}

static void check_socket(const struct tm_config *cfg, GPtrArray *errors, GPtrArray *warnings)
{
	struct sock_spec spec;
	char err[512];

	if (!sock_spec_parse(cfg->socket, &spec, err, sizeof(err))) {
		add_at(errors, cfg, "Socket", "%s", err);
		return;
	}
	if (spec.family != SOCK_SPEC_UNIX)
		return;
	char *dir = g_path_get_dirname(spec.path);
	struct stat st;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		add_at(errors, cfg, "Socket", "Socket: directory %s does not exist", dir);
	g_free(dir);
	/* only a stale socket is removed at start; anything else stays */
	if (lstat(spec.path, &st) == 0 && !S_ISSOCK(st.st_mode))
		add_at(errors, cfg, "Socket", "Socket %s exists and is not a socket (%s): remove "
		       "it or choose another path", spec.path, S_ISLNK(st.st_mode) ? "a symbolic link"
		    : S_ISDIR(st.st_mode) ? "a directory" : "a file");
	bool group_ok = cfg->socket_group != NULL && *cfg->socket_group != '\0' &&
			(cfg->socket_mode & 0020) != 0;
	if ((cfg->socket_mode & 0002) == 0 && !group_ok)
		add(warnings, "Socket %s: only the daemon's user can connect (SocketMode %04o, "
		    "%s); the MTA gets 451 for every mail unless it runs as that user: set "
		    "SocketGroup postfix (with SocketMode 0660)", spec.path, cfg->socket_mode,
		    cfg->socket_group ? "SocketGroup without group write" : "no SocketGroup");
}

static void check_pid_file(const struct tm_config *cfg, const char *path, GPtrArray *errors)
{
	struct stat st;
	char *dir = g_path_get_dirname(path);

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		add_at(errors, cfg, "PidFile", "PidFile: directory %s does not exist", dir);
	g_free(dir);
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		add_at(errors, cfg, "PidFile", "PidFile %s exists and is not a regular file (%s)",
		       path, S_ISLNK(st.st_mode) ? "a symbolic link" : "a special file");
}

bool preflight_check(const struct tm_config *cfg, GPtrArray *errors, GPtrArray *warnings)
{
	char err[512];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char *user = NULL;
	guint before = errors->len;

	if (cfg->user_id != NULL && *cfg->user_id != '\0') {
		if (!preflight_lookup_user(cfg->user_id, &uid, &gid, &user, err, sizeof(err)))
			add_at(errors, cfg, "UserID", "%s", err);
	} else if (geteuid() == 0) {
		add(warnings, "running as root without UserID: set UserID to an unprivileged "
		    "user (e.g. UserID threatmilter)");
	}
	if (cfg->socket_group != NULL && *cfg->socket_group != '\0' &&
	    getgrnam(cfg->socket_group) == NULL)
		add_at(errors, cfg, "SocketGroup", "SocketGroup: no such group '%s'",
		       cfg->socket_group);
	check_socket(cfg, errors, warnings);
	if (cfg->pid_file != NULL)
		check_pid_file(cfg, cfg->pid_file, errors);
	if (cfg->tmp_dir != NULL)
		check_dir(cfg, "TmpDir", cfg->tmp_dir, true, uid, gid, user, errors);
	/* a reported message may wait this long at end of message: the MTA
	 * must wait longer (Postfix milter_content_timeout, default 300s) */
	if (cfg->report_sandbox_wait_s > 0 && cfg->report_sandbox_wait_s + 10 > cfg->milter_timeout_s)
		add(warnings, "ReportSandboxWait %us is not well under MilterTimeout %us: keep it "
		    "under Postfix's milter_content_timeout too", cfg->report_sandbox_wait_s,
		    cfg->milter_timeout_s);
	unsigned active;
	g_free(preflight_integrations_summary(cfg, &active));
	if (active == 0)
		add(warnings, "no active integration: every message will be 'unknown' "
		    "(add one under %s)", cfg->integrations_dir ? cfg->integrations_dir
		    : "the integrations directory");
	g_free(user);
	return errors->len == before;
}

char *preflight_integrations_summary(const struct tm_config *cfg, unsigned *active)
{
	GString *names = g_string_new(NULL);
	unsigned n = 0;

	for (guint i = 0; cfg->integrations != NULL && i < cfg->integrations->len; i++) {
		const struct integration *integration = g_ptr_array_index(cfg->integrations, i);

		if (!integration->active)
			continue;
		g_string_append_printf(names, "%s%s", n ? ", " : "", integration->name);
		n++;
	}
	*active = n;
	char *line = n == 0 ? g_strdup("no active integration")
		     : g_strdup_printf("%u active integration%s: %s", n, n == 1 ? "" : "s",
				       names->str);
	g_string_free(names, TRUE);
	return line;
}
