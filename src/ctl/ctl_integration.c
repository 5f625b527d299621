/* ctl_integration.c: `threatmilterctl integration list|show|delete|test`,
 * the seed's Integrations page (../shared/seeds/000_*.txt, "Integrations":
 * Name, Type, Description, Status, Date Created, and Tags to filter by)
 * and its Test Connection button. add/edit/enable/disable are in
 * ctl_integration_edit.c. */
#include "ctl/ctl.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "cli/testconn.h"
#include "config/integration_schema.h"
#include "config/integration_write.h"
#include "config/integrations.h"
#include "ctl/ctl_options.h"
#include "providers/registry.h"

static void integration_usage(FILE *out)
{
	fputs("usage: threatmilterctl [-c FILE] integration COMMAND ...\n"
	      "  list [--tag T] [--type T] [--status active|inactive] [--json]\n"
	      "  show NAME [--json]\n"
	      "  add NAME --type TYPE [--key -|--key-file F] [--password -|--password-file F]\n"
	      "      [--FIELD VALUE ...] [--no-reload]\n"
	      "  edit NAME --FIELD VALUE ... [--no-reload]\n"
	      "  enable NAME | disable NAME [--no-reload]\n"
	      "  delete NAME [--yes] [--no-reload]\n"
	      "  test NAME... | --all\n"
	      "FIELD is a key of the integration file (APIURL, DetectionThreshold, Tags, ...)\n"
	      "or the form's label (\"api-url\", \"sender-ip\"); see threatmilterctl(8).\n",
	      out);
}

static char *tags_text(const struct integration *in)
{
	const struct integration_key *k = integration_schema_find("Tags");
	char *text = integration_get_value(in, k);

	return text != NULL ? text : g_strdup("");
}

static bool has_tag(const struct integration *in, const char *tag)
{
	for (guint i = 0; in->tags != NULL && i < in->tags->len; i++)
		if (g_ascii_strcasecmp(g_ptr_array_index(in->tags, i), tag) == 0)
			return true;
	return false;
}

static bool type_matches(const struct integration *in, const char *type)
{
	return g_ascii_strcasecmp(in->type->name, type) == 0 ||
	       g_ascii_strcasecmp(in->type->display_name, type) == 0;
}

static cJSON *row_json(const struct integration *in)
{
	cJSON *o = cJSON_CreateObject(), *tags = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "Name", in->name);
	cJSON_AddStringToObject(o, "Type", in->type->name);
	cJSON_AddStringToObject(o, "Description", in->description ? in->description : "");
	cJSON_AddStringToObject(o, "Status", in->active ? "active" : "inactive");
	cJSON_AddStringToObject(o, "Created", in->created ? in->created : "");
	for (guint i = 0; in->tags != NULL && i < in->tags->len; i++)
		cJSON_AddItemToArray(tags, cJSON_CreateString(g_ptr_array_index(in->tags, i)));
	cJSON_AddItemToObject(o, "Tags", tags);
	cJSON_AddStringToObject(o, "File", in->file);
	return o;
}

static void print_json(cJSON *json)
{
	char *text = cJSON_Print(json);

	puts(text);
	cJSON_free(text);
	cJSON_Delete(json);
}

static const char *const table_head[] = { "NAME", "TYPE", "DESCRIPTION", "STATUS", "CREATED",
					  "TAGS" };
enum { COLS = G_N_ELEMENTS(table_head) };

/* One line of the table: every cell but the last padded to its column. */
static void print_row(const char *const *cells, const size_t *width)
{
	for (int c = 0; c < COLS; c++)
		printf("%-*s%s", c < COLS - 1 ? (int)width[c] : 0, cells[c],
		       c < COLS - 1 ? "  " : "\n");
}

/* The page as a table: columns as wide as their widest cell (in bytes;
 * names and types are ASCII, a description may not be). */
