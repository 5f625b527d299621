/* daemon.c: running as a milter daemon.
 *
 * Start-up order matters:
 *   1. the daemon's signals are blocked before anything else, so every
 *      thread started later inherits the mask (signals.h);
 *   2. the configuration is loaded and checked as `-n` checks it
 *      (preflight.h): a start that cannot work is refused with a clear
 *      message before anything is touched;
 *   3. the PidFile is locked before the socket is touched (a second
 *      instance must not delete the live socket: issue 18, 3);
 *   4. the socket is opened with its mode set through the umask, never
 *      by a chmod on a path after bind (issue 17, 7), while we may still
 *      be root; then privileges are dropped;
 *   5. fork into the background, and only then start threads (fork keeps
 *      only the calling thread): the engine, our signal thread, and
 *      libmilter (smfi_main runs in the main thread).
 *
 * Shutdown (issue 11, 4): SIGTERM makes new messages tempfail and stops
 * the listener; messages in progress finish with their own configuration
 * reference and the engine, which is freed only once none is left. When
 * some outlast the drain (deadline + 5 s), the engine is left alone and
 * the process exits: the MTA applies its default action to them. */
#include <autoconfig.h>
#include "daemon/daemon.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <libmilter/mfapi.h>

#include "analysis/analyze.h"
#include "cache/cache_redis.h"
#include "cli/cli.h"
#include "config/config.h"
#include "config/config_schema.h"
#include "daemon/milter.h"
#include "daemon/pidfile.h"
#include "daemon/preflight.h"
#include "daemon/signals.h"
#include "engine/engine.h"
#include "metrics/catalog.h"
#include "metrics/endpoint.h"
#include "util/log.h"
#include "util/nodelay.h"
#include "util/sockspec.h"

/* What the running daemon needs beyond the configuration snapshot,
 * which a reload may replace. */
struct daemon_state {
	const char *config_path;	/* absolute (main.c), for reloads */
	struct sock_spec spec;
	struct pidfile *pidfile;
	unsigned drain_deadline_ms;	/* longest ScanDeadline of any loaded
					 * configuration: a message keeps its own */
	struct tm_metrics *metrics;	/* always kept; served when MetricsSocket is set */
	struct metrics_endpoint *metrics_endpoint;	/* NULL: MetricsSocket off */
	struct tm_config *started;	/* the configuration started with: its
					 * KEY_RESTART keys are the ones in effect */
	bool socket_created;		/* a unix socket of ours: dev/ino below */
	dev_t socket_dev;
	ino_t socket_ino;
};

/* The active integrations, a notice; none active is a warning unless the
 * start-up checks (preflight.c) already gave it (warn_if_none false). */
static void log_integrations(const struct tm_config *cfg, bool warn_if_none)
{
	unsigned active;
	char *line = preflight_integrations_summary(cfg, &active);

	if (active == 0 && warn_if_none)
		log_msg(LOG_WARNING, "%s: every message will be 'unknown'", line);
	else
		log_msg(LOG_NOTICE, "%s", line);
	g_free(line);
}

static void warn_needs_restart(const char *key, void *arg)
{
	(void)arg;
	log_msg(LOG_WARNING, "%s changed; takes effect at restart (the running value is kept)",
		key);
}

/* SIGHUP, SIGUSR1: in the signal thread. Reading the files cannot block
 * (util/fileio.h opens them O_NONBLOCK and takes regular files only), so
 * a SIGTERM after a SIGHUP is always taken at once by this thread. */
