/* log.c: syslog for the daemon, stderr for the command line.
 *
 * Every line is passed through log_sanitize() after formatting, so that
 * no caller can let a newline or an escape from the MTA or the message
 * forge a log line (issue 17, 9), whatever it forgot to clean. */
#include "util/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <glib.h>

#include "util/sanitize.h"

/* Longest line written, bytes; syslog daemons cut near 8 KiB anyway. */
#define LOG_LINE_MAX 4000

/* Set once at start-up, before any thread exists; read-only afterwards. */
static bool log_to_syslog;
static bool log_copy_to_stderr;
static int log_level = LOG_INFO;

static const char *const priority_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"
};

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

void log_copy_warnings_to_stderr(bool on)
{
	log_copy_to_stderr = on;
}

static void write_stderr(int priority, const char *line)
{
	fprintf(stderr, "threatmilter: %s: %s\n", priority_names[priority & 7], line);
}

void log_vmsg(int priority, const char *fmt, va_list ap)
{
	if (priority > log_level)
		return;
	char *raw = g_strdup_vprintf(fmt, ap);
	char *line = log_sanitize(raw, LOG_LINE_MAX);

	g_free(raw);
	if (log_to_syslog) {
		syslog(priority, "%s", line);
		if (log_copy_to_stderr && priority <= LOG_WARNING)
			write_stderr(priority, line);
	} else {
		write_stderr(priority, line);
	}
	g_free(line);
}

void log_msg(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(priority, fmt, ap);
	va_end(ap);
}
