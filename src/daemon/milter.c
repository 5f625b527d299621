/* milter.c: the libmilter callbacks.
 *
 * Two contexts, as in OpenDKIM: one per SMTP connection (client address,
 * negotiated protocol) and one per message (configuration snapshot, the
 * body buffer, counts of our own header names). Both are freed through
 * one path reached from eom, abort and close.
 *
 * Everything that decides what happens to a message lives in eom.c; this
 * file only collects the message and maps the outcome to SMFIS_* codes
 * through thin wrappers around smfi_*. */
#include "daemon/milter.h"
#include "daemon/alert.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <libmilter/mfapi.h>

#include "engine/engine.h"
#include "output/eom.h"
#include "util/log.h"
#include "util/msgbuf.h"
#include "util/netaddr.h"
#include "util/sanitize.h"

/* Bytes of a message kept in memory before it spills to TmpDir. */
#define SPILL_THRESHOLD (1024 * 1024)

/* Longest queue id kept, bytes (Postfix's are under 20). */
#define QUEUE_ID_MAX 64

/* The running daemon's shared state: the current configuration snapshot
 * (swapped whole on reload) and the engine. Shutdown (issue 11, 4):
 * milter_begin_shutdown() sets `stopping` under the lock that MAIL FROM
 * takes to start a message, so once it is set no message starts and
 * active_messages only falls; the daemon frees the engine only when it
 * reached 0. A message keeps its own configuration reference, so a
 * session never reads a configuration that was cleared. */
static struct {
	GMutex lock;
	struct tm_config *config;	/* guarded by lock */
	bool stopping;			/* guarded by lock */
	struct engine *engine;		/* set before smfi_main, read-only after */
	int active_messages;		/* atomic; changed under lock when rising */
} runtime;

int milter_active_messages(void)
{
	return g_atomic_int_get(&runtime.active_messages);
}

struct message_ctx {
	struct tm_config *cfg;		/* the snapshot this message started with */
	char *queue_id;			/* the "i" macro, log-sanitised; NULL until known */
	bool modification_failed;	/* a header/quarantine/reply call failed */
	struct msgbuf *buf;
	bool authenticated;
	unsigned recipients, report_recipients;	/* RCPT TO seen, of them in ReportRecipients */
	char *subject;
	unsigned own_header_counts[EOM_OWN_HEADERS];
	char err[256];
	bool io_error;
};

struct connection_ctx {
	unsigned long protocol;		/* SMFIP_* flags negotiated */
	char client_ip[NET_ADDR_TEXT_MAX];
	bool client_ip_known;
	bool refused;			/* MAIL FROM came during shutdown */
	struct message_ctx *msg;
};

void milter_set_config(struct tm_config *cfg)
{
	struct tm_config *old;

	g_mutex_lock(&runtime.lock);
	old = runtime.config;
	runtime.config = cfg;
	g_mutex_unlock(&runtime.lock);
	if (old != NULL)
		config_unref(old);	/* freed when its last message ends */
}

void milter_job_alert(void *data, const struct lookup *lookup, const char *queue_id,
		      const char *message_id)
{
	char *command = NULL;

	(void)data;
	g_mutex_lock(&runtime.lock);
	if (runtime.config != NULL && runtime.config->alert_command != NULL)
		command = g_strdup(runtime.config->alert_command);
	g_mutex_unlock(&runtime.lock);
	alert_command_run(command, lookup, queue_id, message_id);
	g_free(command);
}

void milter_begin_shutdown(void)
{
	g_mutex_lock(&runtime.lock);
	runtime.stopping = true;
	g_mutex_unlock(&runtime.lock);
}

/* Counts a new message and returns its configuration reference, or NULL
 * once shutdown began (or before a configuration was set). */
static struct tm_config *message_begin(void)
{
	struct tm_config *cfg = NULL;

	g_mutex_lock(&runtime.lock);
	if (!runtime.stopping && runtime.config != NULL) {
		cfg = config_ref(runtime.config);
		g_atomic_int_inc(&runtime.active_messages);
	}
	g_mutex_unlock(&runtime.lock);
	return cfg;
}

/* Everything from the MTA is sanitised where it enters a context
 * (issue 17, 9): the queue id goes into log lines and headers. */
static void refresh_queue_id(SMFICTX *ctx, struct message_ctx *msg)
{
	const char *id = smfi_getsymval(ctx, "i");

	if (id == NULL || *id == '\0')
		return;
	g_free(msg->queue_id);
	msg->queue_id = log_sanitize(id, QUEUE_ID_MAX);
}

static const char *queue_id(const struct message_ctx *msg)
{
	return msg != NULL && msg->queue_id != NULL ? msg->queue_id : "NOQUEUE";
}

