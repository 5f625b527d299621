/* provider_test_util.c: the provider unit tests' shared helpers
 * (provider_test_util.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "provider_test_util.h"

static const char *const secrets[] = { VT_KEY, GOOGLE_KEY, XF_KEY, XF_PASS, DQS_KEY, MD_KEY };

struct integration pt_integration(const char *type_name, const char *api_url, const char *key,
				  const char *password, unsigned threshold)
{
	struct integration in = {
		.name = (char *)type_name,
		.type = provider_type_find(type_name),
		.api_url = (char *)api_url,
		.api_key = (char *)key,
		.api_password = (char *)password,
		.detection_threshold = threshold,
		.active = true,
		.verify_ssl = true,
		.timeout_ms = 5000,
	};
	assert_non_null(in.type);
	return in;
}

struct lookup *pt_lookup_new(const struct integration *in, enum indicator_kind kind,
			     const char *indicator)
{
	struct lookup *lookup = g_new0(struct lookup, 1);

	lookup->integration = in;
	lookup->kind = kind;
	lookup->indicator = g_strdup(indicator);
	lookup->result.status = LOOKUP_SKIPPED;
	return lookup;
}

void pt_lookup_del(struct lookup *lookup)
{
	g_free(lookup->indicator);
	g_free(lookup->result.details);
	g_free(lookup);
}

bool provider_supports_kind(const char *type_name, enum indicator_kind kind)
{
	return provider_supports(provider_type_find(type_name), kind);
}

void pt_build(const struct integration *in, struct lookup *const *batch, size_t n,
	      struct http_request *req)
{
	http_request_init(req);
	assert_true(n <= MAX(in->type->ops.http->max_batch, 1));
	in->type->ops.http->build_request(in, batch, n, req);
}

bool pt_has_header(const struct http_request *req, const char *header)
{
	for (guint i = 0; i < req->headers->len; i++)
		if (strcmp(g_ptr_array_index(req->headers, i), header) == 0)
			return true;
	return false;
}

void pt_assert_get(const struct integration *in, enum indicator_kind kind, const char *indicator,
		   const char *expected_url, const char *key_header, const char *basic_auth)
{
	struct lookup *l = pt_lookup_new(in, kind, indicator);
	struct http_request req;

	pt_build(in, &l, 1, &req);
	assert_string_equal(req.url->str, expected_url);
	assert_string_equal(req.method, "GET");
	assert_null(req.body);
	assert_null(req.parts);
	assert_true(pt_has_header(&req, "Accept: application/json"));
	if (key_header != NULL)
		assert_true(pt_has_header(&req, key_header));
	if (basic_auth == NULL) {
		assert_null(req.basic_auth);
	} else {
		assert_non_null(req.basic_auth);
		assert_string_equal(req.basic_auth, basic_auth);
		assert_false(pt_has_header_named(&req, "Authorization"));
	}
	if ((key_header != NULL || basic_auth != NULL) && in->api_key != NULL)
		assert_null(strstr(req.url->str, in->api_key));
	if (basic_auth != NULL && in->api_password != NULL)
		assert_null(strstr(req.url->str, in->api_password));
	http_request_clear(&req);
	pt_lookup_del(l);
}

bool pt_has_header_named(const struct http_request *req, const char *name)
{
	size_t len = strlen(name);

	for (guint i = 0; i < req->headers->len; i++) {
		const char *h = g_ptr_array_index(req->headers, i);

		if (g_ascii_strncasecmp(h, name, len) == 0 && h[len] == ':')
			return true;
	}
	return false;
}

enum answer_class pt_parse_batch(const struct integration *in, struct lookup *const *batch,
				 size_t n, long status, const char *body)
{
	struct http_response resp = {
		.status = status,
		.body = body,
		.body_len = strlen(body),
		.retry_after_s = -1,
	};

	if (status == 0)
		return provider_http_failure(batch, n, &resp);
	return provider_parse_answer(in, batch, n, &resp);
}

enum answer_class pt_parse(const struct integration *in, struct lookup *lookup, long status,
			   const char *body)
{
	return pt_parse_batch(in, &lookup, 1, status, body);
}

void pt_assert_no_secret(const char *text)
{
	for (size_t i = 0; text != NULL && i < G_N_ELEMENTS(secrets); i++)
		assert_null(strstr(text, secrets[i]));
}

static void assert_error_kind(const struct lookup *lookup)
{
	bool failed = lookup->result.status == LOOKUP_ERROR ||
		      lookup->result.status == LOOKUP_RATE_LIMITED;

	if (failed != (lookup->result.error != LOOKUP_ERR_NONE))
		fail_msg("%s %s: status %s with error kind '%s'", indicator_kind_name(lookup->kind),
			 lookup->indicator, lookup_status_name(lookup->result.status),
			 lookup_error_name(lookup->result.error));
}

void pt_assert_result(const struct lookup *lookup, enum lookup_status status,
		      const char *details)
{
	assert_string_equal(lookup_status_name(lookup->result.status), lookup_status_name(status));
	if (details == NULL) {
		assert_null(lookup->result.details);
	} else {
		assert_non_null(lookup->result.details);
		assert_string_equal(lookup->result.details, details);
	}
	assert_error_kind(lookup);
	pt_assert_no_secret(lookup->result.details);
}

/* ------------------------------------------------------------ fixtures */

