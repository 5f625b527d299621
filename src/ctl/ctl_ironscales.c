/* ctl_ironscales.c: `threatmilterctl ironscales [--integration NAME]
 * ACTION ...` (ctl_ironscales.h). Parses the arguments into the action's
 * JSON arguments, runs the action of providers/ironscales.c with the
 * synchronous runner and prints its messages and result. */
#include "ctl/ctl_ironscales.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "config/config.h"
#include "config/integrations.h"
#include "ctl/ctl_options.h"
#include "ctl/ctl_print.h"
#include "providers/ironscales.h"
#include "providers/provider.h"
#include "providers/registry.h"
#include "providers/sync_runner.h"

#define PROG "threatmilterctl ironscales"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: threatmilterctl [-c FILE] ironscales [--integration NAME] ACTION [--json]\n"
		"  ping\n"
		"  classify IDS --as attack|false-positive|spam --by EMAIL\n"
		"  incident IDS\n"
		"  impersonation [--period P]          (default: \"Last 24 hours\")\n"
		"  mitigations [--period P]            (default: \"Last 24 hours\")\n"
		"  mailbox-mitigations IDS [--period P] [--max-pages N]\n"
		"                                      (default: \"All time\", 1 page)\n"
		"IDS: incident ids, comma separated (or several arguments).\n"
		"P: ");
	for (int i = 0; i < IRONSCALES_PERIODS; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", ironscales_period_label(i));
	fprintf(out, ".\n--json prints the seed's JSON result (messages go to stderr).\n");
}

struct options {
	const char *integration, *as, *by, *period, *max_pages;
	bool json;
};

/* Options, then the action's arguments ("ids" from the positional ones)
 * as a new object in *out. Returns CTL_CONTINUE, or the exit status after
 * --help or a usage error (its message printed); *out is then untouched. */
static int parse(int argc, char **argv, struct options *o, const char **action, cJSON **out)
{
	static const struct ctl_syntax syntax = {
		.order = CTL_ORDER_ANY, .usage = usage, .usage_on_error = true, .min_args = 1,
	};
	const struct ctl_option options[] = {
		{ "integration", 'i', &o->integration, NULL },
		{ "as", 0, &o->as, NULL },
		{ "by", 0, &o->by, NULL },
		{ "period", 0, &o->period, NULL },
		{ "max-pages", 0, &o->max_pages, NULL },
		{ "json", 0, NULL, &o->json },
		{ NULL, 0, NULL, NULL },
	};
	int next, rc = ctl_parse_options(argc, argv, options, &syntax, &next);

	if (rc != CTL_CONTINUE)
		return rc;
	*action = argv[next++];
	cJSON *args = cJSON_CreateObject();
	if (next < argc) {
		GString *ids = g_string_new(NULL);

		for (int i = next; i < argc; i++)
			g_string_append_printf(ids, "%s%s", ids->len ? "," : "", argv[i]);
		cJSON_AddStringToObject(args, "ids", ids->str);
		g_string_free(ids, TRUE);
	}
	if (o->as)
		cJSON_AddStringToObject(args, "classification", o->as);
	if (o->by)
		cJSON_AddStringToObject(args, "user", o->by);
	if (o->period)
		cJSON_AddStringToObject(args, "period", o->period);
	if (o->max_pages)
		cJSON_AddStringToObject(args, "max_pages", o->max_pages);
	*out = args;
	return CTL_CONTINUE;
}

/* The arguments the action takes, and their values, checked before any
 * request: false with a message printed. */
