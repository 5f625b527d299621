/* test_integration_schema.c: the integration schema table against the
 * example files and the man page (defect 12, fault 10), and the rules of
 * issue 18 fault 7 and defect 9 (placeholder keys, types not implemented,
 * RateLimit never silently unlimited, exposed key files), and the keys the
 * sandbox and APIVoid issues need. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <glib.h>

#include "tmpdir.h"

#include "config/config.h"
#include "config/integration_schema.h"
#include "config/integrations.h"
#include "config/kvfile.h"
#include "providers/registry.h"


static char *write_file(const char *name, const char *content)
{
	char *path = g_build_filename(dir, name, NULL);

	assert_true(g_file_set_contents(path, content, -1, NULL));
	chmod(path, 0640);
	return path;
}

static struct integration *load_text(const char *content, char *err, size_t errlen)
{
	char *path = write_file("t.conf", content);
	struct integration *in = integration_load_file(path, err, errlen);

	g_free(path);
	return in;
}

static void expect_error(const char *content, const char *fragment)
{
	char err[1024] = "";
	struct integration *in = load_text(content, err, sizeof(err));

	if (in != NULL)
		fail_msg("loaded, expected '%s'", fragment);
	if (strstr(err, fragment) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, fragment);
	assert_null(strstr(err, "SECRETKEY"));
}

static struct integration *expect_load(const char *content)
{
	char err[1024] = "";
	struct integration *in = load_text(content, err, sizeof(err));

	if (in == NULL)
		fail_msg("not loaded: %s", err);
	return in;
}

/* ------------------------------------------------- defect 12: examples */

struct keys_seen {
	GPtrArray *keys;
};

static bool remember_key(const char *key, const char *value, const char *file, unsigned line,
			 void *userdata, char *err, size_t errlen)
{
	struct keys_seen *seen = userdata;

	(void)value, (void)file, (void)line, (void)err, (void)errlen;
	g_ptr_array_add(seen->keys, g_strdup(key));
	return true;
}

/* Every value an example file sets equals the built-in default of the
 * schema for its type, except the keys that describe the instance (name,
 * credentials, Status: examples of types not implemented yet are
 * inactive) and keys without a default (FortiSandbox's APIURL). */
static void test_defect12_examples_carry_the_defaults(void **state)
{
	(void)state;
	char *conf_dir = g_build_filename(TEST_SRCDIR, "..", "conf", "integrations.d", NULL);
	GDir *d = g_dir_open(conf_dir, 0, NULL);
	const char *entry;
	unsigned examples = 0, compared = 0;

	assert_non_null(d);
	while ((entry = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_suffix(entry, ".conf.example"))
			continue;
		char *path = g_build_filename(conf_dir, entry, NULL);
		gchar *text = NULL;
		char err[1024];
		struct keys_seen seen = { g_ptr_array_new_with_free_func(g_free) };

		assert_true(g_file_get_contents(path, &text, NULL, NULL));
		assert_true(kvfile_parse(path, text, strlen(text), remember_key, &seen, err,
					 sizeof(err)));
		/* loaded as inactive: the example's placeholder key is refused
		 * only for an active integration */
		GRegex *status = g_regex_new("^Status[ \t]+active", G_REGEX_MULTILINE, 0, NULL);
		char *inactive = g_regex_replace_literal(status, text, -1, 0, "Status\tinactive", 0,
							 NULL);
		char *copy = write_file("example.conf", inactive);
		struct integration *in = integration_load_file(copy, err, sizeof(err));

		if (in == NULL)
			fail_msg("%s does not load: %s", entry, err);
		for (guint i = 0; i < seen.keys->len; i++) {
			const struct integration_key *k =
				integration_schema_find(g_ptr_array_index(seen.keys, i));
			char *def = integration_key_default(k, in->type);
			char *value = integration_get_value(in, k);

			if (!(k->flags & IKEY_INSTANCE) && def != NULL) {
				if (g_strcmp0(def, value) != 0)
					fail_msg("%s: %s is %s, the built-in default is %s", entry,
						 k->name, value, def);
				compared++;
			}
			g_free(def);
			g_free(value);
		}
		/* commented-out settings ("# SandboxWait 0") show defaults too */
		GRegex *commented = g_regex_new("^#[ \t]*([A-Za-z]+)[ \t]+([^ \t#\n]+)[ \t]*$",
						G_REGEX_MULTILINE, 0, NULL);
		GMatchInfo *match;
		g_regex_match(commented, text, 0, &match);
		for (; g_match_info_matches(match); g_match_info_next(match, NULL)) {
			char *key = g_match_info_fetch(match, 1), *value = g_match_info_fetch(match, 2);
			const struct integration_key *k = integration_schema_find(key);
			char *def = k ? integration_key_default(k, in->type) : NULL;

			if (k != NULL && !(k->flags & IKEY_INSTANCE) && def != NULL) {
				struct integration *scratch = integration_new(in->type, "x");
				char *canonical = NULL;

				if (integration_set_value(scratch, k, value, NULL, err, sizeof(err)))
					canonical = integration_get_value(scratch, k);
				if (g_strcmp0(def, canonical) != 0)
					fail_msg("%s: \"# %s %s\" is not the default %s", entry, key,
						 value, def);
				g_free(canonical);
				integration_free(scratch);
				compared++;
			}
			g_free(def);
			g_free(key);
			g_free(value);
		}
		g_match_info_free(match);
		g_regex_unref(commented);
		integration_free(in);
		g_regex_unref(status);
		g_free(inactive);
		g_free(copy);
		g_ptr_array_unref(seen.keys);
		g_free(text);
		g_free(path);
		examples++;
	}
	g_dir_close(d);
	g_free(conf_dir);
	assert_int_equal(examples, 12);		/* one per provider type */
	assert_true(compared > 40);
}