static cJSON *load_fixture(const char *provider)
{
	char *path = g_strdup_printf("%s/mock/fixtures/%s.json", TEST_SRCDIR, provider);
	char *text = NULL;
	cJSON *json;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		fail_msg("cannot read %s", path);
	json = cJSON_Parse(text);
	if (json == NULL)
		fail_msg("%s: not JSON", path);
	g_free(text);
	g_free(path);
	return json;
}

/* The item at a dotted path ("verdicts.ip.malicious"). */
static const cJSON *at_path(const cJSON *root, const char *path)
{
	char **names = g_strsplit(path, ".", -1);
	const cJSON *item = root;

	for (char **name = names; *name != NULL && item != NULL; name++)
		item = cJSON_GetObjectItemCaseSensitive(item, *name);
	g_strfreev(names);
	return item;
}

/* "${name}" inside text: the value's text (strings as they are). */
static char *fill_text(const char *text, const cJSON *values)
{
	GString *out = g_string_new(NULL);
	const char *p = text;
	const char *open;

	while ((open = strstr(p, "${")) != NULL) {
		const char *close = strchr(open, '}');
		char *name;
		const cJSON *value;

		if (close == NULL)
			break;
		g_string_append_len(out, p, open - p);
		name = g_strndup(open + 2, (gsize)(close - open - 2));
		value = cJSON_GetObjectItemCaseSensitive(values, name);
		if (cJSON_IsString(value)) {
			g_string_append(out, value->valuestring);
		} else if (value != NULL) {
			char *printed = cJSON_PrintUnformatted(value);
			g_string_append(out, printed);
			cJSON_free(printed);
		} else {	/* like safe_substitute: left as it is */
			g_string_append_len(out, open, close - open + 1);
		}
		g_free(name);
		p = close + 1;
	}
	g_string_append(out, p);
	return g_string_free(out, FALSE);
}

/* The mock's render(): NULL for "$omit". */
static cJSON *render(const cJSON *tpl, const cJSON *values)
{
	if (cJSON_IsObject(tpl) || cJSON_IsArray(tpl)) {
		cJSON *out = cJSON_IsObject(tpl) ? cJSON_CreateObject() : cJSON_CreateArray();
		const cJSON *item;

		cJSON_ArrayForEach(item, tpl) {
			cJSON *value = render(item, values);

			if (value == NULL)
				continue;
			if (cJSON_IsObject(tpl)) {
				char *key = fill_text(item->string, values);
				cJSON_AddItemToObject(out, key, value);
				g_free(key);
			} else {
				cJSON_AddItemToArray(out, value);
			}
		}
		return out;
	}
	if (!cJSON_IsString(tpl))
		return cJSON_Duplicate(tpl, true);
	const char *text = tpl->valuestring;
	size_t len = strlen(text);
	if (len > 3 && g_str_has_prefix(text, "${") && text[len - 1] == '}' &&
	    strchr(text + 2, '}') == text + len - 1) {
		char *name = g_strndup(text + 2, len - 3);
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(values, name);

		g_free(name);
		if (value != NULL)
			return cJSON_IsString(value) && strcmp(value->valuestring, "$omit") == 0
			       ? NULL : cJSON_Duplicate(value, true);
	}
	char *filled = fill_text(text, values);
	cJSON *out = strcmp(filled, "$omit") == 0 ? NULL : cJSON_CreateString(filled);
	g_free(filled);
	return out;
}

