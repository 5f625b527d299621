/* apivoid_actions.c: the APIVoid actions of the seed
 * (../shared/seeds/001_*.txt; ../shared/providers/apivoid.md §1, §6) as
 * provider actions, run by the synchronous runner with the client the
 * milter uses (apivoid_client.c).
 *
 * Arguments (a JSON object): "entities", an array of strings;
 * "threshold", a string holding a whole number (ip, domain, url, email;
 * absent: the integration's DetectionThreshold).
 *
 * The seed's rule, one way for every action: an entity is suspicious when
 * its blacklist detections (ip, domain), risk_score.result (url) or score
 * (email) is AT OR ABOVE the threshold, as the seed's text says ("gleich
 * oder höher"), not strictly above as its code (`> threshold`) does; a
 * threshold under 1 counts as 1, or `>=` would flag every entity.
 *
 * Answer: {"action": "Get Ip Reputation", "results": [{"Entity": e,
 * "EntityResult": {...}}] (the seed's JSON), "enrichment": {e: {"APIVoid_
 * ...": v}}, "suspicious": [e], "fetched": [e], "not_found": [e],
 * "failed": [e], "messages": ["APIVoid: Fetched reputation for the
 * following entities: ..."], "credits_remained": n} and for screenshots
 * "screenshots": [{"entity", "file_name", "format", "base64_file"}] and
 * "too_large": [e] (the caller writes the files, then has the messages
 * say which it wrote: apivoid_screenshots_written()). A refused key, no
 * credits or no answer at all (network, timeout) fail the whole action:
 * NULL and `Error executing action "APIVoid - <Action>". Reason: ...`. */
#include "providers/apivoid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "providers/sync_runner.h"
#include "util/netaddr.h"

#define SCREENSHOT_MAX_BYTES 3000000	/* the seed's 3 MB platform limit */

struct action_def {
	enum apivoid_call call;
	const char *title;		/* "Get Ip Reputation" */
	const char *fetched_msg;	/* success line, the seed's words */
	const char *not_found_msg;
	const char *nothing_msg;	/* no entity enriched, or none to ask */
};

/* The seed's words that the three reputation actions share. */
#define REPUTATION_FETCHED "APIVoid: Fetched reputation for the following entities: "
#define REPUTATION_NOT_FOUND "Can not found reputation for the following entities: "
#define NOTHING_ENRICHED "APIVoid: No entities were enriched."

static const struct action_def defs[] = {
	[APIVOID_IP] = { APIVOID_IP, "Get Ip Reputation",
			 REPUTATION_FETCHED, REPUTATION_NOT_FOUND, NOTHING_ENRICHED },
	[APIVOID_DOMAIN] = { APIVOID_DOMAIN, "Get Domain Reputation",
			     REPUTATION_FETCHED, REPUTATION_NOT_FOUND, NOTHING_ENRICHED },
	[APIVOID_URL] = { APIVOID_URL, "Get Url Reputation",
			  REPUTATION_FETCHED, REPUTATION_NOT_FOUND, "APIVoid: No URLs found." },
	[APIVOID_EMAIL] = { APIVOID_EMAIL, "Verify Email",
			    "APIVoid: Fetched information for the following entities: ",
			    "Could not find information for the following entities: ",
			    "APIVoid: No emails found." },
	[APIVOID_SCREENSHOT] = { APIVOID_SCREENSHOT, "Get Screenshot",
				 "APIVoid: Added screenshots for the following entities: ",
				 "No screenshots were found for the following entities: ",
				 "APIVoid: No URL entities found for capturing screenshots." },
};

/* ------------------------------------------------------------ entities */

/* The seed's "local@domain.tld" test (apivoid.md §1 item 7). */
static bool looks_like_email(const char *s)
{
	const char *at = strchr(s, '@');
	const char *dot = at ? strrchr(at, '.') : NULL;

	return at != NULL && at != s && strchr(at + 1, '@') == NULL && dot != NULL &&
	       dot > at + 1 && dot[1] != '\0' && strpbrk(s, " \t\r\n<>,;") == NULL;
}

