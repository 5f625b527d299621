/* signals.c: one sigwait thread for the daemon's signals (signals.h). */
#include "daemon/signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* The internal wake-up that ends the thread (thread-directed only). */
#define SIGNAL_QUIT SIGUSR2

static const int daemon_signals[] = { SIGHUP, SIGUSR1, SIGTERM, SIGINT };

/* Written before the thread starts, read by it; joined after. */
static struct {
	pthread_t thread;
	bool running;
	const struct signal_handlers *handlers;
} sigthread;

static void daemon_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(daemon_signals) / sizeof(daemon_signals[0]); i++)
		sigaddset(set, daemon_signals[i]);
}

/* The program's sigwait(): see signals.h, point 3. A caller that waits
 * for nothing but our signals is libmilter's signal thread, which would
 * stop the filter on a SIGHUP; it waits forever instead (all signals it
 * could be woken by are blocked in it, so pause() never returns). Any
 * other set is waited for without our signals. */
int sigwait(const sigset_t *set, int *sig)
{
	sigset_t rest = *set;
	int got;

	for (size_t i = 0; i < sizeof(daemon_signals) / sizeof(daemon_signals[0]); i++)
		sigdelset(&rest, daemon_signals[i]);
	if (sigisemptyset(&rest)) {
		for (;;)
			pause();
	}
	do
		got = sigwaitinfo(&rest, NULL);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return errno;
	*sig = got;
	return 0;
}

bool signals_block(char *err, size_t errlen)
{
	sigset_t set;
	int rc;

	daemon_set(&set);
	sigaddset(&set, SIGNAL_QUIT);
	rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot block signals: %s", strerror(rc));
		return false;
	}
	signal(SIGPIPE, SIG_IGN);
	return true;
}

static void *signal_thread(void *unused)
{
	sigset_t set;

	(void)unused;
	daemon_set(&set);
	sigaddset(&set, SIGNAL_QUIT);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig < 0)
			continue;	/* EINTR */
		if (sig == SIGHUP || sig == SIGUSR1) {
			sigthread.handlers->reload(sigthread.handlers->arg);
		} else if (sig == SIGTERM || sig == SIGINT) {
			log_msg(LOG_NOTICE, "stopping on signal %d (%s)", sig, strsignal(sig));
			sigthread.handlers->stop(sigthread.handlers->arg);
			return NULL;
		} else if (sig == SIGNAL_QUIT) {
			return NULL;
		}
	}
}

bool signals_start(const struct signal_handlers *handlers, char *err, size_t errlen)
{
	int rc;

	sigthread.handlers = handlers;
	rc = pthread_create(&sigthread.thread, NULL, signal_thread, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the signal thread: %s", strerror(rc));
		return false;
	}
	sigthread.running = true;
	return true;
}

void signals_join(void)
{
	if (!sigthread.running)
		return;
	/* harmless when the thread already ended on SIGTERM */
	pthread_kill(sigthread.thread, SIGNAL_QUIT);
	pthread_join(sigthread.thread, NULL);
	sigthread.running = false;
}