char *pt_fixture(const char *provider, const char *ref, const cJSON *values, long *status)
{
	cJSON *fx = load_fixture(provider);
	cJSON *all = values ? cJSON_Duplicate(values, true) : cJSON_CreateObject();
	const char *plus = strchr(ref, '+');
	const cJSON *tpl;
	cJSON *body;
	char *text;

	if (plus != NULL) {	/* templates.KIND+verdicts.PATH */
		char *tpl_path = g_strndup(ref, (gsize)(plus - ref));
		const cJSON *verdict = at_path(fx, plus + 1);
		const cJSON *item;

		tpl = at_path(fx, tpl_path);
		g_free(tpl_path);
		if (!cJSON_IsObject(verdict))
			fail_msg("%s: no %s", provider, plus + 1);
		cJSON_ArrayForEach(item, verdict)
			if (!cJSON_HasObjectItem(all, item->string))
				cJSON_AddItemToObject(all, item->string, cJSON_Duplicate(item, true));
		*status = 200;
	} else {
		const cJSON *spec = at_path(fx, ref);

		tpl = cJSON_GetObjectItemCaseSensitive(spec, "body");
		if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(spec, "status")))
			fail_msg("%s: no %s", provider, ref);
		*status = (long)cJSON_GetObjectItemCaseSensitive(spec, "status")->valuedouble;
	}
	if (tpl == NULL)
		fail_msg("%s: no %s", provider, ref);
	body = render(tpl, all);
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	cJSON_Delete(all);
	cJSON_Delete(fx);
	char *copy = g_strdup(text);
	cJSON_free(text);
	return copy;
}

static const char *const class_names[] = {
	[ANSWER_DECIDED] = "decided", [ANSWER_TRANSIENT] = "transient",
	[ANSWER_PERMANENT] = "permanent", [ANSWER_AUTH] = "auth", [ANSWER_QUOTA] = "quota",
};

/* The value of a name in a table of names (first..last), or fail. */
static int by_name(const char *what, const char *name, const char *(*name_of)(int), int last)
{
	for (int i = 0; i <= last; i++)
		if (name != NULL && strcmp(name_of(i), name) == 0)
			return i;
	fail_msg("unknown %s '%s'", what, name ? name : "(none)");
	return 0;
}

static const char *kind_name(int i) { return indicator_kind_name((enum indicator_kind)i); }
static const char *status_name(int i) { return lookup_status_name((enum lookup_status)i); }
static const char *error_name(int i) { return lookup_error_name((enum lookup_error)i); }
static const char *class_name(int i) { return class_names[i]; }

static const char *string_of(const cJSON *object, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(object, name));
}

/* The answer of a case: its fixture, or its own http + body. */
static char *case_answer(const char *provider, const cJSON *c, long *status)
{
	const char *ref = string_of(c, "answer");
	const cJSON *http = cJSON_GetObjectItemCaseSensitive(c, "http");
	cJSON *values = cJSON_CreateObject();
	char *body;

	cJSON_AddStringToObject(values, "indicator", string_of(c, "indicator"));
	if (ref != NULL) {
		body = pt_fixture(provider, ref, values, status);
	} else {
		body = g_strdup(string_of(c, "body"));
		if (body == NULL)
			fail_msg("%s: a case without answer or body", provider);
	}
	if (cJSON_IsNumber(http))
		*status = (long)http->valuedouble;
	cJSON_Delete(values);
	return body;
}

/* The lookup's result against the case's "expect"; fails naming the case. */
static void check_case(const char *provider, int row, const cJSON *c, int class,
		       const struct lookup *l)
{
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
	const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(expect, "ttl");
	int want_class = by_name("class", string_of(expect, "class"), class_name, ANSWER_QUOTA);
	int want_status = by_name("status", string_of(expect, "status"), status_name,
				  LOOKUP_INVALID);
	int want_error = by_name("error", string_of(expect, "error"), error_name,
				 LOOKUP_ERR_PROVIDER);
	const char *details = string_of(expect, "details");
	const char *answer = string_of(c, "answer");

	if (class != want_class || (int)l->result.status != want_status ||
	    (int)l->result.error != want_error ||
	    (details != NULL &&
	     (l->result.details == NULL || strstr(l->result.details, details) == NULL)) ||
	    (cJSON_IsNumber(ttl) && l->result.ttl_s != (unsigned)ttl->valuedouble))
		fail_msg("%s case %d (%s %s, %s): got %s, %s/%s \"%s\" ttl %u; want %s, %s/%s \"%s\"",
			 provider, row, kind_name(l->kind), l->indicator, answer ? answer : "",
			 class_name(class), status_name(l->result.status),
			 error_name(l->result.error), l->result.details ? l->result.details : "",
			 l->result.ttl_s, class_name(want_class), status_name(want_status),
			 error_name(want_error), details ? details : "");
	assert_error_kind(l);
	pt_assert_no_secret(l->result.details);
}

