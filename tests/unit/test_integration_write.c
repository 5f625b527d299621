/* test_integration_write.c: writing integration files (issue 11, the
 * schema that reads AND writes; issue 14 writes with it): round trip,
 * comments and order kept, atomic replace, mode 0640, masked printing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "tmpdir.h"

#include "config/integration_schema.h"
#include "config/integration_write.h"
#include "config/kvfile_write.h"
#include "config/integrations.h"
#include "providers/registry.h"


static const char vt_file[] =
	"# VirusTotal for the MX\n"
	"Name\t\t\tvt-mx\n"
	"Type\t\t\tvirustotal\n"
	"Description\t\tmain key\n"
	"APIKey\t\t\t8c0f3d9e2b7a4f61a5e0c3d7b9f2e1a4\n"
	"Tags\t\t\tmx, prod\n"
	"\n"
	"  DetectionThreshold 3   # two engines are too few\n"
	"UploadPEFiles\t\tyes\n"
	"Status\t\t\tactive\n"
	"Timeout\t\t\t1500ms\n"
	"SandboxWait\t\t20\n"
	"MaxUploadSize\t\t10M\n"
	"RateLimit\t\tnone\n"
	"Created\t\t\t2026-11-29T10:00:00Z\n";

static char *path_in_dir(const char *name)
{
	return g_build_filename(dir, name, NULL);
}

static struct integration *load(const char *path)
{
	char err[1024];
	struct integration *in = integration_load_file(path, err, sizeof(err));

	if (in == NULL)
		fail_msg("%s", err);
	return in;
}

static void assert_same(const struct integration *a, const struct integration *b)
{
	const struct integration_key *k;

	for (unsigned i = 0; (k = integration_schema_at(i)) != NULL; i++) {
		char *x = integration_get_value(a, k), *y = integration_get_value(b, k);

		if (g_strcmp0(x, y) != 0)
			fail_msg("%s: %s != %s", k->name, x ? x : "(unset)", y ? y : "(unset)");
		g_free(x);
		g_free(y);
	}
}

static char *read_text(const char *path)
{
	gchar *text = NULL;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

static void test_round_trip_keeps_comments_and_order(void **state)
{
	(void)state;
	char *path = path_in_dir("vt.conf");
	char err[1024];

	assert_true(g_file_set_contents(path, vt_file, -1, NULL));
	struct integration *first = load(path);
	/* unchanged: the file is rewritten byte for byte */
	assert_true(integration_write_file(first, path, NULL, NULL, err, sizeof(err)));
	char *text = read_text(path);
	assert_string_equal(text, vt_file);
	g_free(text);
	struct integration *second = load(path);
	assert_same(first, second);

	/* one change: only its line differs, the comment after it stays */
	char set_err[256];
	assert_true(integration_set_value(second, integration_schema_find("DetectionThreshold"),
					  "5", NULL, set_err, sizeof(set_err)));
	assert_true(integration_set_value(second, integration_schema_find("Status"), "inactive",
					  NULL, set_err, sizeof(set_err)));
	assert_true(integration_set_value(second, integration_schema_find("CacheHours"), "12",
					  NULL, set_err, sizeof(set_err)));
	assert_true(integration_write_file(second, path, NULL, NULL, err, sizeof(err)));
	text = read_text(path);
	assert_non_null(strstr(text, "\n  DetectionThreshold 5   # two engines are too few\n"));
	assert_non_null(strstr(text, "\nStatus\t\t\tinactive\n"));
	assert_true(g_str_has_suffix(text, "Created\t\t\t2026-11-29T10:00:00Z\nCacheHours\t\t12\n"));
	assert_true(g_str_has_prefix(text, "# VirusTotal for the MX\nName\t\t\tvt-mx\n"));
	g_free(text);
	struct integration *third = load(path);
	assert_same(second, third);
	integration_free(first);
	integration_free(second);
	integration_free(third);
	g_free(path);
}

