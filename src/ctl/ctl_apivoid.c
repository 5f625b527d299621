/* ctl_apivoid.c: threatmilterctl apivoid [--integration NAME]
 * domain|ip|url|email|screenshot|ping ENTITY... [--threshold N] [--json]
 * [--output-dir DIR] (ctl_apivoid.h; threatmilterctl(8)). */
#include <autoconfig.h>

#include "ctl/ctl_apivoid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "config/config.h"
#include "config/integrations.h"
#include "ctl/ctl_options.h"
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
 * FILE_NAME_MAX bytes: never a path, never a hidden file. */
static char *screenshot_name(const char *url, const char *format)
{
	const char *p = strstr(url, "://");
	GString *name = g_string_new(p ? p + 3 : url);
	char ext[8];

	snprintf(ext, sizeof(ext), "%s", g_ascii_strcasecmp(format, "jpg") == 0 ? "jpg" : "png");
	if (name->len > FILE_NAME_MAX - 16)
		g_string_truncate(name, FILE_NAME_MAX - 16);
	for (gsize i = 0; i < name->len; i++) {
		char c = name->str[i];

		if (!g_ascii_isalnum(c) && c != '.' && c != '-' && c != '_')
			name->str[i] = '_';
	}
	if (name->len > 0 && name->str[0] == '.')
		name->str[0] = '_';
	g_string_append_printf(name, "_capture.%s", ext);
	return g_string_free(name, FALSE);
}

/* Writes every screenshot of the answer under dir, each a new file
 * (O_EXCL | O_NOFOLLOW: an existing file or link is never overwritten).
 * False after the first that cannot be written. */
static bool write_screenshots(const cJSON *out, const char *dir)
{
	const cJSON *shot;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", dir, g_strerror(errno));
		return false;
	}
	cJSON_ArrayForEach(shot, cJSON_GetObjectItem(out, "screenshots")) {
		const char *entity = cJSON_GetStringValue(cJSON_GetObjectItem(shot, "entity"));
		const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItem(shot, "base64_file"));
		char *name = screenshot_name(entity, cJSON_GetStringValue(
			cJSON_GetObjectItem(shot, "format")));
		gsize len = 0;
		guchar *data = g_base64_decode(b64, &len);
		int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0644);
		bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;

		if (!ok)
			fprintf(stderr, PROG ": cannot write %s/%s: %s\n", dir, name,
				g_strerror(errno));
		else
			printf("%s: %s/%s (%zu bytes)\n", entity, dir, name, (size_t)len);
		if (fd >= 0 && close(fd) != 0)
			ok = false;
		g_free(data);
		g_free(name);
		if (!ok) {
			close(dirfd);
			return false;
		}
	}
	close(dirfd);
	return true;
}

/* The messages, then one line per enriched entity: its enrichment
 * fields and whether the threshold marks it suspicious. */
static void print_text(const cJSON *out)
{
	const cJSON *line, *entity, *field;
	const cJSON *suspicious = cJSON_GetObjectItem(out, "suspicious");

	cJSON_ArrayForEach(line, cJSON_GetObjectItem(out, "messages"))
		printf("%s\n", line->valuestring);
	cJSON_ArrayForEach(entity, cJSON_GetObjectItem(out, "enrichment")) {
		bool marked = false;
		const cJSON *s;

		cJSON_ArrayForEach(s, suspicious)
			marked = marked || strcmp(s->valuestring, entity->string) == 0;
		printf("  %s%s:", entity->string, marked ? " (suspicious)" : "");
		cJSON_ArrayForEach(field, entity) {
			char *value = cJSON_IsString(field) ? g_strdup(field->valuestring)
							    : cJSON_PrintUnformatted(field);

			printf(" %s=%s", field->string, value);
			if (cJSON_IsString(field))
				g_free(value);
			else
				cJSON_free(value);
		}
		printf("\n");
	}
}

static int run(const struct integration *in, const char *ca_file, const char *action_name,
	       cJSON *args, bool json, const char *outdir)
{
	struct provider_run pr = { .in = in, .ca_file = ca_file };
	const struct provider_action *action = provider_action_find(in->type, action_name);
	char err[512] = "";
	cJSON *out;
	int rc = 0;

	if (action == NULL) {
		fprintf(stderr, PROG ": unknown action '%s' (see --help)\n", action_name);
		return 2;
	}
	if (!provider_runner_init()) {
		fprintf(stderr, PROG ": cannot initialise libcurl or c-ares\n");
		return 1;
	}
	out = provider_run_action(&pr, action, args, err, sizeof(err));
	if (out == NULL) {
		printf("%s\n", err);
		rc = 1;
	} else {
		if (json) {
			cJSON *results = cJSON_GetObjectItem(out, "results");
			char *text = cJSON_Print(results ? results : out);

			printf("%s\n", text);
			cJSON_free(text);
		} else {
			print_text(out);
		}
		if (cJSON_GetObjectItem(out, "screenshots") != NULL && !write_screenshots(out, outdir))
			rc = 1;
	}
	fflush(stdout);
	cJSON_Delete(out);
	provider_runner_cleanup();
	return rc;
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
	struct tm_config *cfg = cli_load_config(config_path, err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
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