/* The host a domain action sends: the host of a URL, lower case, no port,
 * no trailing dot (§1 item 5: the SecOps code sent the whole URL). */
static char *host_of(const char *entity)
{
	const char *p = strstr(entity, "://");
	char *host, *end;
	size_t len;

	p = p ? p + 3 : entity;
	host = g_ascii_strdown(p, -1);
	end = host + strcspn(host, "/?#");
	*end = '\0';
	if ((end = strrchr(host, '@')) != NULL)
		memmove(host, end + 1, strlen(end + 1) + 1);
	if (host[0] != '[' && (end = strchr(host, ':')) != NULL && strchr(end + 1, ':') == NULL)
		*end = '\0';
	len = strlen(host);
	while (len > 0 && host[len - 1] == '.')
		host[--len] = '\0';
	return host;
}

/* ----------------------------------------------------- result shapes */

/* blacklists.engines (an object keyed "0".."N" in v1) as a list without
 * the timing fields, as the seed's JSON result has it (§1 item 9). */
static void engines_as_list(cJSON *lists)
{
	cJSON *engines = cJSON_DetachItemFromObjectCaseSensitive(lists, "engines");
	cJSON *list = cJSON_CreateArray(), *item;

	if (engines == NULL) {
		cJSON_Delete(list);
		return;
	}
	while ((item = engines->child) != NULL) {
		cJSON_DetachItemViaPointer(engines, item);
		cJSON_DeleteItemFromObjectCaseSensitive(item, "elapsed");
		cJSON_DeleteItemFromObjectCaseSensitive(item, "elapsed_ms");
		cJSON_free(item->string);
		item->string = NULL;
		cJSON_AddItemToArray(list, item);
	}
	cJSON_Delete(engines);
	cJSON_AddItemToObject(lists, "engines", list);
}

static void add_prefixed(cJSON *out, const char *name, const cJSON *value)
{
	char *key = g_strconcat("APIVoid_", name, NULL);

	if (value != NULL && cJSON_GetObjectItemCaseSensitive(out, key) == NULL)
		cJSON_AddItemToObject(out, key, cJSON_Duplicate(value, true));
	g_free(key);
}

/* Every member of obj, objects flattened as parent_child. */
static void add_flat(cJSON *out, const char *prefix, const cJSON *obj)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, obj) {
		char *name = prefix ? g_strconcat(prefix, "_", item->string, NULL)
				    : g_strdup(item->string);

		if (cJSON_IsObject(item))
			add_flat(out, name, item);
		else
			add_prefixed(out, name, item);
		g_free(name);
	}
}

static const cJSON *get(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* The seed's enrichment table of each action (§3.1-§3.4). */
static cJSON *enrichment(enum apivoid_call call, const cJSON *report)
{
	static const char *const url_checks[] = { "is_external_redirect", "is_risky_geo_location",
						   "is_suspicious_domain", "is_domain_blacklisted" };
	static const char *const email_fields[] = { "suspicious_domain", "should_block", "score",
						    "disposable", "has_mx_records",
						    "has_spf_records" };
	cJSON *out = cJSON_CreateObject();
	const cJSON *lists = get(report, "blacklists");

	switch (call) {
	case APIVOID_IP:
		add_flat(out, NULL, get(report, "information"));
		add_flat(out, NULL, get(report, "anonymity"));
		add_prefixed(out, "detections", get(lists, "detections"));
		add_prefixed(out, "detection_rate", get(lists, "detection_rate"));
		add_prefixed(out, "engines_count", get(lists, "engines_count"));
		break;
	case APIVOID_DOMAIN: {
		cJSON *copy = cJSON_Duplicate(report, true);
		cJSON *server = cJSON_DetachItemFromObjectCaseSensitive(copy, "server");

		if (server == NULL)
			server = cJSON_DetachItemFromObjectCaseSensitive(copy, "server_details");
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "blacklists");
		add_flat(out, NULL, server);
		add_flat(out, NULL, copy);
		cJSON_Delete(server);
		cJSON_Delete(copy);
		break;
	}
	case APIVOID_URL:
		add_prefixed(out, "risk_score", get(get(report, "risk_score"), "result"));
		for (size_t i = 0; i < G_N_ELEMENTS(url_checks); i++)
			add_prefixed(out, url_checks[i], get(get(report, "security_checks"),
							     url_checks[i]));
		add_prefixed(out, "geo_location", get(get(report, "geo_location"), "countries"));
		break;
	case APIVOID_EMAIL:
		for (size_t i = 0; i < G_N_ELEMENTS(email_fields); i++)
			add_prefixed(out, email_fields[i], get(report, email_fields[i]));
		break;
	case APIVOID_SCREENSHOT:
	case APIVOID_STATS:
		break;
	}
	return out;
}

