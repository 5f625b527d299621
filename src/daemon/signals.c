/* signals.c: one sigwait thread for the daemon's signals (signals.h). */
#include "daemon/signals.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "util/log.h"

/* The internal wake-up that ends the thread (thread-directed only). */
#define SIGNAL_QUIT SIGUSR2
/* Interrupts the listener's select() (thread-directed only; ignored by
 * default, so a stray one sent to the process does no harm). */
#define SIGNAL_WAKE SIGURG
/* How often, and for how long at most, the listener is woken on stop
 * (ms): past that, its own 5 s select() timeout ends the wait. */
#define WAKE_EVERY_MS 10
#define WAKE_FOR_MS 6000

static const int daemon_signals[] = { SIGHUP, SIGUSR1, SIGTERM, SIGINT };

/* Written before the thread starts, read by it; joined after. */
static struct {
	pthread_t thread;
	pthread_t listener;	/* the thread that runs smfi_main() */
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
	sigaddset(&set, SIGNAL_WAKE);	/* signals_start() opens it in the listener */
	rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot block signals: %s", strerror(rc));
		return false;
	}
	signal(SIGPIPE, SIG_IGN);
	return true;
}

static void on_wake(int sig)
{
	(void)sig;	/* only there to end the listener's select() with EINTR */
}

static void *run_stop(void *done)
{
	sigthread.handlers->stop(sigthread.handlers->arg);
	g_atomic_int_set((gint *)done, 1);
	return NULL;
}

/* Calls stop() and wakes the listener until stop() returns. smfi_stop()
 * sets libmilter's stop flag, then closes the listening socket under a
 * mutex that the listener holds for the whole of its select(), which
 * times out every 5 s: without a wake-up the stop waits up to 5 s. A
 * SIGNAL_WAKE to the listener ends that select() with EINTR, and the
 * listener leaves its loop once it sees the flag; one sent before the
 * flag is set only restarts the select(), hence the repetition. */
static void stop_and_wake(void)
{
	gint done = 0;
	pthread_t stopper;

	if (pthread_create(&stopper, NULL, run_stop, &done) != 0) {
		run_stop(&done);	/* stops all the same, after up to 5 s */
		return;
	}
	for (int waited = 0; !g_atomic_int_get(&done) && waited < WAKE_FOR_MS;
	     waited += WAKE_EVERY_MS) {
		pthread_kill(sigthread.listener, SIGNAL_WAKE);
		g_usleep(WAKE_EVERY_MS * 1000);
	}
	pthread_join(stopper, NULL);
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
			stop_and_wake();
			return NULL;
		} else if (sig == SIGNAL_QUIT) {
			return NULL;
		}
	}
}

bool signals_start(const struct signal_handlers *handlers, char *err, size_t errlen)
{
	struct sigaction wake = { .sa_handler = on_wake };	/* no SA_RESTART */
	sigset_t wake_set;
	int rc;

	sigemptyset(&wake.sa_mask);
	if (sigaction(SIGNAL_WAKE, &wake, NULL) != 0) {
		snprintf(err, errlen, "cannot set the wake-up handler: %s", strerror(errno));
		return false;
	}
	sigthread.listener = pthread_self();
	sigthread.handlers = handlers;
	rc = pthread_create(&sigthread.thread, NULL, signal_thread, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the signal thread: %s", strerror(rc));
		return false;
	}
	sigthread.running = true;
	/* open in the listener only (and the session threads it starts) */
	sigemptyset(&wake_set);
	sigaddset(&wake_set, SIGNAL_WAKE);
	rc = pthread_sigmask(SIG_UNBLOCK, &wake_set, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot unblock the wake-up signal: %s", strerror(rc));
		signals_join();
		return false;
	}
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