static void message_free(struct message_ctx *msg)
{
	if (msg == NULL)
		return;
	msgbuf_free(msg->buf);
	g_free(msg->subject);
	g_free(msg->queue_id);
	if (msg->cfg != NULL)
		config_unref(msg->cfg);
	g_free(msg);
}

/* The one cleanup path for a message (eom, abort, close). */
static void message_end(struct connection_ctx *conn)
{
	if (conn != NULL && conn->msg != NULL) {
		message_free(conn->msg);
		conn->msg = NULL;
		g_atomic_int_add(&runtime.active_messages, -1);
	}
}

static struct connection_ctx *connection_of(SMFICTX *ctx)
{
	struct connection_ctx *conn = smfi_getpriv(ctx);

	if (conn == NULL) {
		conn = g_new0(struct connection_ctx, 1);
		smfi_setpriv(ctx, conn);
	}
	return conn;
}

/* A callback the MTA expects no reply for must answer SMFIS_NOREPLY. */
static sfsistat continue_or_noreply(const struct connection_ctx *conn, unsigned long nr_flag)
{
	return (conn->protocol & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long needed_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
	/* What we never look at... */
	const unsigned long unwanted = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA;
	/* ...and where we always continue, so the MTA need not wait. */
	const unsigned long no_reply = SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
				       SMFIP_NR_HDR | SMFIP_NR_EOH;
	struct connection_ctx *conn = connection_of(ctx);

	(void)f2;
	(void)f3;
	if ((f0 & needed_actions) != needed_actions) {
		log_msg(LOG_ERR, "the MTA does not offer the actions threatmilter needs "
			"(add/change headers, quarantine): offered 0x%lx; not filtering this "
			"connection", f0);
		return SMFIS_REJECT;
	}
	*pf0 = needed_actions;
	conn->protocol = f1 & (unwanted | no_reply | SMFIP_SKIP);
	*pf1 = conn->protocol;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
	struct connection_ctx *conn = connection_of(ctx);

	(void)hostname;
	conn->client_ip_known = false;
	if (addr != NULL && addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)addr;

		conn->client_ip_known = inet_ntop(AF_INET, &sin->sin_addr, conn->client_ip,
						  sizeof(conn->client_ip)) != NULL;
	} else if (addr != NULL && addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)addr;
		struct net_addr parsed;

		/* through net_addr, so ::ffff:a.b.c.d becomes a.b.c.d */
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, conn->client_ip,
			      sizeof(conn->client_ip)) != NULL &&
		    net_addr_parse(conn->client_ip, &parsed)) {
			net_addr_format(&parsed, conn->client_ip, sizeof(conn->client_ip));
			conn->client_ip_known = true;
		}
	}
	return continue_or_noreply(conn, SMFIP_NR_CONN);
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
	struct connection_ctx *conn = connection_of(ctx);
	struct message_ctx *msg;
	const char *auth;

	(void)argv;
	message_end(conn);	/* a previous message without eom/abort */
	struct tm_config *cfg = message_begin();
	conn->refused = cfg == NULL;
	if (cfg == NULL)	/* shutting down: answered at end of message */
		return continue_or_noreply(conn, SMFIP_NR_MAIL);
	msg = g_new0(struct message_ctx, 1);
	msg->cfg = cfg;
	refresh_queue_id(ctx, msg);
	msg->buf = msgbuf_new(SPILL_THRESHOLD, msg->cfg->max_message_size, msg->cfg->tmp_dir);
	auth = smfi_getsymval(ctx, "{auth_authen}");
	msg->authenticated = auth != NULL && *auth != '\0';
	conn->msg = msg;
	return continue_or_noreply(conn, SMFIP_NR_MAIL);
}

/* "user@example.com" is in ReportRecipients as itself or as its domain. */
static bool is_report_recipient(const struct tm_config *cfg, const char *rcpt)
{
	char *addr;
	bool found = false;

	if (cfg->report_recipients == NULL || cfg->report_recipients->len == 0)
		return false;
	addr = g_strdup(rcpt);
	g_strstrip(addr);
	size_t len = strlen(addr);
	if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>') {
		memmove(addr, addr + 1, len - 2);
		addr[len - 2] = '\0';
	}
	const char *at = strrchr(addr, '@');
	for (guint i = 0; i < cfg->report_recipients->len && !found; i++) {
		const char *entry = g_ptr_array_index(cfg->report_recipients, i);

		if (strchr(entry, '@') != NULL)
			found = g_ascii_strcasecmp(entry, addr) == 0;
		else
			found = at != NULL && g_ascii_strcasecmp(entry, at + 1) == 0;
	}
	g_free(addr);
	return found;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
	struct connection_ctx *conn = connection_of(ctx);

	if (conn->msg != NULL && argv != NULL && argv[0] != NULL) {
		conn->msg->recipients++;
		if (is_report_recipient(conn->msg->cfg, argv[0]))
			conn->msg->report_recipients++;
	}
	return continue_or_noreply(conn, SMFIP_NR_RCPT);
}