/* The seed's EntityResult of a report (§6). */
static cJSON *entity_result(enum apivoid_call call, const cJSON *report)
{
	cJSON *copy;

	if (call == APIVOID_SCREENSHOT) {
		copy = cJSON_CreateObject();
		cJSON_AddItemToObject(copy, "file_md5_hash",
				      cJSON_Duplicate(get(report, "file_md5_hash"), true)
					      ?: cJSON_CreateNull());
		return copy;
	}
	copy = cJSON_Duplicate(report, true);
	if (call == APIVOID_IP || call == APIVOID_DOMAIN)
		engines_as_list(cJSON_GetObjectItemCaseSensitive(copy, "blacklists"));
	else if (call == APIVOID_URL)
		engines_as_list(cJSON_GetObjectItemCaseSensitive(copy, "domain_blacklist"));
	return copy;
}

/* ------------------------------------------------------------ running */

struct action_state {
	const struct provider_run *run;
	const struct action_def *def;
	long threshold;
	unsigned entities;	/* asked (after the e-mail filter) */
	cJSON *out, *results, *enrich, *suspicious, *fetched, *not_found, *failed;
	cJSON *screenshots, *too_large;
};

/* One call, retried once on a transient failure (§4 "max 2 attempts"). */
static void call_once(const struct provider_run *run, enum apivoid_call call, const char *entity,
		      struct apivoid_answer *ans)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct provider_http_answer http = { 0 };
		struct http_request req;

		http_request_init(&req);
		apivoid_build(run->in, call, entity, &req);
		provider_run_http(run, &req, &http);
		apivoid_read(run->in, call, &http.resp, ans);
		provider_http_answer_clear(&http);
		http_request_clear(&req);
		if (ans->class != ANSWER_TRANSIENT || ans->error == LOOKUP_ERR_MALFORMED)
			return;
		if (attempt == 0)
			apivoid_answer_clear(ans);
	}
}

static bool is_suspicious(const struct action_state *st, const cJSON *report)
{
	long value;

	switch (st->def->call) {
	case APIVOID_IP:
	case APIVOID_DOMAIN:
		value = apivoid_detections(report, st->def->call);
		break;
	case APIVOID_URL:
		value = apivoid_risk_score(report);
		break;
	case APIVOID_EMAIL: {
		const cJSON *score = get(report, "score");

		/* a cast of NaN or a huge double is undefined: numbers in range only */
		value = cJSON_IsNumber(score) && score->valuedouble >= 0 &&
			score->valuedouble < 1e9 ? (long)score->valuedouble : -1;
		break;
	}
	default:
		return false;
	}
	return value >= 0 && value >= st->threshold;
}