static void test_new_file_round_trip_and_key_file_switch(void **state)
{
	(void)state;
	char *path = path_in_dir("new.conf");
	char *key_path = path_in_dir("new.key");
	char err[1024];
	struct integration *in = integration_new(provider_type_find("xforce"), "xf");

	in->api_key = g_strdup("0123456789abcdef");
	in->api_password = g_strdup("fedcba9876543210");
	in->created = g_strdup("2026-11-29T10:00:00Z");
	assert_true(integration_write_file(in, path, NULL, NULL, err, sizeof(err)));
	char *text = read_text(path);
	/* the form's fields are written, defaults of the rest are not */
	assert_non_null(strstr(text, "\nAPIURL\t\t\thttps://api.xforce.ibmcloud.com\n"));
	assert_non_null(strstr(text, "\nSenderIP\t\tyes\n"));
	assert_non_null(strstr(text, "\nStatus\t\t\tactive\n"));
	assert_null(strstr(text, "CacheHours"));
	g_free(text);
	struct integration *back = load(path);
	assert_same(in, back);

	/* the key moves to a file: the APIKey line goes, APIKeyFile comes */
	assert_true(g_file_set_contents(key_path, "0123456789abcdef\n", -1, NULL));
	chmod(key_path, 0600);
	assert_true(integration_set_value(back, integration_schema_find("APIKeyFile"), key_path,
					  NULL, err, sizeof(err)));
	assert_true(integration_write_file(back, path, NULL, NULL, err, sizeof(err)));
	text = read_text(path);
	assert_null(strstr(text, "APIKey\t"));
	assert_null(strstr(text, "0123456789abcdef"));
	assert_non_null(strstr(text, "APIKeyFile"));
	g_free(text);
	struct integration *again = load(path);
	assert_same(back, again);
	assert_string_equal(again->api_key, "0123456789abcdef");
	integration_free(in);
	integration_free(back);
	integration_free(again);
	g_free(path);
	g_free(key_path);
}

