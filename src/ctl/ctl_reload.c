/* ctl_reload.c: telling the running daemon to reread its configuration
 * and finding out whether it did (threatmilterctl(8), "RELOAD").
 *
 * The daemon has no control channel: SIGHUP makes it run config_load()
 * again, and a failed reload only leaves a log line. So the tool
 *   1. loads the whole configuration with the same loader first: what the
 *      daemon will read is known to load (a failure here stops us before
 *      signalling, with the loader's file:line message);
 *   2. checks that PidFile names a live process called threatmilter;
 *   3. watches (inotify) the files the loader reads last, sends SIGHUP and
 *      waits until the daemon has read them (the last integration file by
 *      name, else IntegrationsDir, else threatmilter.conf), at most
 *      RELOAD_WAIT_MS;
 *   4. checks the process is still alive.
 * A daemon that cannot read a file (permissions) never closes it: that is
 * reported as a reload that did not happen. */
#include "ctl/ctl.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "ctl/ctl_options.h"
#include "util/fileio.h"

#define RELOAD_WAIT_MS 5000

/* The pid in `path`, 0 when there is none (no file, not a number). */
static long read_pid(const char *path)
{
	gchar *text = NULL;
	long pid = 0;
	char *end;

	char err[512];

	if ((text = fileio_read_all(path, NULL, NULL, err, sizeof(err))) == NULL)
		return 0;
	pid = strtol(text, &end, 10);
	if (end == text || pid <= 1)
		pid = 0;
	g_free(text);
	return pid;
}

/* Whether pid is a threatmilter process (not a pid reused by another). */
static bool is_threatmilter(long pid)
{
	char *path = g_strdup_printf("/proc/%ld/comm", pid);
	gchar *comm = NULL;
	bool yes = true;	/* without /proc, trust the PidFile */

	if (g_file_get_contents(path, &comm, NULL, NULL))
		yes = strcmp(g_strstrip(comm), "threatmilter") == 0;
	g_free(comm);
	g_free(path);
	return yes;
}

/* The last *.conf name the loader reads in `dir`, or NULL. */
static char *last_integration_file(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *entry;
	char *last = NULL;

	while (d != NULL && (entry = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_suffix(entry, ".conf") || entry[0] == '.')
			continue;
		if (last == NULL || strcmp(entry, last) > 0) {
			g_free(last);
			last = g_strdup(entry);
		}
	}
	if (d != NULL)
		g_dir_close(d);
	return last;
}

/* A watch for the end of the daemon's read; -1 when inotify is not
 * available. *name: the file in the watched directory ("" = the
 * directory itself). */
static int watch_last_read(const struct ctl *ctl, char **name)
{
	struct stat st;
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	const char *target = ctl->integrations_dir;

	if (fd < 0)
		return -1;
	if (stat(ctl->integrations_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		*name = last_integration_file(ctl->integrations_dir);
		if (*name == NULL)
			*name = g_strdup("");
	} else {
		target = ctl->config_path;
		*name = g_strdup("");
	}
	if (inotify_add_watch(fd, target, IN_CLOSE_NOWRITE) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits for `name` to be closed after reading; false on timeout. */
static bool wait_for_read(int fd, const char *name)
{
	gint64 give_up = g_get_monotonic_time() + RELOAD_WAIT_MS * 1000LL;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		gint64 left = (give_up - g_get_monotonic_time()) / 1000;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		ssize_t n = read(fd, buf, sizeof(buf));
		for (char *q = buf; n > 0 && q < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)q;
			const char *ev_name = ev->len > 0 ? ev->name : "";

			if (strcmp(ev_name, name) == 0)
				return true;
			q += sizeof(*ev) + ev->len;
		}
	}
}

/* Steps 3 and 4 for a live daemon. */
static int signal_and_wait(const struct ctl *ctl, long pid)
{
	char *name = NULL;
	int fd = watch_last_read(ctl, &name);
	bool seen;

	if (kill((pid_t)pid, SIGHUP) != 0) {
		ctl_error("cannot signal threatmilter (pid %ld): %s", pid, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		g_free(name);
		return CTL_FAIL;
	}
	if (fd >= 0) {
		seen = wait_for_read(fd, name);
		close(fd);
	} else {
		g_usleep(1000 * 1000);	/* no inotify: give it a second */
		seen = true;
	}
	g_free(name);
	if (kill((pid_t)pid, 0) != 0) {
		ctl_error("threatmilter (pid %ld) is gone after SIGHUP; see its log", pid);
		return CTL_FAIL;
	}
	if (!seen) {
		ctl_error("threatmilter (pid %ld) did not reread the configuration within %d s "
			  "(can its user read every file?); see its log", pid,
			  RELOAD_WAIT_MS / 1000);
		return CTL_FAIL;
	}
	printf("threatmilter (pid %ld) reloaded %s\n", pid, ctl->config_path);
	return CTL_OK;
}

int ctl_reload(const struct ctl *ctl)
{
	char err[1024];
	struct tm_config *cfg;
	long pid;

	if (ctl->no_reload) {
		printf("not reloaded (--no-reload): run 'threatmilterctl reload' to apply\n");
		return CTL_OK;
	}
	cfg = config_load(ctl->config_path, err, sizeof(err));
	if (cfg == NULL) {
		ctl_error("the daemon was not reloaded, the configuration does not load: %s", err);
		return CTL_FAIL;
	}
	config_unref(cfg);
	if (ctl->pid_file == NULL) {
		printf("no PidFile in %s: reload the daemon yourself (systemctl reload "
		       "threatmilter)\n", ctl->config_path);
		return CTL_OK;
	}
	pid = read_pid(ctl->pid_file);
	if (pid == 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
		printf("threatmilter is not running (PidFile %s): the change applies when it "
		       "starts\n", ctl->pid_file);
		return CTL_OK;
	}
	if (!is_threatmilter(pid)) {
		ctl_error("PidFile %s names pid %ld, which is not threatmilter: not signalled",
			  ctl->pid_file, pid);
		return CTL_FAIL;
	}
	return signal_and_wait(ctl, pid);
}

static void reload_usage(FILE *out)
{
	fprintf(out, "usage: threatmilterctl [-c FILE] reload\n"
		"  checks the configuration and makes the running daemon reread it\n");
}

int ctl_reload_main(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_syntax syntax = {
		.order = CTL_ORDER_FIRST, .usage = reload_usage,
	};
	static const struct ctl_option none[] = { { NULL, 0, NULL, NULL } };
	int next, rc = ctl_parse_options(argc, argv, none, &syntax, &next);

	if (rc != CTL_CONTINUE)
		return rc;
	if (next < argc) {
		ctl_error("reload takes no arguments");
		return CTL_USAGE;
	}
	ctl->no_reload = false;
	return ctl_reload(ctl);
}
