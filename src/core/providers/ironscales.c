/* ironscales.c: the IRONSCALES actions of the seed (../shared/seeds/
 * 004_*.txt; calls in ../shared/providers/ironscales.md §1, §3, §5, §6):
 *
 *   ping                 token exchange + GET incident/{C}/open/ (§5)
 *   classify             per id: GET its details (current classification),
 *                        then POST incident/{C}/classify/{id}
 *   incident             per id: GET incident/{C}/details/{id}
 *   impersonation        GET mitigation/{C}/impersonation/details/?period=N
 *   mitigations          GET mitigation/{C}/incidents/details/?period=N
 *   mailbox-mitigations  POST mitigation/{C}/details/, page after page up
 *                        to "Max Pages to Fetch"
 *
 * Messages are the seed's, word for word, with three deliberate
 * differences: id lists are joined with ", " (the shipped code: new
 * lines); the seed's stray "+" before {period} ("for the +{period}", a
 * typo the shipped code does not print) is left out; the seed's trailing
 * blank after the progress line is left out. The "No details ... were
 * found" lines are the shipped code's (the seed has none for an empty
 * period). Two lines are threatmilter's own: "Fetched N of M pages (Max
 * Pages to Fetch is K)" when pages are left, and the client's note when it
 * waited out a throttled answer. An unknown id is no failure (the seed's "should not fail"
 * lists); every other error answer stops the action with the seed's
 * failure message. Answers: ironscales.h. */
#include "providers/ironscales.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "providers/provider.h"

/* The API says when a period holds more than this (§3.4, the seed). */
#define INCIDENT_LIMIT 1000
#define LIMIT_MESSAGE "Results are limited to the latest 1000 incidents"
/* An upper bound for "Max Pages to Fetch" (a typo must not mean hours). */
#define MAX_PAGES_LIMIT 1000

/* One running action: its session, the messages so far, and the seed's
 * failure message to put in front of a reason. */
struct action {
	struct ironscales_session session;
	cJSON *messages;
	const char *failure;
	char *err;
	size_t errlen;
};

/* Puts "<failure><reason>" into err; NULL for the run function to return. */
static cJSON *fail(struct action *a, const char *reason)
{
	char *text = g_strconcat(a->failure, reason, NULL);

	snprintf(a->err, a->errlen, "%s", text);
	g_free(text);
	return NULL;
}

static void say(struct action *a, const char *text)
{
	cJSON_AddItemToArray(a->messages, cJSON_CreateString(text));
}

/* Moves the session's notes (throttle waits) into the messages. */
static void take_notes(struct action *a)
{
	for (guint i = 0; i < a->session.notes->len; i++)
		say(a, g_ptr_array_index(a->session.notes, i));
	g_ptr_array_set_size(a->session.notes, 0);
}

static bool start(struct action *a, const struct provider_run *run, const char *failure,
		  char *err, size_t errlen)
{
	char reason[256];

	memset(a, 0, sizeof(*a));
	a->failure = failure;
	a->err = err;
	a->errlen = errlen;
	if (!ironscales_session_init(&a->session, run, reason, sizeof(reason))) {
		fail(a, reason);
		return false;
	}
	a->messages = cJSON_CreateArray();
	return true;
}

/* The action's answer ({"messages", "result"}), or NULL when it failed;
 * frees the rest either way. */
static cJSON *finish(struct action *a, cJSON *result, bool ok)
{
	cJSON *answer = NULL;

	if (ok) {
		take_notes(a);
		answer = cJSON_CreateObject();
		cJSON_AddItemToObject(answer, "messages", a->messages);
		cJSON_AddItemToObject(answer, "result", result ? result : cJSON_CreateNull());
	} else {
		cJSON_Delete(a->messages);
		cJSON_Delete(result);
	}
	ironscales_session_clear(&a->session);
	return answer;
}

/* One call; on a failure other than "not found" err gets the seed's
 * failure message. */
static cJSON *call(struct action *a, const char *method, const char *path, const cJSON *body,
		   bool *not_found)
{
	char reason[512];
	bool missing = false;
	cJSON *json = ironscales_call(&a->session, method, path, body, &missing, reason,
				      sizeof(reason));

	take_notes(a);
	if (not_found != NULL)
		*not_found = missing;
	if (json == NULL && !(missing && not_found != NULL))
		fail(a, reason);
	return json;
}