static bool refuse(const char *tmp_path, void *userdata, char *err, size_t errlen)
{
	char **seen = userdata;

	*seen = g_strdup(tmp_path);
	/* the temp file is complete and already 0640 when it is checked */
	struct stat st;
	assert_int_equal(stat(tmp_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	snprintf(err, errlen, "injected failure before rename");
	return false;
}

static void test_atomic_failure_before_rename_leaves_old_file(void **state)
{
	(void)state;
	char *path = path_in_dir("atomic.conf");
	char err[1024];
	char *tmp_seen = NULL;

	assert_true(g_file_set_contents(path, vt_file, -1, NULL));
	struct integration *in = load(path);
	assert_true(integration_set_value(in, integration_schema_find("Status"), "inactive", NULL,
					  err, sizeof(err)));
	assert_false(integration_write_file(in, path, refuse, &tmp_seen, err, sizeof(err)));
	assert_non_null(strstr(err, "injected failure"));
	char *text = read_text(path);
	assert_string_equal(text, vt_file);
	g_free(text);
	/* the temp file was in the same directory and is gone */
	assert_non_null(tmp_seen);
	char *tmp_dir = g_path_get_dirname(tmp_seen);
	assert_string_equal(tmp_dir, dir);
	assert_false(g_file_test(tmp_seen, G_FILE_TEST_EXISTS));
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *entry;
	while ((entry = g_dir_read_name(d)) != NULL)
		assert_false(g_str_has_suffix(entry, ".tmp"));
	g_dir_close(d);
	g_free(tmp_dir);
	g_free(tmp_seen);
	integration_free(in);
	g_free(path);
}

static void test_mode_0640_whatever_the_umask(void **state)
{
	(void)state;
	char *path = path_in_dir("mode.conf");
	char *link = path_in_dir("link.conf");
	char err[1024];
	struct stat st;
	mode_t old_umask = umask(0);

	assert_true(g_file_set_contents(path, vt_file, -1, NULL));
	chmod(path, 0666);
	struct integration *in = load(path);
	assert_true(integration_write_file(in, path, NULL, NULL, err, sizeof(err)));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	umask(077);
	unlink(path);
	assert_true(integration_write_file(in, path, NULL, NULL, err, sizeof(err)));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* a symlink in its place is replaced, its target left alone (a
	 * comment: the new text, rendered over it, must load) */
	char *target = path_in_dir("target.txt");
	assert_true(g_file_set_contents(target, "# keep\n", -1, NULL));
	assert_int_equal(symlink(target, link), 0);
	assert_true(integration_write_file(in, link, NULL, NULL, err, sizeof(err)));
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	char *kept = read_text(target);
	assert_string_equal(kept, "# keep\n");
	g_free(kept);
	umask(old_umask);
	integration_free(in);
	g_free(target);
	g_free(link);
	g_free(path);
}

/* threatmilterctl's order: render, check the text with the daemon's rules
 * under the real file name, write only when it passes. */
static void test_rendered_text_checked_before_writing(void **state)
{
	(void)state;
	char *path = path_in_dir("ctl.conf");
	char err[1024];
	struct integration *in = integration_new(provider_type_find("virustotal"), "vt-new");

	in->api_key = g_strdup("your-virustotal-api-key");
	char *text = integration_render(in, NULL);
	assert_null(integration_parse(path, text, strlen(text), err, sizeof(err)));
	char *expected = g_strdup_printf("%s:5: APIKey: the placeholder", path);
	if (!g_str_has_prefix(err, expected))
		fail_msg("'%s' does not start with '%s'", err, expected);
	assert_null(strstr(err, "your-virustotal"));
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_free(expected);
	g_free(text);

	secret_free(in->api_key);
	in->api_key = g_strdup("8c0f3d9e2b7a4f61a5e0c3d7b9f2e1a4");
	text = integration_render(in, NULL);
	struct integration *parsed = integration_parse(path, text, strlen(text), err, sizeof(err));
	assert_non_null(parsed);
	assert_same(in, parsed);
	integration_free(parsed);
	integration_free(in);
	g_free(text);
	g_free(path);
}

static void test_print_masks_secrets(void **state)
{
	(void)state;
	char *path = path_in_dir("mask.conf");
	char *buf = NULL;
	size_t len = 0;

	assert_true(g_file_set_contents(path, vt_file, -1, NULL));
	struct integration *in = load(path);
	FILE *out = open_memstream(&buf, &len);
	integration_print(in, out);
	fclose(out);
	assert_null(strstr(buf, "8c0f3d9e2b7a4f61a5e0c3d7b9f2e1a4"));
	assert_non_null(strstr(buf, "APIKey\t\t\t****e1a4\n"));
	assert_non_null(strstr(buf, "CacheHours\t\t24\n"));	/* effective values */
	assert_non_null(strstr(buf, "Tags\t\t\tmx, prod\n"));
	assert_null(strstr(buf, "DNSServers"));		/* not for this type */
	free(buf);

	char *masked = secret_mask("8c0f3d9e2b7a4f61a5e0c3d7b9f2e1a4");
	assert_string_equal(masked, "****e1a4");
	g_free(masked);
	masked = secret_mask("short-key");	/* 9 characters: nothing shown */
	assert_string_equal(masked, "****");
	g_free(masked);
	assert_null(secret_mask(NULL));
	const struct integration_key *k = integration_schema_find("APIKey");
	char *shown = integration_display_value(in, k);
	assert_string_equal(shown, "****e1a4");
	g_free(shown);
	integration_free(in);
	g_free(path);
}

/* F2 (breaker): the writer stored values the loader reads back cut
 * ("key #x" -> "key"). Every value over an alphabet of the characters
 * that matter is either written and read back byte for byte by the
 * daemon's loader, or refused by integration_write_file() with the key
 * named and nothing written; what kvfile_value_unwritable() allows is
 * always written (threatmilterctl refuses the rest before writing). */
static void test_f2_written_values_read_back_or_are_refused(void **state)
{
	(void)state;
	static const char alphabet[] = { 'a', ' ', '#', '\t', '\n', '\r', '\x1b' };
	const size_t n = G_N_ELEMENTS(alphabet);
	char *path = path_in_dir("f2.conf");
	char err[1024];
	unsigned written = 0, refused = 0;

	for (size_t code = 0; code < n * n * n * n; code++) {
		char value[5] = "";
		struct integration *in = integration_new(provider_type_find("virustotal"), "vt");

		for (size_t i = 0, c = code; i < 4; i++, c /= n)
			value[i] = alphabet[c % n];
		in->description = g_strdup(value);
		in->api_key = g_strdup("8c0f3d9e2b7a4f61a5e0c3d7b9f2e1a4");
		unlink(path);
		bool ok = integration_write_file(in, path, NULL, NULL, err, sizeof(err));
		if (!ok && kvfile_value_unwritable(value) == NULL)
			fail_msg("'%s' refused: %s", g_strescape(value, NULL), err);
		if (ok) {
			struct integration *back = load(path);
			assert_string_equal(back->description, value);
			integration_free(back);
			written++;
		} else {
			if (strstr(err, "Description: ") == NULL)
				fail_msg("%s: %s", g_strescape(value, NULL), err);
			assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
			refused++;
		}
		integration_free(in);
	}
	assert_true(written > 0 && refused > 0);
	/* the reviewer's samples */
	assert_non_null(kvfile_value_unwritable("test-vt-key #x"));
	assert_non_null(kvfile_value_unwritable("VirusTotal #2 (prod)"));
	assert_non_null(kvfile_value_unwritable("abcdefghijklmnop1234 "));
	assert_null(kvfile_value_unwritable("https://example.com/app#/admin"));
	assert_null(kvfile_value_unwritable("VirusTotal#2 (prod)"));
	/* a secret is never quoted by the refusal */
	struct integration *in = integration_new(provider_type_find("virustotal"), "vt");
	in->api_key = g_strdup("8c0f3d9e2b7a #4f61a5e0c3d7b9f2e1a4");
	unlink(path);
	assert_false(integration_write_file(in, path, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "APIKey: "));
	assert_true(strstr(err, "8c0f") == NULL && strstr(err, "e1a4") == NULL);
	integration_free(in);
	g_free(path);
}

/* F7 (breaker): `integration show` printed a Proxy's password. */
static void test_f7_url_passwords_masked(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "http://proxyuser:S3cretProxyPass@127.0.0.1:3128",
		  "http://proxyuser:****@127.0.0.1:3128" },
		{ "socks5h://u:pw@proxy:1080/", "socks5h://u:****@proxy:1080/" },
		{ "Proxy: 'http://a:b@c' and https://x:longpassword1@y/p?q=1",
		  "Proxy: 'http://a:****@c' and https://x:****@y/p?q=1" },
		{ "http://user@host/ https://host/a@b http://host:8080/", NULL },
		{ "http://u:p@ss/w:rd@host", "http://u:****@host" },	/* unencoded: all */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *masked = url_mask_passwords(cases[i].in);

		assert_string_equal(masked, cases[i].out ? cases[i].out : cases[i].in);
		g_free(masked);
	}
	struct integration *in = integration_new(provider_type_find("virustotal"), "vt");
	char *buf = NULL;
	size_t len = 0;

	g_free(in->proxy);
	in->proxy = g_strdup("http://proxyuser:S3cretProxyPass@127.0.0.1:3128");
	g_free(in->api_url);	/* the type's default */
	in->api_url = g_strdup("https://apiuser:ApiUrlPassword@127.0.0.1/api/v3");
	FILE *out = open_memstream(&buf, &len);
	integration_print(in, out);
	fclose(out);
	assert_null(strstr(buf, "S3cretProxyPass"));
	assert_null(strstr(buf, "ApiUrlPassword"));
	assert_non_null(strstr(buf, "http://proxyuser:****@127.0.0.1:3128\n"));
	assert_non_null(strstr(buf, "https://apiuser:****@127.0.0.1/api/v3\n"));
	free(buf);
	integration_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_keeps_comments_and_order),
		cmocka_unit_test(test_new_file_round_trip_and_key_file_switch),
		cmocka_unit_test(test_atomic_failure_before_rename_leaves_old_file),
		cmocka_unit_test(test_mode_0640_whatever_the_umask),
		cmocka_unit_test(test_rendered_text_checked_before_writing),
		cmocka_unit_test(test_print_masks_secrets),
		cmocka_unit_test(test_f2_written_values_read_back_or_are_refused),
		cmocka_unit_test(test_f7_url_passwords_masked),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