static void print_table(GPtrArray *rows)
{
	size_t width[COLS];

	for (int c = 0; c < COLS; c++)
		width[c] = strlen(table_head[c]);
	for (guint r = 0; r < rows->len; r++) {
		char **cells = g_ptr_array_index(rows, r);

		for (int c = 0; c < COLS; c++)
			width[c] = MAX(width[c], strlen(cells[c]));
	}
	print_row(table_head, width);
	for (guint r = 0; r < rows->len; r++)
		print_row((const char *const *)g_ptr_array_index(rows, r), width);
}

static int cmd_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_syntax syntax = {
		.order = CTL_ORDER_FIRST, .usage = integration_usage,
	};
	const char *tag = NULL, *type = NULL, *status = NULL;
	bool json = false;
	const struct ctl_option options[] = {
		{ "tag", 0, &tag, NULL },
		{ "type", 0, &type, NULL },
		{ "status", 0, &status, NULL },
		{ "json", 0, NULL, &json },
		{ NULL, 0, NULL, NULL },
	};
	unsigned broken;
	int next, rc = ctl_parse_options(argc, argv, options, &syntax, &next);

	if (rc != CTL_CONTINUE)
		return rc;
	if (next < argc || (status != NULL && strcmp(status, "active") != 0 &&
			      strcmp(status, "inactive") != 0)) {
		ctl_error("usage: integration list [--tag T] [--type T] "
			  "[--status active|inactive] [--json]");
		return CTL_USAGE;
	}
	GPtrArray *list = ctl_load_integrations(ctl, &broken);
	GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	cJSON *array = cJSON_CreateArray();

	for (guint i = 0; i < list->len; i++) {
		const struct integration *in = g_ptr_array_index(list, i);

		if ((tag && !has_tag(in, tag)) || (type && !type_matches(in, type)) ||
		    (status && (strcmp(status, "active") == 0) != in->active))
			continue;
		if (json) {
			cJSON_AddItemToArray(array, row_json(in));
			continue;
		}
		char **cells = g_new0(char *, 7);
		cells[0] = g_strdup(in->name);
		cells[1] = g_strdup(in->type->name);
		cells[2] = g_strdup(in->description ? in->description : "");
		cells[3] = g_strdup(in->active ? "active" : "inactive");
		cells[4] = g_strdup(in->created ? in->created : "");
		cells[5] = tags_text(in);
		g_ptr_array_add(rows, cells);
	}
	if (json)
		print_json(array);
	else {
		cJSON_Delete(array);
		print_table(rows);
	}
	g_ptr_array_unref(rows);
	g_ptr_array_unref(list);
	return broken ? CTL_FAIL : CTL_OK;
}

/* Every key `integration_print` shows, masked, as one JSON object. */
static cJSON *show_json(const struct integration *in)
{
	cJSON *o = cJSON_CreateObject();
	const struct integration_key *k;

	for (unsigned i = 0; (k = integration_schema_at(i)) != NULL; i++) {
		char *value = integration_shown_value(in, k);
		char *def = integration_key_default(k, in->type);

		if (value != NULL &&
		    (integration_key_applies(k, in->type) || g_strcmp0(def, value) != 0))
			cJSON_AddStringToObject(o, k->name, value);
		g_free(value);
		g_free(def);
	}
	cJSON_AddStringToObject(o, "File", in->file);
	return o;
}

/* `show` and `delete` share: one NAME and a flag, then the integration
 * of that name, pointing into *list (the caller unrefs it). NULL with the
 * exit status in *rc when there is nothing more to do: --help (CTL_OK),
 * a usage error ("usage: " + usage printed) or no integration of that
 * name (CTL_USAGE). */
static struct integration *named_integration(const struct ctl *ctl, int argc, char **argv,
					     const char *flag, bool *set, const char *usage,
					     GPtrArray **list, int *rc)
{
	const char *name = NULL;

	*rc = CTL_USAGE;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			integration_usage(stdout);
			*rc = CTL_OK;
			return NULL;
		}
		if (strcmp(argv[i], flag) == 0) {
			*set = true;
		} else if (argv[i][0] != '-' && name == NULL) {
			name = argv[i];
		} else if (strcmp(argv[i], "--no-reload") != 0) {
			name = NULL;
			break;
		}
	}
	if (name == NULL) {
		ctl_error("usage: %s", usage);
		return NULL;
	}
	return ctl_load_named(ctl, name, list);
}