/* ------------------------------------------------- fault 10: the man page */

static bool documented(const char *man, const char *key)
{
	/* as a word: "Cache" must not count because "CacheHours" is there */
	char *lower = g_ascii_strdown(key, -1);
	char *pattern = g_strdup_printf("(^|[^a-z-])%s([^a-z]|$)", lower);
	bool found = g_regex_match_simple(pattern, man, 0, 0);

	g_free(pattern);
	g_free(lower);
	return found;
}

static void test_fault10_man_page_documents_every_key(void **state)
{
	(void)state;
	char *path = g_build_filename(TEST_SRCDIR, "..", "man", "threatmilter.conf.5.in", NULL);
	gchar *man = NULL;
	const struct integration_key *k;
	const char *name;

	assert_true(g_file_get_contents(path, &man, NULL, NULL));
	/* the man page escapes '-' as "\-" and breaks lines anywhere */
	GRegex *dash = g_regex_new("\\\\-", 0, 0, NULL);
	char *unescaped = g_regex_replace_literal(dash, man, -1, 0, "-", 0, NULL);
	char *plain = g_strdelimit(g_ascii_strdown(unescaped, -1), "\n", ' ');

	for (unsigned i = 0; (k = integration_schema_at(i)) != NULL; i++) {
		if (!documented(plain, k->name))
			fail_msg("threatmilter.conf(5) does not document the integration key %s",
				 k->name);
		/* its meaning, too (the first words of the table's doc) */
		char *start = g_ascii_strdown(k->doc, 16);
		if (strstr(plain, start) == NULL)
			fail_msg("threatmilter.conf(5) lacks the meaning of %s (\"%s...\")",
				 k->name, start);
		g_free(start);
	}
	for (unsigned i = 0; (name = config_key_name(i)) != NULL; i++)
		if (!documented(plain, name))
			fail_msg("threatmilter.conf(5) does not document %s", name);
	assert_non_null(strstr(plain, "bare number"));	/* durations: seconds */
	g_regex_unref(dash);
	g_free(unescaped);
	g_free(plain);
	g_free(man);
	g_free(path);
}

/* ------------------------------------------------- fault 7, defect 9 */

static void test_fault7_placeholder_key_refused_when_active(void **state)
{
	(void)state;
	expect_error("Name vt\nType virustotal\nAPIKey your-virustotal-api-key\n",
		     "t.conf:3: APIKey: the placeholder of an example");
	expect_error("Name vt\nType virustotal\nAPIKey YOUR-API-KEY\n", ":3: APIKey: the placeholder");
	expect_error("Name vt\nType virustotal\nAPIKey changeme\n", ":3: APIKey: the placeholder");
	expect_error("Name x\nType xforce\nAPIKey SECRETKEY-REAL-1\nAPIPassword your-xforce-password\n",
		     ":4: APIPassword: the placeholder");
	char *key = write_file("placeholder.key", "your-virustotal-api-key\n");
	char *text = g_strdup_printf("Name vt\nType virustotal\nAPIKeyFile %s\n", key);
	expect_error(text, ":3: APIKeyFile: the placeholder");
	g_free(text);
	g_free(key);
	/* inactive: kept as it is until the administrator fills it in */
	struct integration *in = expect_load("Name vt\nType virustotal\nAPIKey your-key\n"
					     "Status inactive\n");
	integration_free(in);
	assert_false(secret_is_placeholder("8c0f3d9e2b7a4f61a5e0c3d7b9f2e1a4"));
}

