/* ctl_apivoid.c: threatmilterctl apivoid [--integration NAME]
 * domain|ip|url|email|screenshot|ping ENTITY... [--threshold N] [--json]
 * [--output-dir DIR] (ctl_apivoid.h; threatmilterctl(8)). */
#include <autoconfig.h>

#include "ctl/ctl_apivoid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "config/config.h"
#include "config/integrations.h"
#include "ctl/ctl_options.h"
#include "ctl/ctl_print.h"
#include "providers/apivoid.h"
#include "providers/provider.h"
#include "providers/sync_runner.h"

#define PROG "threatmilterctl apivoid"
#define FILE_NAME_MAX 200

static void usage(FILE *out)
{
	fprintf(out,
		"usage: threatmilterctl [-c FILE] apivoid [--integration NAME]\n"
		"           domain|ip|url|email|screenshot|ping [ENTITY...]\n"
		"           [--threshold N] [--json] [--output-dir DIR]\n"
		"  --integration NAME  the APIVoid integration (default: the first one, active first)\n"
		"  --threshold N       suspicious at or above N (default: its DetectionThreshold;\n"
		"                      url: risk score 70, the milter's suspicious band)\n"
		"  --json              print the JSON result [{\"Entity\", \"EntityResult\"}]\n"
		"  --output-dir DIR    where screenshots are written (default: .)\n");
}

/* The integration named name (any status), or the first APIVoid one,
 * an active one before an inactive one. */
static const struct integration *choose(const struct tm_config *cfg, const char *name)
{
	const struct integration *inactive = NULL;

	for (guint i = 0; i < cfg->integrations->len; i++) {
		const struct integration *in = g_ptr_array_index(cfg->integrations, i);

		if (in->type == NULL || strcmp(in->type->name, "apivoid") != 0)
			continue;
		if (name != NULL) {
			if (strcmp(in->name, name) == 0)
				return in;
		} else if (in->active) {
			return in;
		} else if (inactive == NULL) {
			inactive = in;
		}
	}
	return name ? NULL : inactive;
}

/* "<URL without scheme>_capture.<format>" (the seed's name) with every
 * byte outside [A-Za-z0-9._-] as '_', no leading dot, at most
 * FILE_NAME_MAX bytes: never a path, never a hidden file. Two entities
 * that map to one name (http:// and https:// of a URL) get distinct
 * ones: the later "<URL>_2_capture.<format>", _3... (`used`: the names
 * of this run, the new one added). */
static char *screenshot_name(const char *url, const char *format, GHashTable *used)
{
	const char *p = strstr(url, "://");
	GString *base = g_string_new(p ? p + 3 : url);
	const char *ext = format != NULL && g_ascii_strcasecmp(format, "jpg") == 0 ? "jpg" : "png";
	char *name = NULL;

	if (base->len > FILE_NAME_MAX - 24)
		g_string_truncate(base, FILE_NAME_MAX - 24);
	for (gsize i = 0; i < base->len; i++) {
		char c = base->str[i];

		if (!g_ascii_isalnum(c) && c != '.' && c != '-' && c != '_')
			base->str[i] = '_';
	}
	if (base->len > 0 && base->str[0] == '.')
		base->str[0] = '_';
	for (unsigned n = 1; name == NULL || g_hash_table_contains(used, name); n++) {
		g_free(name);
		name = n == 1 ? g_strdup_printf("%s_capture.%s", base->str, ext)
			      : g_strdup_printf("%s_%u_capture.%s", base->str, n, ext);
	}
	g_hash_table_add(used, g_strdup(name));
	g_string_free(base, TRUE);
	return name;
}

/* One screenshot into a new file `name` of dirfd (O_EXCL | O_NOFOLLOW:
 * an existing file or link is never overwritten). False after printing
 * why on stderr. */