static const char *arg(const cJSON *args, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, name));
}

static GPtrArray *ids_arg(struct action *a, const cJSON *args)
{
	char reason[128];
	GPtrArray *ids = ironscales_parse_ids(arg(args, "ids"), reason, sizeof(reason));

	if (ids == NULL)
		fail(a, reason);
	return ids;
}

/* start() and then the "ids" argument: NULL when either fails (the
 * action is then over, err set). */
static GPtrArray *start_with_ids(struct action *a, const struct provider_run *run,
				 const char *failure, const cJSON *args, char *err, size_t errlen)
{
	GPtrArray *ids;

	if (!start(a, run, failure, err, errlen))
		return NULL;
	ids = ids_arg(a, args);
	if (ids == NULL)
		finish(a, NULL, false);
	return ids;
}

/* Says "<before>1001, 1002<after>" when ids is not empty. */
static void say_ids(struct action *a, const char *before, const GPtrArray *ids,
		    const char *after)
{
	GString *text = g_string_new(before);

	if (ids->len == 0) {
		g_string_free(text, TRUE);
		return;
	}
	for (guint i = 0; i < ids->len; i++)
		g_string_append_printf(text, "%s%s", i ? ", " : "",
				       (const char *)g_ptr_array_index(ids, i));
	g_string_append(text, after);
	say(a, text->str);
	g_string_free(text, TRUE);
}

static cJSON *id_numbers(const GPtrArray *ids)
{
	cJSON *list = cJSON_CreateArray();

	for (guint i = 0; i < ids->len; i++)
		cJSON_AddItemToArray(list, cJSON_CreateNumber(
			g_ascii_strtod(g_ptr_array_index(ids, i), NULL)));
	return list;
}

/* The period argument (default: the seed's for the action); -1 and err
 * set when it is none of the seed's labels. */
static int period_arg(struct action *a, const cJSON *args, const char *fallback)
{
	const char *label = arg(args, "period");
	int period = ironscales_period_find(label ? label : fallback);

	if (period < 0) {
		char *shown = provider_printable(label, 60);
		char *reason = g_strdup_printf("unknown period '%s'", shown ? shown : "");

		fail(a, reason);
		g_free(reason);
		g_free(shown);
	}
	return period;
}

/* ---------------------------------------------------------------- ping */

static cJSON *ping_run(const struct provider_run *run, const cJSON *args, char *err,
		       size_t errlen)
{
	struct action a;
	cJSON *json;

	(void)args;
	if (!start(&a, run, "Failed to connect to the IRONSCALES server! Error is ", err, errlen))
		return NULL;
	json = call(&a, "GET", "incident/{C}/open/", NULL, NULL);
	if (json == NULL)
		return finish(&a, NULL, false);
	cJSON_Delete(json);
	say(&a, "Successfully connected to the IRONSCALES server with the provided connection "
		"parameters!");
	return finish(&a, NULL, true);
}

/* ------------------------------------------------------------ classify */

/* The seed's DDL (Attack, False positive, Spam) as the API spells it
 * (§3.3); the command line's false-positive too. NULL: none of them. */
static const char *classification_of(const char *text)
{
	static const struct {
		const char *given, *api;
	} names[] = {
		{ "attack", "Attack" }, { "false-positive", "False Positive" },
		{ "false positive", "False Positive" }, { "spam", "Spam" },
	};

	for (size_t i = 0; text != NULL && i < G_N_ELEMENTS(names); i++)
		if (strcasecmp(names[i].given, text) == 0)
			return names[i].api;
	return NULL;
}

/* GETs the incident for its current classification, then sets the new
 * one. False with err set when the action must stop; *done says whether
 * the id was classified (false: not found). */
static bool classify_one(struct action *a, const char *id, const char *classification,
			 const char *user, bool *done)
{
	char *path = g_strdup_printf("incident/{C}/details/%s", id);
	bool missing = false;
	cJSON *incident = call(a, "GET", path, NULL, &missing), *body, *answer;
	const char *prev;

	g_free(path);
	*done = false;
	if (incident == NULL)
		return missing;
	prev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(incident, "classification"));
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "classification", classification);
	cJSON_AddStringToObject(body, "prev_classification", prev && *prev ? prev : "Report");
	cJSON_AddStringToObject(body, "classifying_user_email", user);
	cJSON_Delete(incident);
	path = g_strdup_printf("incident/{C}/classify/%s", id);
	answer = call(a, "POST", path, body, &missing);
	g_free(path);
	cJSON_Delete(body);
	if (answer == NULL)
		return missing;
	*done = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(answer, "success"));
	cJSON_Delete(answer);
	return true;
}

