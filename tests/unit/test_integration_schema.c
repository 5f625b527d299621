/* test_integration_schema.c: the integration schema table, and the rules of
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

#include "config/integration_schema.h"
#include "config/integrations.h"
#include "providers/registry.h"

static char *dir;

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
	/* every type without lookups: refused active, accepted inactive */
	const struct provider_type *t;
	unsigned refused = 0;

	for (unsigned i = 0; (t = provider_type_at(i)) != NULL; i++) {
		if (t->ops != NULL)
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
	assert_true(refused >= 3);	/* vmray, anyrun, fortisandbox at least */
	integration_free(expect_load("Name x\nType vmray\nStatus inactive\n"));
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
	assert_int_equal(in->poll_interval_ms, 15000);
	assert_int_equal(in->max_upload_size, 32 << 20);
	integration_free(in);
	in = expect_load("Name s\nType fortisandbox\nStatus inactive\nAPIURL https://fsa/\n"
			 "SandboxWait 20\nJobTimeout 15m\n");
	assert_int_equal(in->sandbox_wait_ms, 20000);	/* a bare number: seconds */
	assert_int_equal(in->job_timeout_ms, 900000);
	assert_int_equal(in->poll_interval_ms, 30000);	/* the type's default */
	assert_int_equal(in->max_upload_size, 20 << 20);
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

static int setup(void **state)
{
	(void)state;
	dir = g_dir_make_tmp("tmschema.XXXXXX", NULL);
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	int rc = system(cmd);
	g_free(cmd);
	g_free(dir);
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault7_placeholder_key_refused_when_active),
		cmocka_unit_test(test_fault7_active_unimplemented_type_refused),
		cmocka_unit_test(test_defect9_bad_rate_limit_is_an_error),
		cmocka_unit_test(test_key_file_readable_by_others_is_warned),
		cmocka_unit_test(test_sandbox_and_apivoid_keys),
		cmocka_unit_test(test_schema_rows_are_consistent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