static bool write_one(int dirfd, const char *dir, const char *name, const char *b64,
		      gsize *len)
{
	guchar *data = g_base64_decode(b64 ? b64 : "", len);
	int fd = (errno = 0, openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
	bool ok = fd >= 0 && write(fd, data, *len) == (ssize_t)*len;
	int saved = errno;

	if (fd >= 0 && close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		char *shown = ctl_printable(dir);

		fprintf(stderr, PROG ": cannot write %s/%s: %s\n", shown, name,
			g_strerror(saved ? saved : EIO));
		g_free(shown);
		if (fd >= 0)
			(void)unlinkat(dirfd, name, 0);	/* no half-written screenshot */
	}
	g_free(data);
	return ok;
}

/* Writes every screenshot of the answer under dir, one file per entity,
 * going on after one that cannot be written; the answer's messages then
 * name exactly the entities written (apivoid_screenshots_written()).
 * Each file written is added to `done` as "entity: dir/name (N bytes)".
 * False when any was not written. */
static bool write_screenshots(cJSON *out, const char *dir, GPtrArray *done)
{
	const cJSON *shot;
	cJSON *written = cJSON_CreateArray(), *unwritten = cJSON_CreateArray();
	GHashTable *used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0) {
		char *shown = ctl_printable(dir);

		fprintf(stderr, PROG ": %s: %s\n", shown, g_strerror(errno));
		g_free(shown);
	}
	cJSON_ArrayForEach(shot, cJSON_GetObjectItem(out, "screenshots")) {
		const char *entity = cJSON_GetStringValue(cJSON_GetObjectItem(shot, "entity"));
		char *name = screenshot_name(entity, cJSON_GetStringValue(
			cJSON_GetObjectItem(shot, "format")), used);
		gsize len = 0;

		if (dirfd >= 0 && write_one(dirfd, dir, name, cJSON_GetStringValue(
				cJSON_GetObjectItem(shot, "base64_file")), &len)) {
			cJSON_AddItemToArray(written, cJSON_CreateString(entity));
			g_ptr_array_add(done, g_strdup_printf("%s: %s/%s (%zu bytes)", entity, dir,
							      name, (size_t)len));
		} else {
			cJSON_AddItemToArray(unwritten, cJSON_CreateString(entity));
		}
		g_free(name);
	}
	if (dirfd >= 0)
		close(dirfd);
	bool ok = cJSON_GetArraySize(unwritten) == 0;

	apivoid_screenshots_written(out, written, unwritten);
	cJSON_Delete(written);
	cJSON_Delete(unwritten);
	g_hash_table_unref(used);
	return ok;
}

/* The messages, then one line per enriched entity: its enrichment
 * fields and whether the threshold marks it suspicious. Every text of
 * the answer (entities, field names, values) through ctl_printable(): a
 * hostile answer cannot drive the terminal. */
static void print_text(const cJSON *out)
{
	const cJSON *line, *entity, *field;
	const cJSON *suspicious = cJSON_GetObjectItem(out, "suspicious");

	cJSON_ArrayForEach(line, cJSON_GetObjectItem(out, "messages"))
		ctl_print_line(stdout, cJSON_GetStringValue(line));
	cJSON_ArrayForEach(entity, cJSON_GetObjectItem(out, "enrichment")) {
		GString *text = g_string_new("  ");
		bool marked = false;
		const cJSON *s;

		cJSON_ArrayForEach(s, suspicious)
			marked = marked || g_strcmp0(cJSON_GetStringValue(s), entity->string) == 0;
		g_string_append_printf(text, "%s%s:", entity->string, marked ? " (suspicious)" : "");
		cJSON_ArrayForEach(field, entity) {
			char *value = cJSON_IsString(field) ? g_strdup(field->valuestring)
							    : cJSON_PrintUnformatted(field);

			g_string_append_printf(text, " %s=%s", field->string, value);
			if (cJSON_IsString(field))
				g_free(value);
			else
				cJSON_free(value);
		}
		ctl_print_line(stdout, text->str);
		g_string_free(text, TRUE);
	}
}