static int cmd_show(struct ctl *ctl, int argc, char **argv)
{
	GPtrArray *list;
	bool json = false;
	int rc;
	struct integration *in = named_integration(ctl, argc, argv, "--json", &json,
						   "integration show NAME [--json]", &list, &rc);

	if (in == NULL)
		return rc;
	if (json) {
		print_json(show_json(in));
	} else {
		printf("# %s\n", in->file);
		integration_print(in, stdout);
	}
	g_ptr_array_unref(list);
	return CTL_OK;
}

static int cmd_delete(struct ctl *ctl, int argc, char **argv)
{
	GPtrArray *list;
	bool yes = false;
	int rc;
	struct integration *in = named_integration(ctl, argc, argv, "--yes", &yes,
						   "integration delete NAME [--yes] [--no-reload]",
						   &list, &rc);

	if (in == NULL)
		return rc;
	const char *name = in->name;

	if (!yes) {
		char answer[16] = "";

		if (!isatty(STDIN_FILENO)) {
			ctl_error("delete %s: add --yes (standard input is not a terminal)", name);
			g_ptr_array_unref(list);
			return CTL_USAGE;
		}
		fprintf(stderr, "Delete integration %s (%s)? [y/N] ", name, in->file);
		if (fgets(answer, sizeof(answer), stdin) == NULL ||
		    (answer[0] != 'y' && answer[0] != 'Y')) {
			fprintf(stderr, "not deleted\n");
			g_ptr_array_unref(list);
			return CTL_FAIL;
		}
	}
	if (unlink(in->file) != 0) {
		ctl_error("%s: %s", in->file, g_strerror(errno));
		g_ptr_array_unref(list);
		return CTL_FAIL;
	}
	printf("deleted %s (%s)\n", name, in->file);
	g_ptr_array_unref(list);
	return ctl_reload(ctl);
}

/* Test Connection: exactly `threatmilter test -c CONFIG NAME...`. */
static int cmd_test(struct ctl *ctl, int argc, char **argv)
{
	GPtrArray *args = g_ptr_array_new();
	bool all = false;
	int rc;

	g_ptr_array_add(args, (gpointer) "test");
	g_ptr_array_add(args, (gpointer) "-c");
	g_ptr_array_add(args, (gpointer)ctl->config_path);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0) {
			all = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: threatmilterctl [-c FILE] integration test NAME... | --all\n");
			g_ptr_array_unref(args);
			return CTL_OK;
		} else if (argv[i][0] == '-') {
			ctl_error("integration test: unknown option '%s'", argv[i]);
			g_ptr_array_unref(args);
			return CTL_USAGE;
		} else {
			g_ptr_array_add(args, argv[i]);
		}
	}
	if (all == (args->len > 3)) {
		ctl_error("usage: integration test NAME... | --all");
		g_ptr_array_unref(args);
		return CTL_USAGE;
	}
	g_ptr_array_add(args, NULL);
	rc = testconn_main((int)args->len - 1, (char **)args->pdata);
	g_ptr_array_unref(args);
	return rc;
}

int ctl_integration_main(struct ctl *ctl, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (verb == NULL || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 ||
	    strcmp(verb, "help") == 0) {
		integration_usage(verb ? stdout : stderr);
		return verb ? CTL_OK : CTL_USAGE;
	}
	argc--;
	argv++;
	if (strcmp(verb, "list") == 0)
		return cmd_list(ctl, argc, argv);
	if (strcmp(verb, "show") == 0)
		return cmd_show(ctl, argc, argv);
	if (strcmp(verb, "delete") == 0)
		return cmd_delete(ctl, argc, argv);
	if (strcmp(verb, "test") == 0)
		return cmd_test(ctl, argc, argv);
	if (strcmp(verb, "add") == 0 || strcmp(verb, "edit") == 0 ||
	    strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0)
		return ctl_integration_change(ctl, argc, argv);
	ctl_error("unknown integration command '%s' (see integration --help)", verb);
	return CTL_USAGE;
}
