/* log.h: one logging entry point for the daemon and the command line.
 *
 * Lines go to syslog once log_open_syslog() was called, else to stderr.
 * Every formatted line is sanitised (util/sanitize.h): control bytes
 * and invalid UTF-8 become \xNN, so a line can never be split or forged.
 * Nothing here ever formats an API key: callers pass indicators and
 * provider names, never credentials. */
#ifndef TM_LOG_H
#define TM_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

void log_open_syslog(const char *ident, int facility);
void log_close(void);
/* With syslog open, also write warnings and errors to stderr (the
 * daemon in the foreground, -f: issue 18, 6). */
void log_copy_warnings_to_stderr(bool on);
/* Minimum priority written (LOG_DEBUG..LOG_ERR); default LOG_INFO. */
void log_set_level(int priority);
void log_msg(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(int priority, const char *fmt, va_list ap);

#endif
