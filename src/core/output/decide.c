/* decide.c: event, action and reply of a judged message. */
#include "output/decide.h"

#include <string.h>
#include <glib.h>

enum tm_event decide_event(const struct judgement *judgement)
{
	const struct verdict_summary *s = &judgement->summary;

	switch (s->verdict) {
	case VERDICT_MALICIOUS: return EVENT_MALICIOUS;
	case VERDICT_SUSPICIOUS: return EVENT_SUSPICIOUS;
	case VERDICT_CLEAN: return EVENT_CLEAN;
	case VERDICT_UNKNOWN: break;
	}
	if (s->limits != 0)
		return EVENT_LIMIT;
	if (s->timeouts > 0)
		return EVENT_TIMEOUT;
	if (s->errors > 0 || s->rate_limited > 0)
		return EVENT_PROVIDER_ERROR;
	return EVENT_UNKNOWN;
}

static bool is_reply_code(const char *p, char cls)
{
	return (p[0] == '4' || p[0] == '5') && g_ascii_isdigit(p[1]) && g_ascii_isdigit(p[2]) &&
	       (p[3] == ' ' || p[3] == '\0') && (cls == 0 || p[0] == cls);
}

/* "5.7.1": class digit, dot, 1-3 digits, dot, 1-3 digits. */
static size_t enhanced_code_len(const char *p)
{
	size_t i = 0;

	if ((p[0] != '4' && p[0] != '5') || p[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t digits = 0;

		while (g_ascii_isdigit(p[i]) && digits < 3) {
			i++;
			digits++;
		}
		if (digits == 0)
			return 0;
		if (part == 0) {
			if (p[i] != '.')
				return 0;
			i++;
		}
	}
	return p[i] == ' ' || p[i] == '\0' ? i : 0;
}

void decide_reply(const char *configured, enum tm_action action, const char *verdict,
		  struct smtp_reply *out)
{
	char cls = action == ACTION_TEMPFAIL ? '4' : '5';
	const char *p = configured != NULL ? configured : "";
	GString *text = g_string_new(NULL);
	size_t len;

	memset(out, 0, sizeof(*out));
	g_strlcpy(out->rcode, cls == '4' ? "451" : "550", sizeof(out->rcode));
	g_strlcpy(out->xcode, cls == '4' ? "4.7.1" : "5.7.1", sizeof(out->xcode));

	if (is_reply_code(p, 0)) {
		memcpy(out->rcode, p, 3);
		out->rcode[0] = cls;
		p += 3;
		while (*p == ' ')
			p++;
	}
	if ((len = enhanced_code_len(p)) > 0 && len < sizeof(out->xcode)) {
		memcpy(out->xcode, p, len);
		out->xcode[len] = '\0';
		out->xcode[0] = cls;
		p += len;
		while (*p == ' ')
			p++;
	}
	for (; *p; p++) {
		if (p[0] == '%' && p[1] == 'v') {
			g_string_append(text, verdict);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			g_string_append_c(text, '%');
			p++;
		} else if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f) {
			g_string_append_c(text, *p);
		}
	}
	if (text->len == 0)
		g_string_append_printf(text, "Message %s", cls == '4' ? "deferred" : "rejected");
	out->text = g_string_free(text, FALSE);
}

void smtp_reply_clear(struct smtp_reply *reply)
{
	g_free(reply->text);
	reply->text = NULL;
}