static void store(SMFICTX *ctx, struct message_ctx *msg, bool ok)
{
	if (!ok && !msg->io_error) {
		msg->io_error = true;
		refresh_queue_id(ctx, msg);	/* Postfix may send it after MAIL FROM */
		log_msg(LOG_ERR, "%s: %s", queue_id(msg), msg->err);
	}
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	struct connection_ctx *conn = connection_of(ctx);
	struct message_ctx *msg = conn->msg;

	if (msg != NULL && name != NULL && value != NULL) {
		/* "X-Threat-Verdict " is still ours: Sendmail passes the name
		 * as written, Postfix trims it (issue 17, header removal) */
		char *trimmed = g_strstrip(g_strdup(name));

		eom_count_own_headers(msg->cfg, trimmed, msg->own_header_counts);
		g_free(trimmed);
		if (msg->subject == NULL && g_ascii_strcasecmp(name, "Subject") == 0)
			msg->subject = g_strdup(value);
		store(ctx, msg, msgbuf_append_header(msg->buf, name, value, msg->err,
						     sizeof(msg->err)));
	}
	return continue_or_noreply(conn, SMFIP_NR_HDR);
}

static sfsistat on_eoh(SMFICTX *ctx)
{
	struct connection_ctx *conn = connection_of(ctx);

	if (conn->msg != NULL)
		store(ctx, conn->msg, msgbuf_append(conn->msg->buf, "\r\n", 2, conn->msg->err,
						    sizeof(conn->msg->err)));
	return continue_or_noreply(conn, SMFIP_NR_EOH);
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct connection_ctx *conn = connection_of(ctx);
	struct message_ctx *msg = conn->msg;

	if (msg == NULL)
		return SMFIS_CONTINUE;
	store(ctx, msg, msgbuf_append(msg->buf, data, len, msg->err, sizeof(msg->err)));
	/* Past MaxMessageSize the rest is not needed: let the MTA skip it. */
	if (msgbuf_too_large(msg->buf) && (conn->protocol & SMFIP_SKIP))
		return SMFIS_SKIP;
	return SMFIS_CONTINUE;
}

/* ------------------------------------------- smfi_* behind eom_ops
 *
 * Every failed call is logged with the queue id and marks the message
 * (issue 11, 9); on_eom() then applies the failure policy. */

static struct message_ctx *message_of(void *ctx)
{
	struct connection_ctx *conn = smfi_getpriv(ctx);

	return conn != NULL ? conn->msg : NULL;
}

static bool checked(void *ctx, int rc, const char *what, const char *name)
{
	struct message_ctx *msg = message_of(ctx);

	if (rc == MI_SUCCESS)
		return true;
	log_msg(LOG_ERR, "%s: the MTA did not take %s%s%s (milter connection lost or "
		"action refused)", queue_id(msg), what, name ? " " : "", name ? name : "");
	if (msg != NULL)
		msg->modification_failed = true;
	return false;
}

static bool smfi_edit_header(void *ctx, enum header_edit edit, unsigned index, const char *name,
			     const char *value)
{
	const char *what = "the header";
	int rc = MI_FAILURE;

	switch (edit) {
	case HEADER_INSERT:
		rc = smfi_insheader(ctx, (int)index, (char *)name, (char *)value);
		break;
	case HEADER_CHANGE:
		rc = smfi_chgheader(ctx, (char *)name, (int)index, (char *)value);
		what = value ? "the change of header" : "the removal of header";
		break;
	case HEADER_ADD:
		rc = smfi_addheader(ctx, (char *)name, (char *)value);
		break;
	}
	return checked(ctx, rc, what, name);
}

static bool smfi_quarantine_message(void *ctx, const char *reason)
{
	return checked(ctx, smfi_quarantine(ctx, (char *)reason), "the quarantine", NULL);
}

static bool smfi_set_reply(void *ctx, const char *rcode, const char *xcode, const char *text)
{
	/* libmilter reads '%' in the text as a format character */
	GString *escaped = g_string_new(NULL);

	for (const char *p = text; *p; p++) {
		if (*p == '%')
			g_string_append_c(escaped, '%');
		g_string_append_c(escaped, *p);
	}
	bool ok = checked(ctx, smfi_setreply(ctx, (char *)rcode, (char *)xcode, escaped->str),
			  "the reply text", NULL);
	g_string_free(escaped, TRUE);
	return ok;
}

