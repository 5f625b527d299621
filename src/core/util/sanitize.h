/* sanitize.h: text from the MTA or the message made safe for a log line.
 *
 * Anything a peer of the milter socket or a sender controls (queue id and
 * other macros, envelope addresses, header values, URLs) may carry a
 * newline, a carriage return or an escape sequence that would forge a
 * log line or drive the terminal of whoever reads the log (issue 17, 9).
 * Headers have their own sanitiser (output/headers.h); this one is for
 * logs. */
#ifndef TM_SANITIZE_H
#define TM_SANITIZE_H

#include <stddef.h>

/* Returns a new string (g_free) holding at most `max` bytes of `text`
 * (0 = no limit) in which every control byte (0x00-0x1f, 0x7f) and every
 * byte that is not part of valid UTF-8 is written as \xNN. A backslash
 * stays as it is, so sanitising twice (at the entry into a context, then
 * in log_vmsg) changes nothing more. A cut is marked with "...". NULL
 * gives "". Never fails. */
char *log_sanitize(const char *text, size_t max);

/* The same for `len` bytes that need not be NUL-terminated. */
char *log_sanitize_len(const char *text, size_t len, size_t max);

#endif
