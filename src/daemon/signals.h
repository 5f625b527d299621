/* signals.h: the daemon's signals, taken in one thread of ours.
 *
 * SIGHUP and SIGUSR1 reload the configuration, SIGTERM and SIGINT stop
 * the filter (issue 11, 5). libmilter starts a signal thread of its own
 * that sigwait()s for SIGHUP, SIGTERM and SIGINT and stops the filter on
 * any of them: whichever thread the kernel picks for a process-directed
 * signal decides whether a SIGHUP reloads or kills the filter. So:
 *   1. signals_block() blocks the four signals in the calling thread
 *      before any thread exists; every thread inherits the mask;
 *   2. signals_start() starts the one thread that takes them
 *      (sigwaitinfo) and calls back;
 *   3. this module defines sigwait() for the whole program: a sigwait()
 *      whose set holds only these signals (libmilter's signal thread)
 *      parks its caller for good instead of competing for them. A
 *      static or shared libmilter resolves sigwait to this definition
 *      (the executable's symbol comes first). */
#ifndef TM_SIGNALS_H
#define TM_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>

struct signal_handlers {
	void (*reload)(void *arg);	/* SIGHUP, SIGUSR1: in the signal thread */
	void (*stop)(void *arg);	/* SIGTERM, SIGINT: then the thread ends */
	void *arg;
};

/* Blocks SIGHUP, SIGUSR1, SIGTERM, SIGINT in the calling thread and
 * ignores SIGPIPE. Call first, before any thread is started. Returns
 * false with err set when the mask cannot be changed. */
bool signals_block(char *err, size_t errlen);

/* Starts the signal thread; `handlers` must live until signals_join().
 * Call it in the thread that then runs smfi_main(): on SIGTERM/SIGINT
 * that thread is woken (SIGURG, a no-op handler installed here) so that
 * the listener stops at once instead of at the end of its 5 s select().
 * Returns false with err set when the handler or the thread cannot be
 * set up. */
bool signals_start(const struct signal_handlers *handlers, char *err, size_t errlen);

/* Ends the signal thread without calling stop() again when it is still
 * waiting (the listener ended on its own), and joins it. */
void signals_join(void);

#endif