static cJSON *classify_run(const struct provider_run *run, const cJSON *args, char *err,
			   size_t errlen)
{
	const char *classification = classification_of(arg(args, "classification"));
	const char *user = arg(args, "user");
	GPtrArray *ids, *done, *failed;
	struct action a;
	bool ok = true;

	ids = start_with_ids(&a, run, "Error executing action \"Classify Incident\". Reason: ",
			     args, err, errlen);
	if (ids == NULL)
		return NULL;
	if (classification == NULL || user == NULL || strchr(user, '@') == NULL) {
		fail(&a, classification == NULL ? "the new classification is none of Attack, "
			 "False positive, Spam" : "the classifying user's email is not an address");
		g_ptr_array_unref(ids);
		return finish(&a, NULL, false);
	}
	done = g_ptr_array_new();
	failed = g_ptr_array_new();
	for (guint i = 0; ok && i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		bool classified;

		ok = classify_one(&a, id, classification, user, &classified);
		g_ptr_array_add(classified ? done : failed, (gpointer)id);
	}
	cJSON *result = NULL;
	if (ok) {
		char *before = g_strdup_printf("Successfully classified incidents to %s. "
					       "Incident IDs: ", classification);

		say_ids(&a, before, done, ".");
		say_ids(&a, "Couldn't classify the following incident IDs: ", failed, ".");
		g_free(before);
		/* the seed has no JSON result here; scripts get the two lists */
		result = cJSON_CreateObject();
		cJSON_AddStringToObject(result, "classification", classification);
		cJSON_AddItemToObject(result, "classified", id_numbers(done));
		cJSON_AddItemToObject(result, "not_found", id_numbers(failed));
	}
	g_ptr_array_unref(done);
	g_ptr_array_unref(failed);
	g_ptr_array_unref(ids);
	return finish(&a, result, ok);
}

/* ------------------------------------------------------------ incident */

static cJSON *incident_run(const struct provider_run *run, const cJSON *args, char *err,
			   size_t errlen)
{
	GPtrArray *ids, *found, *missing_ids;
	cJSON *result;
	struct action a;
	bool ok = true;

	ids = start_with_ids(&a, run, "Error executing action \"Get Incident Details\" : ", args,
			     err, errlen);
	if (ids == NULL)
		return NULL;
	result = cJSON_CreateArray();
	found = g_ptr_array_new();
	missing_ids = g_ptr_array_new();
	for (guint i = 0; ok && i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		char *path = g_strdup_printf("incident/{C}/details/%s", id);
		bool missing = false;
		cJSON *incident = call(&a, "GET", path, NULL, &missing);

		g_free(path);
		if (incident != NULL) {
			cJSON_AddItemToArray(result, incident);
			g_ptr_array_add(found, (gpointer)id);
		} else if (missing) {
			g_ptr_array_add(missing_ids, (gpointer)id);
		} else {
			ok = false;
		}
	}
	if (ok) {
		say_ids(&a, "Successfully fetched incidents details from IRONSCALES. incident "
			"IDs: ", found, ".");
		say_ids(&a, "Action wasn't able to fetch incident details for incident IDs: ",
			missing_ids, " Reason : incidents IDs weren't found.");
	}
	g_ptr_array_unref(found);
	g_ptr_array_unref(missing_ids);
	g_ptr_array_unref(ids);
	return finish(&a, result, ok);
}

/* --------------------------------------------------- the period actions */

/* The API's "messages" of a page (the 1,000-incident note among them),
 * said; the note also when a page holds the limit and says nothing. */
static void say_api_messages(struct action *a, const cJSON *page, const char *list_name)
{
	const cJSON *messages = cJSON_GetObjectItemCaseSensitive(page, "messages");
	const cJSON *item;
	int count = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, list_name));
	bool noted = false;

	cJSON_ArrayForEach(item, messages) {
		char *text = cJSON_IsString(item) ? provider_printable(item->valuestring, 500)
						  : NULL;
		if (text != NULL) {
			say(a, text);
			noted = true;
		}
		g_free(text);
	}
	if (!noted && count >= INCIDENT_LIMIT)
		say(a, LIMIT_MESSAGE);
}