static void on_reload(void *arg)
{
	struct daemon_state *st = arg;
	char err[1024];
	struct tm_config *cfg = cli_load_config(st->config_path, err, sizeof(err));

	tm_metrics_reload(st->metrics, cfg != NULL);
	if (cfg == NULL) {
		log_msg(LOG_ERR, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	unsigned active;
	char *summary = preflight_integrations_summary(cfg, &active);

	/* what was read and what is now asked; none active is a warning */
	log_msg(LOG_NOTICE, "configuration reloaded from %s (%s)",
		cfg->path ? cfg->path : "embedded defaults", summary);
	g_free(summary);
	/* keys read once at start-up (config_schema.h KEY_RESTART) */
	config_restart_changes(st->started, cfg, warn_needs_restart, NULL);
	if (active == 0)
		log_integrations(cfg, true);
	/* read by serve() only after this thread was joined */
	st->drain_deadline_ms = MAX(st->drain_deadline_ms, cfg->scan_deadline_ms);
	milter_set_config(cfg);
}

/* SIGTERM, SIGINT: in the signal thread. */
static void on_stop(void *arg)
{
	(void)arg;
	milter_begin_shutdown();
	smfi_stop();
}

/* A unix socket some process accepts on belongs to a running filter:
 * never remove it (libmilter's "remove a stale socket" would). */
static bool refuse_live_socket(const struct sock_spec *spec, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;
	bool live;

	if (spec->family != SOCK_SPEC_UNIX)
		return true;	/* bind() itself fails with EADDRINUSE */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	memcpy(sun.sun_path, spec->path, strlen(spec->path) + 1);
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (live)
		snprintf(err, errlen, "another filter is listening on %s: not starting a second "
			 "instance", spec->path);
	return !live;
}

/* The unix socket's owner and group; lchown never follows a link that
 * was put in its place after bind. */
static bool set_socket_owner(const struct tm_config *cfg, struct daemon_state *st,
			     char *err, size_t errlen)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (!st->socket_created)
		return true;
	if (cfg->socket_group != NULL && *cfg->socket_group != '\0') {
		struct group *gr = getgrnam(cfg->socket_group);

		if (gr == NULL) {
			snprintf(err, errlen, "SocketGroup: no such group '%s'", cfg->socket_group);
			return false;
		}
		gid = gr->gr_gid;
	}
	if (cfg->user_id != NULL && *cfg->user_id != '\0' && geteuid() == 0) {
		char *name = NULL;
		gid_t user_gid;

		if (!preflight_lookup_user(cfg->user_id, &uid, &user_gid, &name, err, errlen))
			return false;
		g_free(name);
		if (gid == (gid_t)-1)
			gid = user_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(AT_FDCWD, st->spec.path, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
		snprintf(err, errlen, "chown %s: %s", st->spec.path, strerror(errno));
		return false;
	}
	return true;
}

/* Opens the listening socket; its mode comes from the umask at bind. */
static bool open_socket(const struct tm_config *cfg, struct daemon_state *st,
			char *err, size_t errlen)
{
	struct stat sb;
	int rc;

	if (smfi_setconn(st->spec.canonical) != MI_SUCCESS ||
	    smfi_settimeout((int)cfg->milter_timeout_s) != MI_SUCCESS) {
		snprintf(err, errlen, "libmilter refused Socket '%s'", st->spec.canonical);
		return false;
	}
	if (milter_register() != 0) {
		snprintf(err, errlen, "smfi_register failed");
		return false;
	}
	umask(~(mode_t)cfg->socket_mode & 0777);
	/* true: remove a stale unix socket left by a crash (a live one was
	 * refused above, under the PidFile lock) */
	rc = smfi_opensocket(true);
	umask((mode_t)cfg->umask);
	if (rc != MI_SUCCESS) {
		snprintf(err, errlen, "cannot open socket %s: %s", st->spec.canonical,
			 strerror(errno));
		return false;
	}
	if (st->spec.family == SOCK_SPEC_UNIX && lstat(st->spec.path, &sb) == 0 &&
	    S_ISSOCK(sb.st_mode)) {
		st->socket_created = true;
		st->socket_dev = sb.st_dev;
		st->socket_ino = sb.st_ino;
	}
	return set_socket_owner(cfg, st, err, errlen);
}

static bool drop_privileges(const char *spec, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;
	char *name = NULL;

	if (spec == NULL || *spec == '\0')
		return true;
	if (!preflight_lookup_user(spec, &uid, &gid, &name, err, errlen))
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

/* As the user the daemon now runs as (issue 17, 8). */
static bool check_tmp_dir(const struct tm_config *cfg, char *err, size_t errlen)
{
	if (cfg->tmp_dir == NULL || access(cfg->tmp_dir, W_OK | X_OK) == 0)
		return true;
	snprintf(err, errlen, "TmpDir %s: not usable by the daemon's user: %s", cfg->tmp_dir,
		 strerror(errno));
	return false;
}

/* The configuration checks `-n` makes; errors refuse the start. */
static bool preflight(const struct tm_config *cfg)
{
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	bool ok = preflight_check(cfg, errors, warnings);

	for (guint i = 0; i < warnings->len; i++)
		log_msg(LOG_WARNING, "%s", (const char *)g_ptr_array_index(warnings, i));
	for (guint i = 0; i < errors->len; i++)
		log_msg(LOG_ERR, "%s", (const char *)g_ptr_array_index(errors, i));
	g_ptr_array_unref(errors);
	g_ptr_array_unref(warnings);
	return ok;
}

/* The MetricsSocket listener, bound with the milter socket (step 4); its
 * thread starts after the fork (serve). */
static bool open_metrics(const struct tm_config *cfg, struct daemon_state *st,
			 char *err, size_t errlen)
{
	struct sock_spec spec;

	if (cfg->metrics_socket == NULL)
		return true;
	if (!metrics_endpoint_parse(cfg->metrics_socket, &spec, err, errlen))
		return false;
	if (strcmp(spec.host, "127.0.0.1") != 0 && strcmp(spec.host, "::1") != 0 &&
	    strcmp(spec.host, "localhost") != 0)
		log_msg(LOG_WARNING, "MetricsSocket %s: not a loopback address; the metrics have "
			"no authentication: firewall the port", spec.canonical);
	st->metrics_endpoint = metrics_endpoint_open(&spec, tm_metrics_registry(st->metrics),
						     err, errlen);
	return st->metrics_endpoint != NULL;
}

static double messages_in_progress(void *data)
{
	(void)data;
	return milter_active_messages();
}

/* Steps 2-5 of the start-up order, up to the fork. */
static bool prepare(const struct tm_config *cfg, struct daemon_state *st, bool background,
		    char *err, size_t errlen)
{
	if (!sock_spec_parse(cfg->socket, &st->spec, err, errlen))
		return false;
	if (!preflight(cfg)) {
		snprintf(err, errlen, "not starting: the configuration check failed");
		return false;
	}
	if (cfg->pid_file != NULL && *cfg->pid_file != '\0') {
		st->pidfile = pidfile_acquire(cfg->pid_file, err, errlen);
		if (st->pidfile == NULL)
			return false;
	}
	if (!refuse_live_socket(&st->spec, err, errlen) || !open_socket(cfg, st, err, errlen) ||
	    !open_metrics(cfg, st, err, errlen) || !drop_privileges(cfg->user_id, err, errlen) || !check_tmp_dir(cfg, err, errlen))
		return false;
	if (background && daemon(0, 0) != 0) {
		snprintf(err, errlen, "cannot go to the background: %s", strerror(errno));
		return false;
	}
	if (st->pidfile != NULL && !pidfile_write(st->pidfile, getpid(), err, errlen))
		return false;
	return true;
}

/* Waits for messages in progress, at most the longest deadline a message
 * can have plus a margin. Returns true when none is left. */
static bool drain(unsigned deadline_ms)
{
	int64_t give_up = engine_now_ms() + deadline_ms + 5000;

	while (milter_active_messages() > 0 && engine_now_ms() < give_up)
		g_usleep(50 * 1000);
	if (milter_active_messages() == 0)
		return true;
	log_msg(LOG_WARNING, "stopping with %d messages in progress (the MTA applies its "
		"default action to them)", milter_active_messages());
	return false;
}

/* Removes what this instance created, nothing that replaced it. */
static void remove_own_files(struct daemon_state *st)
{
	struct stat sb;

	if (st->socket_created && lstat(st->spec.path, &sb) == 0 &&
	    sb.st_dev == st->socket_dev && sb.st_ino == st->socket_ino)
		unlink(st->spec.path);
	pidfile_release(st->pidfile);
	st->pidfile = NULL;
}

static void log_started(const struct daemon_state *st)
{
	char bound[512];
	int nodelay = nodelay_listening_sockets();

	if (!sock_spec_describe_bound(bound, sizeof(bound)))
		g_strlcpy(bound, st->spec.canonical, sizeof(bound));
	log_msg(LOG_NOTICE, "%s %s started on %s%s", PACKAGE_NAME, PACKAGE_VERSION, bound,
		nodelay > 0 ? " (TCP_NODELAY)" : "");
	/* Debian's shared libmilter has the worker pool (README, "Busy
	 * sites"); say which one this is, so a slow connection has a name. */
	log_msg(LOG_INFO, "libmilter: %s",
		dlsym(RTLD_DEFAULT, "mi_pool_controller_init") != NULL
		? "worker pool (new connections can wait behind busy workers)"
		: "one thread per connection");
}

/* CacheBackend redis (issue 15): the engine's caches, budgets and job
 * registry on Redis. Read at start, as the daemon's user (the password
 * file too); a reload keeps the backend. */
static bool use_redis(const struct tm_config *cfg, struct engine_options *eopts,
		      struct redis_cache_factory **out, char *err, size_t errlen)
{
	struct redis_settings s;

	*out = NULL;
	if (!redis_settings_wanted(cfg))
		return true;
	if (!redis_settings_parse(cfg->redis_server, cfg->redis_timeout_ms, &s, err, errlen))
		return false;
	*out = redis_cache_factory_new(&s, eopts->metrics);
	redis_settings_clear(&s);
	eopts->cache_new = redis_cache_new;
	eopts->cache_data = *out;
	return true;
}

/* Runs the filter until it is stopped; returns smfi_main's status.
 * *drained: false when messages outlasted the drain (the engine is still
 * in use by them and was not freed). */
static int serve(struct tm_config *cfg, struct daemon_state *st, bool *drained,
		 char *err, size_t errlen)
{
	struct engine_options eopts = { .ca_file = cfg->ca_cert_file, .metrics = st->metrics,
					.job_alert = milter_job_alert };
	struct redis_cache_factory *redis;
	struct engine *engine = use_redis(cfg, &eopts, &redis, err, errlen)
				? engine_new(&eopts, err, errlen) : NULL;
	const struct signal_handlers handlers = { on_reload, on_stop, st };
	int status;

	*drained = true;
	if (engine == NULL) {
		redis_cache_factory_free(redis);
		config_unref(cfg);
		return MI_FAILURE;
	}
	milter_set_engine(engine);
	st->drain_deadline_ms = cfg->scan_deadline_ms;
	log_started(st);
	if (st->metrics_endpoint != NULL) {
		if (!metrics_endpoint_start(st->metrics_endpoint, err, errlen)) {
			milter_set_config(NULL);
			engine_free(engine);
			return MI_FAILURE;
		}
		log_msg(LOG_NOTICE, "metrics on %s (GET /metrics)",
			metrics_endpoint_address(st->metrics_endpoint));
	}
	log_integrations(cfg, false);	/* preflight warned if none is active */
	st->started = config_ref(cfg);
	milter_set_config(cfg);
	if (!signals_start(&handlers, err, errlen)) {
		milter_set_config(NULL);
		engine_free(engine);
		redis_cache_factory_free(redis);
		return MI_FAILURE;
	}
	status = smfi_main();
	milter_begin_shutdown();	/* also when the listener ended on its own */
	signals_join();
	log_msg(status == MI_SUCCESS ? LOG_NOTICE : LOG_ERR, "milter listener ended (%s)",
		status == MI_SUCCESS ? "ok" : "failure");
	*drained = drain(st->drain_deadline_ms);
	metrics_endpoint_free(st->metrics_endpoint);	/* before the metrics it reads */
	st->metrics_endpoint = NULL;
	if (*drained) {
		engine_free(engine);
		redis_cache_factory_free(redis);
		milter_set_config(NULL);
	}
	return status;
}

int daemon_run(const char *config_path, bool foreground)
{
	char err[1024] = "";
	struct daemon_state st = { .config_path = config_path };
	struct tm_config *cfg;
	bool drained;
	int status;

	if (!signals_block(err, sizeof(err))) {
		fprintf(stderr, "threatmilter: %s\n", err);
		return 1;
	}
	cfg = cli_load_config(config_path, err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "threatmilter: %s\n", err);
		return 1;
	}
	if (cfg->syslog) {
		log_open_syslog("threatmilter", cfg->syslog_facility);
		/* in the foreground errors reach the terminal too (issue 18, 6);
		 * in the background stderr is /dev/null after the fork */
		log_copy_warnings_to_stderr(true);
	}
	log_set_level(cfg->log_level);	/* LogLevel: before any thread */
	umask((mode_t)cfg->umask);
	st.metrics = tm_metrics_new(PACKAGE_VERSION);
	if (!prepare(cfg, &st, cfg->background && !foreground, err, sizeof(err))) {
		log_msg(LOG_ERR, "%s", err);
		remove_own_files(&st);
		metrics_endpoint_free(st.metrics_endpoint);
		tm_metrics_free(st.metrics);
		config_unref(cfg);
		return 1;
	}
	analyze_init();
	metrics_gauge_fn(tm_metrics_registry(st.metrics), "threatmilter_messages_in_progress",
			 "Messages between their first and last milter callback.",
			 messages_in_progress, NULL);
	status = serve(cfg, &st, &drained, err, sizeof(err));
	if (status != MI_SUCCESS && err[0] != '\0')
		log_msg(LOG_ERR, "%s", err);
	remove_own_files(&st);
	log_msg(LOG_NOTICE, "stopped");
	/* Sessions still use the engine: no exit handlers under them. */
	if (!drained)
		_exit(status == MI_SUCCESS ? 0 : 1);
	metrics_endpoint_free(st.metrics_endpoint);	/* serve() failed before starting it */
	tm_metrics_free(st.metrics);
	config_unref(st.started);
	return status == MI_SUCCESS ? 0 : 1;
}