static void add_screenshot(struct action_state *st, const char *entity, const cJSON *report)
{
	const cJSON *b64 = get(report, "base64_file");
	const cJSON *format = get(report, "format");
	double size = cJSON_GetNumberValue(get(report, "file_size_bytes"));
	cJSON *shot;

	if (!cJSON_IsString(b64))
		b64 = get(get(report, "rendered_file"), "base64_file");	/* v2, unverified */
	if (!cJSON_IsString(b64)) {
		cJSON_AddItemToArray(st->not_found, cJSON_CreateString(entity));
		return;
	}
	if ((size > 0 && size > SCREENSHOT_MAX_BYTES) ||
	    strlen(b64->valuestring) / 4 * 3 > SCREENSHOT_MAX_BYTES + 3) {
		cJSON_AddItemToArray(st->too_large, cJSON_CreateString(entity));
		return;
	}
	shot = cJSON_CreateObject();
	cJSON_AddStringToObject(shot, "entity", entity);
	cJSON_AddStringToObject(shot, "format",
				cJSON_IsString(format) ? format->valuestring : "png");
	cJSON_AddStringToObject(shot, "base64_file", b64->valuestring);
	cJSON_AddItemToArray(st->screenshots, shot);
	cJSON_AddItemToArray(st->fetched, cJSON_CreateString(entity));
}

/* One entity; false when the whole action must stop (err set). */
static bool run_entity(struct action_state *st, const char *entity, char *err, size_t errlen)
{
	enum apivoid_call call = st->def->call;
	char *sent = call == APIVOID_DOMAIN ? host_of(entity) : g_strdup(entity);
	struct apivoid_answer ans;
	cJSON *item;

	call_once(st->run, call, sent, &ans);
	g_free(sent);
	if (ans.class == ANSWER_AUTH || ans.class == ANSWER_QUOTA ||
	    ans.error == LOOKUP_ERR_TRANSPORT || ans.error == LOOKUP_ERR_TIMEOUT) {
		snprintf(err, errlen, "Error executing action \"APIVoid - %s\". Reason: %s",
			 st->def->title, ans.class == ANSWER_AUTH ? "API key is invalid." : ans.message);
		apivoid_answer_clear(&ans);
		return false;
	}
	if (ans.credits >= 0)
		cJSON_ReplaceItemInObject(st->out, "credits_remained", cJSON_CreateNumber(ans.credits));
	if (ans.class != ANSWER_DECIDED) {
		cJSON_AddItemToArray(st->failed, cJSON_CreateString(entity));
	} else if (ans.report == NULL) {
		cJSON_AddItemToArray(st->not_found, cJSON_CreateString(entity));
	} else if (call == APIVOID_SCREENSHOT) {
		add_screenshot(st, entity, ans.report);
	} else {
		cJSON_AddItemToArray(st->fetched, cJSON_CreateString(entity));
		if (is_suspicious(st, ans.report))
			cJSON_AddItemToArray(st->suspicious, cJSON_CreateString(entity));
		cJSON_AddItemToObject(st->enrich, entity, enrichment(call, ans.report));
	}
	if (ans.class == ANSWER_DECIDED && ans.report != NULL) {
		item = cJSON_CreateObject();
		cJSON_AddStringToObject(item, "Entity", entity);
		cJSON_AddItemToObject(item, "EntityResult", entity_result(call, ans.report));
		cJSON_AddItemToArray(st->results, item);
	}
	apivoid_answer_clear(&ans);
	return true;
}

/* "<template><a>, <b>" when list is not empty. */
static void add_list_message(cJSON *messages, const char *template, const cJSON *list)
{
	GString *line;
	const cJSON *item;

	if (cJSON_GetArraySize(list) == 0)
		return;
	line = g_string_new(template);
	cJSON_ArrayForEach(item, list)
		g_string_append_printf(line, "%s%s", item == list->child ? "" : ", ",
				       item->valuestring);
	cJSON_AddItemToArray(messages, cJSON_CreateString(line->str));
	g_string_free(line, TRUE);
}

/* out's "messages" (replaced) from its lists; `entities`: how many were
 * asked. */
