/* alert.c: AlertCommand (see alert.h). */
#include <autoconfig.h>

#include "daemon/alert.h"

#include <glib.h>

#include "config/integrations.h"
#include "util/log.h"

#define VALUE_MAX 255

/* Printable ASCII only: the values come from a message and a provider. */
static char *printable(const char *text)
{
	GString *out = g_string_new(NULL);

	for (const char *p = text ? text : ""; *p != '\0' && out->len < VALUE_MAX; p++) {
		unsigned char c = (unsigned char)*p;

		g_string_append_c(out, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	return g_string_free(out, FALSE);
}

bool alert_command_run(const char *command, const struct lookup *lookup, const char *queue_id,
		       const char *message_id)
{
	static const char *const names[] = {
		"THREATMILTER_QUEUE_ID", "THREATMILTER_MESSAGE_ID", "THREATMILTER_INTEGRATION",
		"THREATMILTER_KIND", "THREATMILTER_INDICATOR", "THREATMILTER_VERDICT",
		"THREATMILTER_DETAILS",
	};
	const char *values[G_N_ELEMENTS(names)] = {
		queue_id, message_id ? message_id : "-", lookup->integration->name,
		indicator_kind_name(lookup->kind), lookup->indicator,
		lookup_status_name(lookup->result.status), lookup->result.details,
	};
	char *argv[G_N_ELEMENTS(names) + 2] = { NULL };
	char **envp;
	GError *error = NULL;
	bool ok;

	if (command == NULL || *command == '\0')
		return false;
	envp = g_get_environ();
	argv[0] = g_strdup(command);
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		argv[i + 1] = printable(values[i]);
		envp = g_environ_setenv(envp, names[i], argv[i + 1], TRUE);
	}
	/* no G_SPAWN_SEARCH_PATH: the path as configured; no shell */
	ok = g_spawn_async(NULL, argv, envp, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDIN_FROM_DEV_NULL,
			   NULL, NULL, NULL, &error);
	if (!ok) {
		log_msg(LOG_ERR, "%s: AlertCommand %s: %s", argv[1], command, error->message);
		g_error_free(error);
	}
	g_strfreev(envp);
	for (size_t i = 0; i < G_N_ELEMENTS(argv); i++)
		g_free(argv[i]);
	return ok;
}
