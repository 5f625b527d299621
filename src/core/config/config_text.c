/* config_text.c: reply and header text of threatmilter.conf (config_text.h). */
#include "config/config_text.h"

#include <stdio.h>
#include <string.h>
#include <glib.h>

#include "output/decide.h"

/* The first byte outside [lo, 126], or NULL. */
static const char *first_outside(const char *value, unsigned char lo)
{
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < lo || (unsigned char)*p > 126)
			return p;
	return NULL;
}

/* RejectMessage: the reply decide_reply() builds from it must fit one
 * SMTP reply line, and libmilter's smfi_setreply() must take it (it
 * refuses a text over 980 bytes, MAXREPLYLEN, after our '%' doubling in
 * milter.c). Measured with the longest verdict word in place of %v. */
static bool check_reply(const char *key, const char *value, char *err, size_t errlen)
{
	struct smtp_reply reply;
	size_t line, percents = 0;
	bool ok = true;

	if (first_outside(value, ' ') != NULL) {
		snprintf(err, errlen, "%s: printable ASCII only (it is the text of an SMTP reply)",
			 key);
		return false;
	}
	decide_reply(value, ACTION_REJECT, "suspicious", &reply);
	for (const char *p = reply.text; *p; p++)
		percents += *p == '%';
	/* "550 5.7.1 text\r\n" */
	line = strlen(reply.rcode) + 1 + strlen(reply.xcode) + 1 + strlen(reply.text) + 2;
	if (line > 512 || strlen(reply.text) + percents > 980) {
		snprintf(err, errlen, "%s: too long for an SMTP reply line (%zu bytes with \"%s %s \" "
			 "and %%v as \"suspicious\"; at most 512 with the code and CRLF, RFC 5321 "
			 "4.5.3.1.5: keep the text under %d characters)", key, line, reply.rcode,
			 reply.xcode, CONFIG_REPLY_TEXT_MAX);
		ok = false;
	}
	smtp_reply_clear(&reply);
	return ok;
}

/* HeaderPrefix: the start of header field names, RFC 5322 §3.6.8 ftext:
 * printable ASCII 33-126 except ':'. */
static bool check_prefix(const char *key, const char *value, char *err, size_t errlen)
{
	const char *bad = first_outside(value, 33);

	if (bad == NULL)
		bad = strchr(value, ':');
	if (bad != NULL) {
		snprintf(err, errlen, "%s: '%s' cannot start a header field name (printable ASCII "
			 "without blanks or ':', RFC 5322 3.6.8)", key, value);
		return false;
	}
	if (strlen(value) > CONFIG_HEADER_PREFIX_MAX) {
		snprintf(err, errlen, "%s: at most %d characters (header lines of 78, RFC 5322 "
			 "2.1.1)", key, CONFIG_HEADER_PREFIX_MAX);
		return false;
	}
	return true;
}

/* SubjectTag, ReportHostname: text inside a header field. */
static bool check_header_text(const char *key, const char *value, char *err, size_t errlen)
{
	if (first_outside(value, ' ') != NULL) {
		snprintf(err, errlen, "%s: printable ASCII only, no line breaks (it goes into a "
			 "header; write other characters as an RFC 2047 encoded-word)", key);
		return false;
	}
	if (strlen(value) > CONFIG_HEADER_TEXT_MAX) {
		snprintf(err, errlen, "%s: at most %d characters", key, CONFIG_HEADER_TEXT_MAX);
		return false;
	}
	return true;
}

bool config_text_check(enum value_type type, const char *key, const char *value,
		       char *err, size_t errlen)
{
	switch (type) {
	case T_REPLY_TEXT: return check_reply(key, value, err, errlen);
	case T_FIELD_PREFIX: return check_prefix(key, value, err, errlen);
	case T_HEADER_TEXT: return check_header_text(key, value, err, errlen);
	default: return true;
	}
}
