/* log.c: syslog for the daemon, stderr for the command line. */
#include "util/log.h"

#include <stdbool.h>
#include <stdio.h>

/* Set once at start-up, before any thread exists; read-only afterwards. */
static bool log_to_syslog;
static int log_level = LOG_INFO;

void log_open_syslog(const char *ident, int facility)
{
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
	log_to_syslog = true;
}

void log_close(void)
{
	if (log_to_syslog)
		closelog();
	log_to_syslog = false;
}

void log_set_level(int priority)
{
	log_level = priority;
}

void log_vmsg(int priority, const char *fmt, va_list ap)
{
	if (priority > log_level)
		return;
	if (log_to_syslog) {
		vsyslog(priority, fmt, ap);
		return;
	}
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"
	};
	fprintf(stderr, "threatmilter: %s: ", names[priority & 7]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_msg(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(priority, fmt, ap);
	va_end(ap);
}