static void test_fault7_active_unimplemented_type_refused(void **state)
{
	(void)state;
	/* every type without lookups or actions: refused active, accepted
	 * inactive */
	const struct provider_type *t;
	unsigned refused = 0;

	for (unsigned i = 0; (t = provider_type_at(i)) != NULL; i++) {
		if (provider_implemented(t))
			continue;
		char *text = g_strdup_printf("# x\nName x\nType %s\nAPIURL https://h.example/\n"
					     "APIKey SECRETKEY-0123456789\n%s", t->name,
					     t->needs_password ? "APIPassword pw-0123456789\n" : "");
		char *expected = g_strdup_printf("t.conf:3: Type: lookups of type %s", t->name);
		expect_error(text, expected);
		g_free(text);
		g_free(expected);
		refused++;
	}
	assert_true(refused == 0);	/* every type is implemented now */
	integration_free(expect_load("Name x\nType vmray\nStatus inactive\n"));
	/* FortiSandbox is implemented: active is fine (APIURL required) */
	integration_free(expect_load("Name x\nType fortisandbox\nAPIURL https://fsa.example\n"
				     "APIKey apiuser\nAPIPassword pw-0123456789\n"));
}

/* IRONSCALES has actions only: active is fine, with its CompanyID
 * (digits, it goes into request paths); IsPartner is its key alone. */
static void test_ironscales_active_needs_company_id(void **state)
{
	(void)state;
	const char *base = "Name iron\nType ironscales\nAPIKey SECRETKEY-0123456789\n";
	char *text = g_strdup_printf("%sCompanyID 4200\nIsPartner yes\n", base);
	struct integration *in = expect_load(text);

	assert_true(in->active);
	assert_string_equal(in->company_id, "4200");
	assert_true(in->is_partner);
	assert_string_equal(in->api_url, "https://members.ironscales.com/");
	integration_free(in);
	g_free(text);
	expect_error(base, "t.conf: CompanyID is required for IRONSCALES");
	text = g_strdup_printf("%sCompanyID 42/../x\n", base);
	expect_error(text, "t.conf:4: CompanyID: '42/../x' is not a company id");
	g_free(text);
	/* inactive: no CompanyID yet is fine, a bad one is not */
	integration_free(expect_load("Name iron\nType ironscales\nStatus inactive\n"));
	expect_error("Name vt\nType virustotal\nAPIKey SECRETKEY-0123456789\nIsPartner no\n",
		     "t.conf:4: IsPartner: not used by VirusTotal (only by: ironscales)");
}

static void test_defect9_bad_rate_limit_is_an_error(void **state)
{
	(void)state;
	const char *base = "Name vt\nType virustotal\nAPIKey SECRETKEY-0123456789\n";
	const char *bad[] = { ",", " , ", "4/minute,,500/day", "4/minute,", "0/minute",
			      "4/fortnight", "4" };

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *text = g_strdup_printf("%sRateLimit %s\n", base, bad[i]);
		expect_error(text, "t.conf:4: RateLimit: ");
		g_free(text);
	}
	char *text = g_strdup_printf("%sRateLimit none\n", base);
	struct integration *in = expect_load(text);
	assert_null(in->rate_limit);
	integration_free(in);
	g_free(text);
}

static void test_key_file_readable_by_others_is_warned(void **state)
{
	(void)state;
	char *key = write_file("vt.key", "8c0f3d9e2b7a4f61a5e0c3d7b9f2e1a4\n");
	char *text = g_strdup_printf("Name vt\nType virustotal\nAPIKeyFile %s\n", key);
	struct integration *in;

	in = expect_load(text);		/* 0640: the documented setup */
	assert_int_equal(in->warnings->len, 0);
	integration_free(in);
	chmod(key, 0644);
	in = expect_load(text);
	assert_int_equal(in->warnings->len, 1);
	assert_non_null(strstr(g_ptr_array_index(in->warnings, 0), "mode 0644"));
	assert_null(strstr(g_ptr_array_index(in->warnings, 0), "8c0f3d9e"));
	integration_free(in);
	g_free(text);
	g_free(key);
}

/* ------------------------------------------------- keys of the next issues */