static bool check_args(const struct provider_action *action, const cJSON *args)
{
	const cJSON *item;
	char err[256];

	cJSON_ArrayForEach(item, args) {
		bool known = false;

		for (const struct provider_action_arg *a = action->args; a && a->name; a++)
			known = known || strcmp(a->name, item->string) == 0;
		if (!known) {
			fprintf(stderr, "%s %s: %s is not an argument of this action (see --help)\n",
				PROG, action->name, strcmp(item->string, "ids") == 0
				? "an incident id list" : item->string);
			return false;
		}
	}
	for (const struct provider_action_arg *a = action->args; a && a->name; a++) {
		if (a->required && cJSON_GetObjectItemCaseSensitive(args, a->name) == NULL) {
			fprintf(stderr, "%s %s: missing %s\n", PROG, action->name, a->help);
			return false;
		}
	}
	const char *period = cJSON_GetStringValue(cJSON_GetObjectItem(args, "period"));
	if (period != NULL && ironscales_period_find(period) < 0) {
		fprintf(stderr, "%s: unknown period (see --help for the list)\n", PROG);
		return false;
	}
	const char *pages = cJSON_GetStringValue(cJSON_GetObjectItem(args, "max_pages"));
	if (pages != NULL && (strspn(pages, "0123456789") != strlen(pages) ||
			      strlen(pages) > 4 || atoi(pages) < 1 || atoi(pages) > 1000)) {
		fprintf(stderr, "%s: --max-pages takes a number from 1 to 1000\n", PROG);
		return false;
	}
	const char *ids = cJSON_GetStringValue(cJSON_GetObjectItem(args, "ids"));
	GPtrArray *list = ids ? ironscales_parse_ids(ids, err, sizeof(err)) : NULL;
	if (ids != NULL && list == NULL) {
		fprintf(stderr, "%s %s: %s\n", PROG, action->name, err);
		return false;
	}
	if (list != NULL)
		g_ptr_array_unref(list);
	return true;
}

/* --integration NAME, else the configuration's only IRONSCALES one. */
static const struct integration *choose(const struct tm_config *cfg, const char *name)
{
	const struct integration *found = NULL;
	unsigned count = 0;

	for (guint i = 0; i < cfg->integrations->len; i++) {
		const struct integration *in = g_ptr_array_index(cfg->integrations, i);

		if (name != NULL && strcmp(in->name, name) == 0) {
			if (in->type != provider_type_find("ironscales")) {
				fprintf(stderr, "%s: integration '%s' is of type %s, not ironscales\n",
					PROG, name, in->type->name);
				return NULL;
			}
			return in;
		}
		if (name == NULL && in->type == provider_type_find("ironscales")) {
			found = in;
			count++;
		}
	}
	if (name != NULL)
		fprintf(stderr, "%s: no integration named '%s'\n", PROG, name);
	else if (count == 0)
		fprintf(stderr, "%s: no IRONSCALES integration is configured\n", PROG);
	else if (count > 1)
		fprintf(stderr, "%s: several IRONSCALES integrations; choose one with "
			"--integration NAME\n", PROG);
	return count == 1 ? found : NULL;
}

/* A value of the answer fit for a terminal line. */
static char *field(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	char *text, *printable;

	if (cJSON_IsString(item))
		text = g_strdup(item->valuestring);
	else if (cJSON_IsNumber(item))
		text = g_strdup_printf("%.0f", item->valuedouble);
	else if (cJSON_IsBool(item))
		text = g_strdup(cJSON_IsTrue(item) ? "true" : "false");
	else
		text = g_strdup("-");
	printable = provider_printable(text, 80);
	g_free(text);
	return printable ? printable : g_strdup("-");
}

/* One line per item of list: the named fields, tab separated. */
static void print_rows(const cJSON *list, const char *const *names)
{
	const cJSON *item;

	for (size_t i = 0; names[i]; i++)
		printf("%s%s", i ? "\t" : "", names[i]);
	printf("\n");
	cJSON_ArrayForEach(item, list) {
		for (size_t i = 0; names[i]; i++) {
			char *value = field(item, names[i]);

			printf("%s%s", i ? "\t" : "", value);
			g_free(value);
		}
		printf("\n");
	}
}