static void add_messages(cJSON *out, const struct action_def *def, unsigned entities)
{
	const cJSON *fetched = get(out, "fetched"), *too_large = get(out, "too_large");
	cJSON *messages = cJSON_CreateArray();

	cJSON_ReplaceItemInObjectCaseSensitive(out, "messages", messages);
	if (get(out, "messages") != messages)
		cJSON_AddItemToObject(out, "messages", messages);
	add_list_message(messages, def->fetched_msg, fetched);
	add_list_message(messages, "An error occurred on the following entities: ",
			 get(out, "failed"));
	add_list_message(messages, def->not_found_msg, get(out, "not_found"));
	if (too_large != NULL)
		add_list_message(messages,
				 "Failed to add screenshots as attachments on the following "
				 "entities: ", too_large);
	/* screenshots: "no URL entities" means none given, not none found */
	if (cJSON_GetArraySize(fetched) == 0 &&
	    (def->call != APIVOID_SCREENSHOT || entities == 0))
		cJSON_AddItemToArray(messages, cJSON_CreateString(def->nothing_msg));
}

void apivoid_screenshots_written(cJSON *out, const cJSON *written, const cJSON *unwritten)
{
	cJSON *too_large = cJSON_GetObjectItemCaseSensitive(out, "too_large");
	const cJSON *item;

	if (too_large == NULL)
		too_large = cJSON_AddArrayToObject(out, "too_large");
	cJSON_ArrayForEach(item, unwritten)
		cJSON_AddItemToArray(too_large, cJSON_Duplicate(item, true));
	cJSON_ReplaceItemInObjectCaseSensitive(out, "fetched", cJSON_Duplicate(written, true));
	add_messages(out, &defs[APIVOID_SCREENSHOT], 1);
}

/* The threshold argument (a whole number, as the seed casts it). */
static bool read_threshold(const struct provider_run *run, const cJSON *args,
			   enum apivoid_call call, long *out)
{
	const cJSON *arg = get(args, "threshold");
	char *end;

	/* the seed makes it a required argument; without one, what the
	 * milter uses: a URL's 0-100 risk score has its own band */
	*out = call == APIVOID_URL ? APIVOID_URL_RISK_SUSPICIOUS
				   : (long)run->in->detection_threshold;
	if (cJSON_IsString(arg)) {
		*out = strtol(arg->valuestring, &end, 10);
		if (end == arg->valuestring || *end != '\0')
			return false;
	} else if (cJSON_IsNumber(arg)) {
		*out = (long)arg->valuedouble;
	}
	if (*out < 1)
		*out = 1;
	return true;
}

/* Whether the IP action skips it: an internal address (§1 item 7; the
 * seed skips entities marked internal), which would only cost a credit. */
static bool internal_ip(const char *text)
{
	struct net_addr addr;

	return net_addr_parse(text, &addr) && net_addr_is_private(&addr);
}

/* The entities the action runs on; the e-mail action drops identifiers
 * that are no address, the IP action internal addresses, all of them
 * empty ones. */
static GPtrArray *entities_of(enum apivoid_call call, const cJSON *args)
{
	GPtrArray *list = g_ptr_array_new();
	const cJSON *item;

	cJSON_ArrayForEach(item, get(args, "entities")) {
		if (!cJSON_IsString(item) || item->valuestring[0] == '\0')
			continue;
		if (call == APIVOID_EMAIL && !looks_like_email(item->valuestring))
			continue;
		if (call == APIVOID_IP && internal_ip(item->valuestring))
			continue;
		g_ptr_array_add(list, item->valuestring);
	}
	return list;
}

static cJSON *run_action(const struct provider_run *run, const cJSON *args,
			 enum apivoid_call call, char *err, size_t errlen)
{
	struct action_state st = { .run = run, .def = &defs[call] };
	GPtrArray *entities;

