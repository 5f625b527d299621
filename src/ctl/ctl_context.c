/* ctl_context.c: the configuration threatmilterctl edits, the integration
 * files it finds, and secrets read from standard input or a file. */
#include "ctl/ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "config/integration_write.h"
#include "config/integrations.h"
#include "config/kvfile.h"

void ctl_error(const char *fmt, ...)
{
	va_list ap;
	char *text, *shown;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	shown = url_mask_passwords(text);	/* a Proxy or APIURL quoted by a message */
	fprintf(stderr, "threatmilterctl: %s\n", shown);
	g_free(shown);
	secret_free(text);
}

static void setting_free(gpointer data)
{
	struct ctl_setting *s = data;

	g_free(s->value);
	g_free(s);
}

/* Keeps every setting as written; the daemon's loader judges them. */
static bool collect(const char *key, const char *value, const char *file, unsigned line,
		    void *userdata, char *err, size_t errlen)
{
	GHashTable *settings = userdata;
	struct ctl_setting *s = g_new0(struct ctl_setting, 1);

	(void)file;
	(void)err;
	(void)errlen;
	s->value = g_strdup(value);
	s->line = line;
	g_hash_table_replace(settings, g_ascii_strdown(key, -1), s);
	return true;
}

char *ctl_resolve(const struct ctl *ctl, const char *value)
{
	if (value[0] == '/')
		return g_strdup(value);
	return g_build_filename(ctl->conf_dir, value, NULL);
}

const struct ctl_setting *ctl_setting(const struct ctl *ctl, const char *key)
{
	char *lower = g_ascii_strdown(key, -1);
	const struct ctl_setting *s = g_hash_table_lookup(ctl->settings, lower);

	g_free(lower);
	return s;
}

bool ctl_open(struct ctl *ctl, const char *config_path, char *err, size_t errlen)
{
	const struct ctl_setting *s;

	ctl->config_path = config_path;
	ctl->conf_dir = g_path_get_dirname(config_path);
	ctl->settings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, setting_free);
	if (!kvfile_read(config_path, collect, ctl->settings, err, errlen))
		return false;
	s = ctl_setting(ctl, "IntegrationsDir");
	ctl->integrations_dir = s != NULL ? ctl_resolve(ctl, s->value)
					  : g_build_filename(ctl->conf_dir, "integrations.d", NULL);
	s = ctl_setting(ctl, "PidFile");
	if (s != NULL && g_ascii_strcasecmp(s->value, "none") != 0)
		ctl->pid_file = ctl_resolve(ctl, s->value);
	return true;
}

void ctl_clear(struct ctl *ctl)
{
	g_free(ctl->conf_dir);
	g_free(ctl->integrations_dir);
	g_free(ctl->pid_file);
	if (ctl->settings != NULL)
		g_hash_table_unref(ctl->settings);
	memset(ctl, 0, sizeof(*ctl));
}

static gint by_file_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *ctl_load_integrations(const struct ctl *ctl, unsigned *broken)
{
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)integration_free);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GDir *dir = g_dir_open(ctl->integrations_dir, 0, NULL);
	const char *entry;
	char err[1024];

	if (broken != NULL)
		*broken = 0;
	while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL)
		if (g_str_has_suffix(entry, ".conf") && entry[0] != '.')	/* as the daemon */
			g_ptr_array_add(names, g_strdup(entry));
	if (dir != NULL)
		g_dir_close(dir);
	g_ptr_array_sort(names, by_file_name);
	for (guint i = 0; i < names->len; i++) {
		char *path = g_build_filename(ctl->integrations_dir,
					      (char *)g_ptr_array_index(names, i), NULL);
		struct integration *in = integration_load_file(path, err, sizeof(err));

		if (in != NULL) {
			g_ptr_array_add(list, in);
		} else {
			ctl_error("%s", err);
			if (broken != NULL)
				(*broken)++;
		}
		g_free(path);
	}
	g_ptr_array_unref(names);
	return list;
}

struct integration *ctl_find(GPtrArray *list, const char *name)
{
	for (guint i = 0; i < list->len; i++) {
		struct integration *in = g_ptr_array_index(list, i);

		if (strcmp(in->name, name) == 0)
			return in;
	}
	return NULL;
}

struct integration *ctl_load_named(const struct ctl *ctl, const char *name, GPtrArray **list)
{
	*list = ctl_load_integrations(ctl, NULL);
	struct integration *in = ctl_find(*list, name);

	if (in == NULL) {
		ctl_error("no integration named '%s' in %s", name, ctl->integrations_dir);
		g_ptr_array_unref(*list);
		*list = NULL;
	}
	return in;
}

/* One line of `f` without its line end; NULL on EOF or error. */
static char *read_line(FILE *f)
{
	GString *line = g_string_new(NULL);
	int c;

	while ((c = getc(f)) != EOF && c != '\n')
		g_string_append_c(line, (char)c);
	if (c == EOF && line->len == 0) {
		g_string_free(line, TRUE);
		return NULL;
	}
	if (line->len > 0 && line->str[line->len - 1] == '\r')
		g_string_truncate(line, line->len - 1);
	return g_string_free(line, FALSE);
}

/* A line of standard input; on a terminal with a prompt and no echo. */
static char *read_from_stdin(const char *what)
{
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	char *line;

	if (tty) {
		fprintf(stderr, "%s: ", what);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	line = read_line(stdin);
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	return line;
}

char *ctl_read_secret(const char *arg, bool from_file, const char *what,
		      char *err, size_t errlen)
{
	char *secret = NULL;

	if (from_file) {
		FILE *f = fopen(arg, "re");

		if (f == NULL) {
			snprintf(err, errlen, "%s: %s", arg, g_strerror(errno));
			return NULL;
		}
		secret = read_line(f);
		fclose(f);
	} else if (strcmp(arg, "-") == 0) {
		secret = read_from_stdin(what);
	} else {
		ctl_error("warning: %s given on the command line is visible in ps and the "
			  "shell's history; prefer '-' (standard input) or a file", what);
		secret = g_strdup(arg);
	}
	/* only the line end goes (read_line()): blanks around the secret
	 * stay, so that set_field() refuses them instead of the file
	 * trimming them unseen (kvfile_write.h) */
	if (secret == NULL || *secret == '\0') {
		snprintf(err, errlen, "no %s read from %s", what,
			 from_file ? arg : "standard input");
		g_free(secret);
		return NULL;
	}
	return secret;
}