/* "Successfully fetched details of <what> for the <period>", or the
 * shipped code's "No details of <what> were found for the <period>". */
static void say_fetched(struct action *a, const char *what, int period, bool empty)
{
	char *text = empty
		? g_strdup_printf("No details of %s were found for the %s", what,
				  ironscales_period_label(period))
		: g_strdup_printf("Successfully fetched details of %s for the %s", what,
				  ironscales_period_label(period));

	say(a, text);
	g_free(text);
}

/* Impersonation and incident mitigation details: one GET, the envelope
 * as the answer (the seed's JSON result). */
static cJSON *period_run(const struct provider_run *run, const cJSON *args, char *err,
			 size_t errlen, const char *failure, const char *path, const char *what)
{
	struct action a;
	cJSON *page;
	char *url;
	int period;

	if (!start(&a, run, failure, err, errlen))
		return NULL;
	if ((period = period_arg(&a, args, "Last 24 hours")) < 0)
		return finish(&a, NULL, false);
	url = g_strdup_printf("%s?period=%d", path, period);
	page = call(&a, "GET", url, NULL, NULL);
	g_free(url);
	if (page == NULL)
		return finish(&a, NULL, false);
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(page, "incidents"))) {
		fail(&a, "the answer has no incidents list");
		return finish(&a, page, false);
	}
	say_api_messages(&a, page, "incidents");
	say_fetched(&a, what, period,
		    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "incidents")) == 0);
	return finish(&a, page, true);
}

static cJSON *impersonation_run(const struct provider_run *run, const cJSON *args, char *err,
				size_t errlen)
{
	return period_run(run, args, err, errlen,
			  "Error executing action \"Get Mitigation impersonation details\". "
			  "Reason: ", "mitigation/{C}/impersonation/details/",
			  "impersonation mitigations");
}

static cJSON *mitigations_run(const struct provider_run *run, const cJSON *args, char *err,
			      size_t errlen)
{
	return period_run(run, args, err, errlen,
			  "Error executing action \"Get Incident Mitigation details\". Reason: ",
			  "mitigation/{C}/incidents/details/", "incident mitigations");
}

/* ------------------------------------------------- mailbox-mitigations */

/* A count from the answer or the arguments: a number or its digits, 0
 * when absent, negative or not a number, at most 1e6. */
static int count_of(const cJSON *item)
{
	double value = cJSON_IsNumber(item) ? item->valuedouble : 0;

	if (cJSON_IsString(item)) {
		const char *text = item->valuestring;

		if (*text == '\0' || strspn(text, "0123456789") != strlen(text) ||
		    strlen(text) > 7)
			return 0;
		value = g_ascii_strtod(text, NULL);
	}
	return value >= 0 && value <= 1e6 ? (int)value : 0;
}

/* page n of §3.6; its mitigations and messages appended to the result. */
static bool fetch_page(struct action *a, const GPtrArray *ids, int period, int n,
		       cJSON *result, int *total_pages)
{
	cJSON *body = cJSON_CreateObject(), *page, *items;

	cJSON_AddItemToObject(body, "incidents", id_numbers(ids));
	cJSON_AddNumberToObject(body, "period", period);
	cJSON_AddNumberToObject(body, "page", n);
	page = call(a, "POST", "mitigation/{C}/details/", body, NULL);
	cJSON_Delete(body);
	if (page == NULL)
		return false;
	items = cJSON_GetObjectItemCaseSensitive(page, "mitigations");
	if (!cJSON_IsArray(items)) {
		fail(a, "the answer has no mitigations list");
		cJSON_Delete(page);
		return false;
	}
	*total_pages = count_of(cJSON_GetObjectItemCaseSensitive(page, "total_pages"));
	cJSON_ReplaceItemInObject(result, "page", cJSON_CreateNumber(n));
	cJSON_ReplaceItemInObject(result, "total_pages", cJSON_CreateNumber(*total_pages));
	cJSON *all = cJSON_GetObjectItemCaseSensitive(result, "mitigations");
	while (cJSON_GetArraySize(items) > 0)
		cJSON_AddItemToArray(all, cJSON_DetachItemFromArray(items, 0));
	say_api_messages(a, page, "mitigations");
	cJSON *messages = cJSON_GetObjectItemCaseSensitive(page, "messages");
	cJSON *kept = cJSON_GetObjectItemCaseSensitive(result, "messages");
	while (cJSON_IsArray(messages) && cJSON_GetArraySize(messages) > 0)
		cJSON_AddItemToArray(kept, cJSON_DetachItemFromArray(messages, 0));
	cJSON_Delete(page);
	return true;
}