static int run(const struct integration *in, const char *ca_file, const char *action_name,
	       cJSON *args, bool json, const char *outdir)
{
	struct provider_run pr = { .in = in, .ca_file = ca_file };
	const struct provider_action *action = provider_action_find(in->type, action_name);
	GPtrArray *done = g_ptr_array_new_with_free_func(g_free);
	char err[512] = "";
	cJSON *out;
	int rc = 0;

	if (action == NULL) {
		char *shown = ctl_printable(action_name);

		fprintf(stderr, PROG ": unknown action '%s' (see --help)\n", shown);
		g_free(shown);
		g_ptr_array_unref(done);
		return 2;
	}
	if (!provider_runner_init()) {
		fprintf(stderr, PROG ": cannot initialise libcurl or c-ares\n");
		g_ptr_array_unref(done);
		return 1;
	}
	out = provider_run_action(&pr, action, args, err, sizeof(err));
	if (out == NULL) {
		ctl_print_line(stdout, err);	/* may quote the provider's own text */
		rc = 1;
	} else {
		/* the files first: the messages say which were written */
		if (cJSON_GetArraySize(cJSON_GetObjectItem(out, "screenshots")) > 0 &&
		    !write_screenshots(out, outdir, done))
			rc = 1;
		if (json) {
			cJSON *results = cJSON_GetObjectItem(out, "results");
			char *text = ctl_json_text(results ? results : out);

			printf("%s\n", text);
			g_free(text);
		} else {
			print_text(out);
		}
		for (guint i = 0; i < done->len; i++)
			ctl_print_line(stdout, g_ptr_array_index(done, i));
	}
	fflush(stdout);
	cJSON_Delete(out);
	g_ptr_array_unref(done);
	provider_runner_cleanup();
	return rc;
}

/* "12", "-3": what the action's threshold reads (a usage error else). */
static bool whole_number(const char *text)
{
	char *end;

	errno = 0;
	(void)strtol(text, &end, 10);
	return end != text && *end == '\0' && errno == 0;
}

int ctl_apivoid_main(int argc, char **argv, const char *config_path)
{
	static const struct ctl_syntax syntax = {
		.order = CTL_ORDER_ANY, .usage = usage, .usage_on_error = true, .min_args = 1,
	};
	const char *name = NULL, *threshold = NULL, *outdir = ".";
	bool json = false;
	const struct ctl_option options[] = {
		{ "integration", 'i', &name, NULL },
		{ "threshold", 't', &threshold, NULL },
		{ "json", 'j', NULL, &json },
		{ "output-dir", 'o', &outdir, NULL },
		{ NULL, 0, NULL, NULL },
	};
	char err[512];
	int next, rc = ctl_parse_options(argc, argv, options, &syntax, &next);

	if (rc != CTL_CONTINUE)
		return rc;
	if (threshold != NULL && !whole_number(threshold)) {
		fprintf(stderr, PROG ": --threshold takes a whole number\n");
		usage(stderr);
		return 2;
	}
	struct tm_config *cfg = cli_load_config(config_path, err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, PROG ": ");
		ctl_print_line(stderr, err);	/* may quote a Proxy or APIURL */
		return 2;
	}
	const struct integration *in = choose(cfg, name);
	if (in == NULL) {
		fprintf(stderr, PROG ": %s\n", name ? "no APIVoid integration of that name"
						    : "no APIVoid integration configured");
		config_unref(cfg);
		return 2;
	}
	cJSON *args = cJSON_CreateObject();
	cJSON *entities = cJSON_AddArrayToObject(args, "entities");
	for (int i = next + 1; i < argc; i++)
		cJSON_AddItemToArray(entities, cJSON_CreateString(argv[i]));
	if (threshold != NULL)
		cJSON_AddStringToObject(args, "threshold", threshold);
	rc = run(in, cfg->ca_cert_file, argv[next], args, json, outdir);
	cJSON_Delete(args);
	config_unref(cfg);
	return rc;
}
