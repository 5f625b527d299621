/* config_text.h: the values of threatmilter.conf that become protocol
 * text -- the SMTP reply of RejectMessage, the header field names that
 * start with HeaderPrefix, the header text of SubjectTag and
 * ReportHostname -- checked when the file is read, so that `-n` refuses
 * what the MTA or a mail reader would refuse later (threatmilter.conf(5),
 * KEYS). */
#ifndef TM_CONFIG_TEXT_H
#define TM_CONFIG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config_schema.h"

/* Longest RejectMessage reply text after the verdict is put in (bytes):
 * an SMTP reply line is at most 512 octets with its code and CRLF (RFC
 * 5321 §4.5.3.1.5); "550 " and an enhanced code of up to 7 characters
 * and a blank leave 498. */
#define CONFIG_REPLY_TEXT_MAX 498

/* Longest HeaderPrefix: the longest name it starts ("...Verdict", 7 more),
 * ": " and the longest verdict word ("suspicious") fit the 78-character
 * line of RFC 5322 §2.1.1. */
#define CONFIG_HEADER_PREFIX_MAX 59

/* Longest SubjectTag and ReportHostname (bytes). */
#define CONFIG_HEADER_TEXT_MAX 200

/* Whether value is acceptable for key (name) of type T_REPLY_TEXT,
 * T_FIELD_PREFIX or T_HEADER_TEXT (any other type: true). False with err
 * "Key: reason" (no file:line, the reader adds it). */
bool config_text_check(enum value_type type, const char *key, const char *value,
		       char *err, size_t errlen);

#endif