static void print_result(const char *action, const cJSON *result)
{
	static const char *const incident[] = {
		"incident_id", "classification", "first_reported_date", "sender_email",
		"affected_mailbox_count", "themis_verdict", NULL };
	static const char *const impersonation[] = {
		"incidentID", "remediatedTime", "mailboxEmail", "senderEmail", "incidentType",
		"subject", NULL };
	static const char *const mitigation[] = {
		"incidentID", "remediatedTime", "mailboxEmail", "senderEmail", "threatType",
		"subject", NULL };
	static const char *const mailbox[] = {
		"incidentID", "mitigationID", "mailboxEmail", "senderIP", "spfResult",
		"resolution", NULL };
	const cJSON *incidents = cJSON_GetObjectItemCaseSensitive(result, "incidents");

	if (strcmp(action, "incident") == 0 && cJSON_GetArraySize(result) > 0)
		print_rows(result, incident);
	else if (strcmp(action, "impersonation") == 0 && cJSON_GetArraySize(incidents) > 0)
		print_rows(incidents, impersonation);
	else if (strcmp(action, "mitigations") == 0 && cJSON_GetArraySize(incidents) > 0)
		print_rows(incidents, mitigation);
	else if (strcmp(action, "mailbox-mitigations") == 0 &&
		 cJSON_GetArraySize(cJSON_GetObjectItem(result, "mitigations")) > 0)
		print_rows(cJSON_GetObjectItem(result, "mitigations"), mailbox);
}

static int run_action(const struct tm_config *cfg, const struct integration *in,
		      const struct provider_action *action, const cJSON *args, bool json)
{
	struct provider_run run = { .in = in, .ca_file = cfg->ca_cert_file };
	char err[1024] = "";
	const cJSON *message;
	cJSON *answer;

	if (!provider_runner_init()) {
		fprintf(stderr, "%s: cannot initialise libcurl\n", PROG);
		return 2;
	}
	answer = provider_run_action(&run, action, args, err, sizeof(err));
	provider_runner_cleanup();
	if (answer == NULL) {
		ctl_print_line(stderr, err);	/* may quote the provider's own text */
		return 1;
	}
	cJSON_ArrayForEach(message, cJSON_GetObjectItem(answer, "messages"))
		ctl_print_line(json ? stderr : stdout, cJSON_GetStringValue(message));
	const cJSON *result = cJSON_GetObjectItem(answer, "result");
	if (json && !cJSON_IsNull(result)) {
		char *text = ctl_json_text(result);

		printf("%s\n", text);
		g_free(text);
	} else if (!json) {
		print_result(action->name, result);
	}
	cJSON_Delete(answer);
	return 0;
}

int ctl_ironscales_main(int argc, char **argv, const char *config_path)
{
	struct options o = { 0 };
	const char *name = NULL;
	cJSON *args = NULL;
	int status = parse(argc, argv, &o, &name, &args);
	const struct provider_action *action;
	struct tm_config *cfg;
	const struct integration *in;
	char err[1024];

	if (status != CTL_CONTINUE)
		return status;
	status = 2;
	action = provider_action_find(provider_type_find("ironscales"), name);
	if (action == NULL) {
		fprintf(stderr, "%s: unknown action '%s' (see --help)\n", PROG, name);
		cJSON_Delete(args);
		return 2;
	}
	if (!check_args(action, args)) {
		cJSON_Delete(args);
		return 2;
	}
	cfg = cli_load_config(config_path, err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "%s: ", PROG);
		ctl_print_line(stderr, err);	/* may quote a Proxy or APIURL */
		cJSON_Delete(args);
		return 2;
	}
	in = choose(cfg, o.integration);
	if (in != NULL && !in->active && strcmp(action->name, "ping") != 0)
		fprintf(stderr, "%s: integration '%s' is inactive (only ping runs on it)\n", PROG,
			in->name);
	else if (in != NULL)
		status = run_action(cfg, in, action, args, o.json);
	cJSON_Delete(args);
	config_unref(cfg);
	return status;
}