	if (!read_threshold(run, args, call, &st.threshold)) {
		snprintf(err, errlen, "Error executing action \"APIVoid - %s\". Reason: "
			 "the threshold must be a whole number", st.def->title);
		return NULL;
	}
	st.out = cJSON_CreateObject();
	cJSON_AddStringToObject(st.out, "action", st.def->title);
	cJSON_AddNumberToObject(st.out, "threshold", (double)st.threshold);
	cJSON_AddNullToObject(st.out, "credits_remained");
	st.results = cJSON_AddArrayToObject(st.out, "results");
	st.enrich = cJSON_AddObjectToObject(st.out, "enrichment");
	st.suspicious = cJSON_AddArrayToObject(st.out, "suspicious");
	st.fetched = cJSON_AddArrayToObject(st.out, "fetched");
	st.not_found = cJSON_AddArrayToObject(st.out, "not_found");
	st.failed = cJSON_AddArrayToObject(st.out, "failed");
	if (call == APIVOID_SCREENSHOT) {
		st.screenshots = cJSON_AddArrayToObject(st.out, "screenshots");
		st.too_large = cJSON_AddArrayToObject(st.out, "too_large");
	}
	entities = entities_of(call, args);
	st.entities = entities->len;
	for (guint i = 0; i < entities->len; i++) {
		if (!run_entity(&st, g_ptr_array_index(entities, i), err, errlen)) {
			g_ptr_array_free(entities, TRUE);
			cJSON_Delete(st.out);
			return NULL;
		}
	}
	g_ptr_array_free(entities, TRUE);
	add_messages(st.out, st.def, st.entities);
	return st.out;
}

#define ACTION_RUN(fn, call)                                                                 \
	static cJSON *fn(const struct provider_run *run, const cJSON *args, char *err,       \
			 size_t errlen)                                                      \
	{                                                                                    \
		return run_action(run, args, call, err, errlen);                             \
	}
ACTION_RUN(run_ip, APIVOID_IP)
ACTION_RUN(run_domain, APIVOID_DOMAIN)
ACTION_RUN(run_url, APIVOID_URL)
ACTION_RUN(run_email, APIVOID_EMAIL)
ACTION_RUN(run_screenshot, APIVOID_SCREENSHOT)

/* Ping: the Test Connection call (v1 "?stats", free) with the seed's
 * messages ("Connected successfully." / Error executing action ...). */
static cJSON *run_ping(const struct provider_run *run, const cJSON *args, char *err,
		       size_t errlen)
{
	struct apivoid_answer ans;
	cJSON *out;

	(void)args;
	call_once(run, APIVOID_STATS, "", &ans);
	if (ans.class != ANSWER_DECIDED) {
		snprintf(err, errlen, "Error executing action \"APIVoid - Ping\". Reason: %s",
			 ans.class == ANSWER_AUTH ? "API key is invalid." : ans.message);
		apivoid_answer_clear(&ans);
		return NULL;
	}
	out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "ok", true);
	if (ans.credits >= 0)
		cJSON_AddNumberToObject(out, "credits_remained", ans.credits);
	cJSON_AddItemToObject(out, "messages", cJSON_CreateStringArray(
		(const char *const[]){ "Connected successfully." }, 1));
	apivoid_answer_clear(&ans);
	return out;
}

static const struct provider_action_arg entity_args[] = {
	{ "entities", "the entities (a JSON array of strings)", true },
	{ "threshold", "suspicious at or above this number (default: DetectionThreshold; url: 70)", false },
	{ NULL, NULL, false },
};
static const struct provider_action_arg screenshot_args[] = {
	{ "entities", "the URLs (a JSON array of strings)", true },
	{ NULL, NULL, false },
};

static const struct provider_action ip_action = {
	"ip", "Get IP Reputation: blacklist detections of IP addresses", entity_args, run_ip };
static const struct provider_action domain_action = {
	"domain", "Get Domain Reputation: blacklist detections of host names", entity_args,
	run_domain };
static const struct provider_action url_action = {
	"url", "Get URL Reputation: risk score of URLs", entity_args, run_url };
static const struct provider_action email_action = {
	"email", "Verify Email: disposable, MX/SPF records, should_block, score", entity_args,
	run_email };
static const struct provider_action screenshot_action = {
	"screenshot", "Get Screenshot: a PNG/JPG of each URL", screenshot_args, run_screenshot };
static const struct provider_action ping_action = {
	"ping", "Test Connection: the account's credits (v1 ?stats; v2 one IP lookup)", NULL,
	run_ping };

const struct provider_action *const apivoid_actions[] = {
	&ping_action, &ip_action, &domain_action, &url_action, &email_action, &screenshot_action,
	NULL,
};