static const struct eom_ops smfi_eom_ops = {
	.header = smfi_edit_header,
	.quarantine = smfi_quarantine_message,
	.set_reply = smfi_set_reply,
};

static sfsistat action_status(enum tm_action action)
{
	switch (action) {
	case ACTION_REJECT: return SMFIS_REJECT;
	case ACTION_TEMPFAIL: return SMFIS_TEMPFAIL;
	case ACTION_DISCARD: return SMFIS_DISCARD;
	case ACTION_ACCEPT:
	case ACTION_TAG:
	case ACTION_QUARANTINE:
		break;
	}
	return SMFIS_ACCEPT;
}

/* A message that started after shutdown began: its MAIL FROM could not
 * be answered (no reply is negotiated for it), so it is answered here.
 * The MTA retries later, at the next instance of the filter. */
static sfsistat refuse_during_shutdown(SMFICTX *ctx, struct connection_ctx *conn)
{
	char *id = log_sanitize(smfi_getsymval(ctx, "i"), QUEUE_ID_MAX);

	conn->refused = false;
	log_msg(LOG_NOTICE, "%s: tempfailed: threatmilter is shutting down", *id ? id : "NOQUEUE");
	g_free(id);
	smfi_setreply(ctx, "451", "4.3.2", "threatmilter is shutting down, try again later");
	return SMFIS_TEMPFAIL;
}

/* Failure policy for lost modifications (issue 11, 9): when a verdict
 * header, a removal of a forged one or the quarantine did not reach the
 * MTA, a message that would be delivered is tempfailed instead, so it
 * never leaves without its verdict (or with a forged one); the MTA
 * retries. A reject, tempfail or discard stands (the reply text alone
 * may be the MTA's default). */
static sfsistat modification_policy(const struct message_ctx *msg, sfsistat status)
{
	if (!msg->modification_failed || status != SMFIS_ACCEPT)
		return status;
	log_msg(LOG_ERR, "%s: tempfailed: a modification did not reach the MTA", queue_id(msg));
	return SMFIS_TEMPFAIL;
}

static sfsistat on_eom(SMFICTX *ctx)
{
	struct connection_ctx *conn = connection_of(ctx);
	struct message_ctx *msg = conn->msg;
	struct eom_outcome outcome;
	sfsistat status;

	if (msg == NULL)
		return conn->refused ? refuse_during_shutdown(ctx, conn) : SMFIS_CONTINUE;
	refresh_queue_id(ctx, msg);	/* Postfix sends "i" with eom too */
	struct eom_input in = {
		.cfg = msg->cfg,
		.engine = runtime.engine,
		.size = msgbuf_size(msg->buf),
		.too_large = msgbuf_too_large(msg->buf),
		.skip_analysis = msg->authenticated && msg->cfg->ignore_authenticated_clients,
		.client_ip = conn->client_ip_known ? conn->client_ip : NULL,
		.only_report_recipients = msg->recipients > 0 &&
					  msg->report_recipients == msg->recipients,
		.subject = msg->subject,
		.queue_id = queue_id(msg),
		.error = msg->io_error ? msg->err : NULL,
	};
	memcpy(in.own_header_counts, msg->own_header_counts, sizeof(in.own_header_counts));
	if (!msg->io_error && !in.too_large)
		in.message = msgbuf_stream(msg->buf);

	eom_process(&in, &smfi_eom_ops, ctx, &outcome);

	char *line = eom_summary_line(&in, &outcome);
	log_msg(LOG_INFO, "%s", line);
	g_free(line);
	if (msg->cfg->log_why)
		log_msg(LOG_INFO, "%s: why: %s", in.queue_id, outcome.reason);

	status = modification_policy(msg, action_status(outcome.action));
	if (in.message != NULL)
		g_object_unref(in.message);
	eom_outcome_clear(&outcome);
	message_end(conn);
	return status;
}

static sfsistat on_abort(SMFICTX *ctx)
{
	message_end(smfi_getpriv(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
	struct connection_ctx *conn = smfi_getpriv(ctx);

	if (conn != NULL) {
		message_end(conn);
		g_free(conn);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

int milter_register(void)
{
	static struct smfiDesc desc = {
		.xxfi_name = "threatmilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
		.xxfi_connect = on_connect,
		.xxfi_envfrom = on_envfrom,
		.xxfi_envrcpt = on_envrcpt,
		.xxfi_header = on_header,
		.xxfi_eoh = on_eoh,
		.xxfi_body = on_body,
		.xxfi_eom = on_eom,
		.xxfi_abort = on_abort,
		.xxfi_close = on_close,
		.xxfi_negotiate = on_negotiate,
	};

	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}

void milter_set_engine(struct engine *engine)
{
	runtime.engine = engine;
}