static void test_sandbox_and_apivoid_keys(void **state)
{
	(void)state;
	struct integration *in = expect_load("Name s\nType vmray\nStatus inactive\n");

	assert_int_equal(in->sandbox_wait_ms, 0);
	assert_int_equal(in->job_timeout_ms, 600000);
	assert_int_equal(in->poll_interval_ms, 5000);	/* vmray.md §4 */
	assert_int_equal(in->max_upload_size, 32 << 20);
	integration_free(in);
	in = expect_load("Name s\nType fortisandbox\nStatus inactive\nAPIURL https://fsa/\n"
			 "SandboxWait 20\nJobTimeout 15m\n");
	assert_int_equal(in->sandbox_wait_ms, 20000);	/* a bare number: seconds */
	assert_int_equal(in->job_timeout_ms, 900000);
	assert_int_equal(in->poll_interval_ms, 30000);	/* the type's default */
	assert_int_equal(in->max_upload_size, 19 << 20);	/* under 20 MB, §3.3 */
	integration_free(in);
	in = expect_load("Name a\nType apivoid\nStatus inactive\nAPIVersion v2\n"
			 "MaliciousThreshold 5\n");
	assert_int_equal(in->api_version, API_VERSION_V2);
	assert_int_equal(in->malicious_threshold, 5);
	integration_free(in);

	expect_error("Name s\nType safebrowsing\nAPIKey SECRETKEY-0123456789\nSandboxWait 5s\n",
		     ":4: SandboxWait: not used by Google Safe Browsing (only by: virustotal,");
	expect_error("Name a\nType virustotal\nAPIKey SECRETKEY-0123456789\nAPIVersion v2\n",
		     ":4: APIVersion: not used by VirusTotal (only by: apivoid)");
	expect_error("Name a\nType apivoid\nStatus inactive\nAPIVersion v3\n",
		     ":4: APIVersion: 'v3' is not one of auto, v1, v2");
	expect_error("Name s\nType vmray\nStatus inactive\nMaxUploadSize 2G\n",
		     ":4: MaxUploadSize: '2G' is not a size from 1 to 1G");
	expect_error("Name s\nType vmray\nStatus inactive\nJobTimeout 0\n",
		     ":4: JobTimeout: '0' is not a duration from 1s to 24h");
	expect_error("Name s\nType vmray\nStatus inactive\nAttachments maybe\n",
		     ":4: Attachments: 'maybe' is not yes or no");
	/* the seed: ANY.RUN may analyse attachments (by upload), off by default */
	in = expect_load("Name r\nType anyrun\nStatus inactive\n");
	assert_false(in->attachments);
	integration_free(in);
	integration_free(expect_load("Name r\nType anyrun\nStatus inactive\nAttachments yes\n"));
}

static void test_schema_rows_are_consistent(void **state)
{
	(void)state;
	const struct integration_key *k;
	const struct provider_type *t;

	for (unsigned i = 0; (k = integration_schema_at(i)) != NULL; i++) {
		assert_ptr_equal(integration_schema_find(k->name), k);
		assert_non_null(k->doc);
		/* every default parses for every type that uses the key */
		for (unsigned j = 0; (t = provider_type_at(j)) != NULL; j++) {
			struct integration *in = integration_new(t, "x");
			char *def = integration_key_default(k, t);
			char *value = integration_get_value(in, k);
			char err[256];

			if (def != NULL && integration_key_applies(k, t) && k->kind != IKEY_TYPE) {
				assert_string_equal(def, value);
				assert_true(integration_set_value(in, k, def, NULL, err, sizeof(err)));
			}
			g_free(def);
			g_free(value);
			integration_free(in);
		}
	}
	assert_ptr_equal(integration_schema_find("cachehours"), integration_schema_find("CacheHours"));
	assert_null(integration_schema_find("Colour"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defect12_examples_carry_the_defaults),
		cmocka_unit_test(test_fault10_man_page_documents_every_key),
		cmocka_unit_test(test_fault7_placeholder_key_refused_when_active),
		cmocka_unit_test(test_fault7_active_unimplemented_type_refused),
		cmocka_unit_test(test_ironscales_active_needs_company_id),
		cmocka_unit_test(test_defect9_bad_rate_limit_is_an_error),
		cmocka_unit_test(test_key_file_readable_by_others_is_warned),
		cmocka_unit_test(test_sandbox_and_apivoid_keys),
		cmocka_unit_test(test_schema_rows_are_consistent),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
