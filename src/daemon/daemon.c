/* daemon.c: running as a milter daemon.
 *
 * Start-up order matters: the socket is opened (and a stale unix socket
 * removed) while we may still be root, then privileges are dropped, then
 * we fork into the background, and only then threads are started (the
 * engine, libmilter), because fork() keeps only the calling thread.
 *
 * Signals. libmilter's own signal thread treats SIGHUP as "stop", which
 * made OpenDKIM/OpenDMARC users lose their filter on log rotation. We run
 * smfi_main() in a second thread, so libmilter blocks SIGHUP only there
 * and in its signal thread; the main thread keeps SIGHUP, SIGUSR1,
 * SIGTERM and SIGINT unblocked with handlers, and Linux offers a
 * process-directed signal to the main thread first when it does not
 * block it. The handlers only write to a pipe; the main thread reloads
 * or stops from there. */
#include <autoconfig.h>
#include "daemon/daemon.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libmilter/mfapi.h>

#include "analysis/analyze.h"
#include "cli/cli.h"
#include "config/config.h"
#include "engine/engine.h"
#include "util/log.h"
#include "daemon/milter.h"
#include "util/nodelay.h"

/* Written by the signal handlers, read by the main loop. */
static int signal_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char byte = (unsigned char)sig;

	if (write(signal_pipe[1], &byte, 1) < 0) {
		/* nothing to do in a handler: the pipe is full, a wake-up is pending */
	}
	errno = saved;
}

static bool install_signal_handlers(char *err, size_t errlen)
{
	struct sigaction sa;
	const int signals[] = { SIGHUP, SIGUSR1, SIGTERM, SIGINT };

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return false;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return true;
}

/* Threads we start must leave these signals to the main thread. */
static void block_daemon_signals(sigset_t *saved)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, saved);
}