static void run_case(const char *provider, const struct integration *base, const cJSON *c,
		     int row)
{
	const cJSON *threshold = cJSON_GetObjectItemCaseSensitive(c, "threshold");
	int kind = by_name("kind", string_of(c, "kind"), kind_name, INDICATOR_KINDS - 1);
	struct integration in = *base;
	struct lookup *l = pt_lookup_new(&in, (enum indicator_kind)kind, string_of(c, "indicator"));
	long status = 0;
	char *body = case_answer(provider, c, &status);

	if (cJSON_IsNumber(threshold))
		in.detection_threshold = (unsigned)threshold->valuedouble;
	int class = pt_parse(&in, l, status, body);
	check_case(provider, row, c, class, l);
	g_free(body);
	pt_lookup_del(l);
}

size_t pt_run_fixture_cases(const char *provider, const char *type_name, const char *api_url,
			    const char *key, const char *password)
{
	struct integration in = pt_integration(type_name, api_url, key, password, 0);
	cJSON *fx = load_fixture(provider);
	const cJSON *cases = cJSON_GetObjectItemCaseSensitive(fx, "cases");
	const cJSON *c;
	int row = 0;

	if (cJSON_GetArraySize(cases) == 0)
		fail_msg("%s: no cases", provider);
	cJSON_ArrayForEach(c, cases)
		run_case(provider, &in, c, row++);
	cJSON_Delete(fx);
	return (size_t)row;
}

/* ------------------------------------------------------------ DNS cases */

/* An rcode of the fixture as c-ares reports it. */
static int ares_status_of(const char *rcode)
{
	static const struct { const char *name; int status; } rcodes[] = {
		{ "SERVFAIL", ARES_ESERVFAIL }, { "REFUSED", ARES_EREFUSED },
		{ "NXDOMAIN", ARES_ENOTFOUND }, { "NODATA", ARES_ENODATA },
		{ "DROP", ARES_ETIMEOUT }, { "ECONNREFUSED", ARES_ECONNREFUSED },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rcodes); i++)
		if (strcmp(rcodes[i].name, rcode) == 0)
			return rcodes[i].status;
	fail_msg("unknown rcode '%s'", rcode);
	return ARES_EBADRESP;
}

/* The case's answer: A records (return codes) or an rcode. */
static int dns_answer(const cJSON *fx, const cJSON *c, struct ares_addrttl *addrs, int *naddrs)
{
	const cJSON *answer = cJSON_GetObjectItemCaseSensitive(c, "answer");
	const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(c, "ttl");
	const char *table = strcmp(string_of(c, "kind"), "ip") == 0 ? "ips" : "domains";
	const cJSON *code;
	int capacity = *naddrs;

	if (answer == NULL)
		answer = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(fx, table), string_of(c, "indicator"));
	*naddrs = 0;
	if (answer == NULL)
		return ARES_ENOTFOUND;
	if (cJSON_IsString(answer))
		return ares_status_of(answer->valuestring);
	cJSON_ArrayForEach(code, answer) {
		assert_true(*naddrs < capacity);
		assert_int_equal(inet_pton(AF_INET, cJSON_GetStringValue(code),
					   &addrs[*naddrs].ipaddr), 1);
		addrs[*naddrs].ttl = cJSON_IsNumber(ttl) ? (int)ttl->valuedouble : 60;
		(*naddrs)++;
	}
	return ARES_SUCCESS;
}

size_t pt_run_dns_cases(const char *provider, const char *type_name, const char *api_url,
			const char *key)
{
	struct integration in = pt_integration(type_name, api_url, key, NULL, 0);
	cJSON *fx = load_fixture(provider);
	const cJSON *c;
	int row = 0;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(fx, "cases")) {
		int kind = by_name("kind", string_of(c, "kind"), kind_name, INDICATOR_KINDS - 1);
		struct lookup *l = pt_lookup_new(&in, (enum indicator_kind)kind,
						 string_of(c, "indicator"));
		struct ares_addrttl addrs[16];
		int naddrs = G_N_ELEMENTS(addrs);
		int status = dns_answer(fx, c, addrs, &naddrs);
		int class = in.type->ops.dns->parse(&in, l, status, addrs, naddrs);

		check_case(provider, row++, c, class, l);
		pt_lookup_del(l);
	}
	cJSON_Delete(fx);
	if (row == 0)
		fail_msg("%s: no cases", provider);
	return (size_t)row;
}