/* The seed's paging: page 1, then while the last page read is below both
 * total_pages and Max Pages to Fetch, the next one with the progress
 * line. The answer is the seed's envelope with every page's mitigations. */
static cJSON *mailbox_run(const struct provider_run *run, const cJSON *args, char *err,
			  size_t errlen)
{
	const cJSON *pages_arg = cJSON_GetObjectItemCaseSensitive(args, "max_pages");
	int max_pages = pages_arg ? count_of(pages_arg) : 1, period, total = 0, n = 1;
	struct action a;
	GPtrArray *ids;
	cJSON *result;
	bool ok;

	if (!start(&a, run, "Error executing action \"Get Mitigations Per Mailbox\". Reason: ",
		   err, errlen))
		return NULL;
	if ((period = period_arg(&a, args, "All time")) < 0)
		return finish(&a, NULL, false);
	if (max_pages < 1 || max_pages > MAX_PAGES_LIMIT) {
		fail(&a, "Max Pages to Fetch must be a number from 1 to 1000");
		return finish(&a, NULL, false);
	}
	if ((ids = ids_arg(&a, args)) == NULL)
		return finish(&a, NULL, false);
	result = cJSON_CreateObject();
	cJSON_AddNumberToObject(result, "page", 1);
	cJSON_AddNumberToObject(result, "total_pages", 0);
	cJSON_AddArrayToObject(result, "mitigations");
	cJSON_AddArrayToObject(result, "messages");
	ok = fetch_page(&a, ids, period, n, result, &total);
	while (ok && n < total && n < max_pages) {
		char *text = g_strdup_printf("Continuing...fetching incident mitigations per "
					     "mailbox, page %d out of %d", ++n, total);
		say(&a, text);
		g_free(text);
		ok = fetch_page(&a, ids, period, n, result, &total);
	}
	if (ok && n < total) {
		char *text = g_strdup_printf("Fetched %d of %d pages (Max Pages to Fetch is %d)",
					     n, total, max_pages);
		say(&a, text);
		g_free(text);
	}
	if (ok)
		say_fetched(&a, "incident mitigations per mailbox", period,
			    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(result,
										"mitigations")) == 0);
	g_ptr_array_unref(ids);
	return finish(&a, result, ok);
}

/* ------------------------------------------------------------ the table */

static const struct provider_action_arg classify_args[] = {
	{ "ids", "Incidents IDs, comma separated", true },
	{ "classification", "New Classification: attack, false-positive or spam", true },
	{ "user", "Classifying User Email (a user IRONSCALES knows)", true },
	{ NULL, NULL, false },
};
static const struct provider_action_arg ids_args[] = {
	{ "ids", "Incidents IDs, comma separated", true }, { NULL, NULL, false },
};
static const struct provider_action_arg period_args[] = {
	{ "period", "Period (default: Last 24 hours)", false }, { NULL, NULL, false },
};
static const struct provider_action_arg mailbox_args[] = {
	{ "ids", "Incident IDs, comma separated", true },
	{ "period", "Period (default: All time)", false },
	{ "max_pages", "Max Pages to Fetch (default: 1)", false },
	{ NULL, NULL, false },
};

static const struct provider_action ping = {
	"ping", "Test connectivity: token exchange and the company's open incidents",
	NULL, ping_run,
};
static const struct provider_action classify = {
	"classify", "Change incidents classification", classify_args, classify_run,
};
static const struct provider_action incident = {
	"incident", "Get full incident details from IRONSCALES", ids_args, incident_run,
};
static const struct provider_action impersonation = {
	"impersonation", "Get latest company impersonation incidents", period_args,
	impersonation_run,
};
static const struct provider_action mitigations = {
	"mitigations", "Get latest company mitigation details", period_args, mitigations_run,
};
static const struct provider_action mailbox = {
	"mailbox-mitigations", "Get details of mitigations per mailbox", mailbox_args,
	mailbox_run,
};

const struct provider_action *const ironscales_actions[] = {
	&ping, &classify, &incident, &impersonation, &mitigations, &mailbox, NULL,
};