static const char *unix_socket_path(const char *spec)
{
	if (g_str_has_prefix(spec, "local:"))
		return spec + 6;
	if (g_str_has_prefix(spec, "unix:"))
		return spec + 5;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

static bool lookup_user(const char *spec, uid_t *uid, gid_t *gid, char **name,
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

static bool fix_socket_permissions(const struct tm_config *cfg, const char *user_spec,
				   char *err, size_t errlen)
{
	const char *path = unix_socket_path(cfg->socket);

	if (path == NULL)
		return true;
	if (chmod(path, cfg->socket_mode) != 0) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		return false;
	}
	gid_t gid = (gid_t)-1;
	uid_t uid = (uid_t)-1;
	if (cfg->socket_group != NULL && *cfg->socket_group != '\0') {
		struct group *gr = getgrnam(cfg->socket_group);

		if (gr == NULL) {
			snprintf(err, errlen, "SocketGroup: no such group '%s'", cfg->socket_group);
			return false;
		}
		gid = gr->gr_gid;
	}
	if (user_spec != NULL && geteuid() == 0) {
		char *name = NULL;
		gid_t user_gid;

		if (!lookup_user(user_spec, &uid, &user_gid, &name, err, errlen))
			return false;
		g_free(name);
		if (gid == (gid_t)-1)
			gid = user_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) != 0) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

static bool drop_privileges(const char *spec, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;
	char *name = NULL;

	if (spec == NULL || *spec == '\0')
		return true;
	if (!lookup_user(spec, &uid, &gid, &name, err, errlen))
		return false;
	if (getuid() == uid && geteuid() == uid) {
		g_free(name);
		return true;
	}
	if (initgroups(name, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		snprintf(err, errlen, "cannot become %s: %s", spec, strerror(errno));
		g_free(name);
		return false;
	}
	g_free(name);
	if (setuid(0) == 0) {
		snprintf(err, errlen, "privileges could not be dropped");
		return false;
	}
	return true;
}

static bool write_pid_file(const char *path, char *err, size_t errlen)
{
	FILE *f;

	if (path == NULL || *path == '\0')
		return true;
	f = fopen(path, "we");
	if (f == NULL) {
		snprintf(err, errlen, "PidFile %s: %s", path, strerror(errno));
		return false;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
	return true;
}

static void *milter_thread(void *arg)
{
	int *status = arg;
	unsigned char byte = 'X';

	*status = smfi_main();
	if (write(signal_pipe[1], &byte, 1) < 0) {
		/* the main loop also polls with a timeout */
	}
	return NULL;
}

static void reload(const char *path)
{
	char err[1024];
	struct tm_config *cfg = cli_load_config(path, err, sizeof(err));

	if (cfg == NULL) {
		log_msg(LOG_ERR, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	milter_set_config(cfg);
	log_msg(LOG_NOTICE, "configuration reloaded from %s (%u integration%s)",
		cfg->path ? cfg->path : "embedded defaults", cfg->integrations->len,
		cfg->integrations->len == 1 ? "" : "s");
}

/* Waits for messages in progress, at most the configured deadline plus
 * a margin: they either finish or the MTA applies its default action. */
static void drain(unsigned deadline_ms)
{
	int64_t give_up = engine_now_ms() + deadline_ms + 5000;

	while (milter_active_messages() > 0 && engine_now_ms() < give_up)
		g_usleep(50 * 1000);
	if (milter_active_messages() > 0)
		log_msg(LOG_WARNING, "stopping with %d messages in progress (the MTA tempfails them)",
			milter_active_messages());
}

int daemon_run(const char *config_path, bool foreground)
{
	char err[1024];
	struct tm_config *cfg = cli_load_config(config_path, err, sizeof(err));
	struct engine *engine;
	pthread_t thread;
	int milter_status = 0;
	sigset_t saved;

	if (cfg == NULL) {
		fprintf(stderr, "threatmilter: %s\n", err);
		return 1;
	}
	bool background = cfg->background && !foreground;
	if (cfg->syslog)
		log_open_syslog("threatmilter", cfg->syslog_facility);

	umask((mode_t)cfg->umask);
	if (smfi_setconn(cfg->socket) != MI_SUCCESS ||
	    smfi_settimeout((int)cfg->milter_timeout_s) != MI_SUCCESS) {
		fprintf(stderr, "threatmilter: bad Socket '%s'\n", cfg->socket);
		config_unref(cfg);
		return 1;
	}
	if (milter_register() != 0) {
		fprintf(stderr, "threatmilter: smfi_register failed\n");
		config_unref(cfg);
		return 1;
	}
	/* true: remove a stale unix socket left by a crash */
	if (smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "threatmilter: cannot open socket %s: %s\n", cfg->socket,
			strerror(errno));
		config_unref(cfg);
		return 1;
	}
	if (!fix_socket_permissions(cfg, cfg->user_id, err, sizeof(err)) ||
	    !drop_privileges(cfg->user_id, err, sizeof(err))) {
		fprintf(stderr, "threatmilter: %s\n", err);
		config_unref(cfg);
		return 1;
	}
	int nodelay = nodelay_listening_sockets();

	if (background && daemon(0, 0) != 0) {
		fprintf(stderr, "threatmilter: cannot go to the background: %s\n", strerror(errno));
		config_unref(cfg);
		return 1;
	}
	if (!write_pid_file(cfg->pid_file, err, sizeof(err)) ||
	    !install_signal_handlers(err, sizeof(err))) {
		log_msg(LOG_ERR, "%s", err);
		config_unref(cfg);
		return 1;
	}

	analyze_init();
	block_daemon_signals(&saved);	/* inherited by the threads below */
	struct engine_options eopts = { .ca_file = cfg->ca_cert_file };
	engine = engine_new(&eopts, err, sizeof(err));
	if (engine == NULL) {
		log_msg(LOG_ERR, "cannot start the lookup engine: %s", err);
		config_unref(cfg);
		return 1;
	}
	milter_set_engine(engine);
	unsigned deadline_ms = cfg->scan_deadline_ms;
	/* cfg may be replaced by a reload: keep what shutdown needs */
	char *socket_path = g_strdup(unix_socket_path(cfg->socket));
	char *pid_file = cfg->pid_file && *cfg->pid_file ? g_strdup(cfg->pid_file) : NULL;
	milter_set_config(cfg);
	if (pthread_create(&thread, NULL, milter_thread, &milter_status) != 0) {
		log_msg(LOG_ERR, "cannot start the milter thread");
		engine_free(engine);
		return 1;
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	log_msg(LOG_NOTICE, "%s %s started on %s%s", PACKAGE_NAME, PACKAGE_VERSION, cfg->socket,
		nodelay > 0 ? " (TCP_NODELAY)" : "");
	/* Debian's shared libmilter has the worker pool (README, "Busy
	 * sites"); say which one this is, so a slow connection has a name. */
	log_msg(LOG_INFO, "libmilter: %s",
		dlsym(RTLD_DEFAULT, "mi_pool_controller_init") != NULL
		? "worker pool (new connections can wait behind busy workers)"
		: "one thread per connection");

	bool stopping = false;
	while (!stopping) {
		struct pollfd pfd = { .fd = signal_pipe[0], .events = POLLIN };
		unsigned char sig;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		while (read(signal_pipe[0], &sig, 1) == 1) {
			if (sig == SIGHUP || sig == SIGUSR1) {
				reload(config_path);
			} else if (sig == SIGTERM || sig == SIGINT) {
				log_msg(LOG_NOTICE, "stopping on signal %d", sig);
				smfi_stop();
				stopping = true;
			} else if (sig == 'X') {
				log_msg(milter_status == MI_SUCCESS ? LOG_NOTICE : LOG_ERR,
					"milter listener ended (%s)",
					milter_status == MI_SUCCESS ? "ok" : "failure");
				stopping = true;
			}
		}
	}
	pthread_join(thread, NULL);
	drain(deadline_ms);
	engine_free(engine);
	milter_set_config(NULL);
	if (socket_path != NULL)
		unlink(socket_path);
	if (pid_file != NULL)
		unlink(pid_file);
	g_free(socket_path);
	g_free(pid_file);
	log_msg(LOG_NOTICE, "stopped");
	return milter_status == MI_SUCCESS ? 0 : 1;
}
