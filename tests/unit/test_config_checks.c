/* test_config_checks.c: what the configuration loader refuses since the
 * breaker report -- files that are not regular files (F4), 0 where it has
 * no working meaning (F3), values the MTA or libcurl cannot use (F8) --
 * and the keys a reload cannot apply (F12). */
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

#include "config/config.h"
#include "config/config_schema.h"
#include "config/integrations.h"
#include "util/fileio.h"

/* A fresh conf directory per call: threatmilter.conf + integrations.d. */
static struct tm_config *load(const char *content, const char *integration, char *err,
			      size_t errlen)
{
	static unsigned n;
	char *sub = g_strdup_printf("c%u", ++n);
	char *name = g_build_filename(sub, "threatmilter.conf", NULL);
	char *path = tmpdir_write_file(name, content);
	char *idir = g_build_filename(dir, sub, "integrations.d", NULL);

	g_mkdir_with_parents(idir, 0755);
	if (integration != NULL) {
		char *iname = g_build_filename(sub, "integrations.d", "i.conf", NULL);
		g_free(tmpdir_write_file(iname, integration));
		g_free(iname);
	}
	struct tm_config *cfg = config_load(path, err, errlen);
	g_free(sub);
	g_free(name);
	g_free(path);
	g_free(idir);
	return cfg;
}

static void expect(const char *content, const char *integration, const char *fragment)
{
	char err[1024] = "";
	struct tm_config *cfg = load(content, integration, err, sizeof(err));

	if (fragment == NULL) {
		if (cfg == NULL)
			fail_msg("refused: %s", err);
		config_unref(cfg);
		return;
	}
	if (cfg != NULL)
		fail_msg("loaded, expected an error containing '%s'", fragment);
	if (strstr(err, fragment) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, fragment);
}

/* ------------------------------------------------------------ F4 */

/* Every file read as configuration: a FIFO blocked the reader in open()
 * for ever (the alarm fails the old code instead of hanging). */
static void test_f4_fifo_config_files_are_refused(void **state)
{
	(void)state;
	char err[512];
	char *fifo = g_build_filename(dir, "fifo.conf", NULL);
	char *msg = g_strdup_printf("%s: not a regular file", fifo);

	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(20);
	/* the main file */
	assert_null(config_load(fifo, err, sizeof(err)));
	assert_string_equal(err, msg);
	/* a list file */
	char *list = g_strdup_printf("ExcludeIPs file:%s\n", fifo);
	expect(list, NULL, msg);
	/* an APIKeyFile */
	char *keyfile = g_strdup_printf("Name vt\nType virustotal\nAPIKeyFile %s\n", fifo);
	expect("", keyfile, msg);
	/* fileio itself, with and without a "what" */
	assert_null(fileio_read_all(fifo, NULL, "list file", err, sizeof(err)));
	assert_non_null(strstr(err, "list file: "));
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(fileio_open_regular(dir, err, sizeof(err)), -1);	/* a directory */
	assert_non_null(strstr(err, "not a regular file"));
	/* a FIFO in integrations.d: the whole configuration is refused,
	 * like any integration file that cannot be read */
	char *sub = g_build_filename(dir, "cf", "integrations.d", NULL);
	char *ififo = g_build_filename(sub, "b.conf", NULL);
	g_mkdir_with_parents(sub, 0755);
	assert_int_equal(mkfifo(ififo, 0600), 0);
	char *conf = tmpdir_write_file("cf/threatmilter.conf", "Syslog no\n");
	assert_null(config_load(conf, err, sizeof(err)));
	assert_non_null(strstr(err, "b.conf: not a regular file"));
	/* CACertFile is opened by libcurl on each request: checked by stat */
	char *ca = g_strdup_printf("CACertFile %s\n", fifo);
	expect(ca, NULL, "CACertFile: ");
	expect(ca, NULL, "not a regular file");
	expect("CACertFile /nonexistent/ca.pem\n", NULL, "CACertFile: /nonexistent/ca.pem: ");
	alarm(0);
	g_free(ca);
	g_free(conf);
	g_free(ififo);
	g_free(sub);
	g_free(keyfile);
	g_free(list);
	g_free(msg);
	g_free(fifo);
}

/* ------------------------------------------------------------ F3 */

static void test_f3_zero_has_one_meaning(void **state)
{
	(void)state;
	/* refused: no size a filter can buffer, and `scan` read it as 0 bytes */
	expect("MaxMessageSize 0\n", NULL, ":1: MaxMessageSize: must be more than 0");
	expect("\nMaxMimeDepth 0\n", NULL, ":2: MaxMimeDepth: must be more than 0");
	expect("MaxMessageSize 1\nMaxMimeDepth 1\n", NULL, NULL);
	/* documented meanings of 0 (threatmilter.conf(5)) */
	expect("MaxURLs 0\nMaxIndicators 0\nMaxReportedDepth 0\nSampleMemoryLimit 0\n", NULL, NULL);
}

/* ------------------------------------------------------------ F8 */

static void test_f8_unusable_values_are_refused(void **state)
{
	(void)state;
	GString *conf = g_string_new("RejectMessage 5.7.1 ");

	/* RejectMessage over one SMTP reply line: every reject lost its text */
	for (int i = 0; i < 1200; i++)
		g_string_append_c(conf, 'x');
	g_string_append_c(conf, '\n');
	expect(conf->str, NULL, ":1: RejectMessage: too long for an SMTP reply line");
	g_string_assign(conf, "RejectMessage 550 5.7.1 %v ");
	for (int i = 0; i < 480; i++)
		g_string_append_c(conf, 'x');
	g_string_append_c(conf, '\n');
	expect(conf->str, NULL, NULL);	/* 4 + 6 + 491 + 2 bytes: fits */
	g_string_assign(conf, "RejectMessage 550 5.7.1 %v ");
	for (int i = 0; i < 490; i++)
		g_string_append_c(conf, 'x');
	g_string_append_c(conf, '\n');
	expect(conf->str, NULL, "RejectMessage: too long");	/* 513 with "suspicious" */
	expect("RejectMessage 5.7.1 caf\xc3\xa9\n", NULL, "RejectMessage: printable ASCII only");
	expect("RejectMessage 5.7.1 a\tb\n", NULL, "RejectMessage: printable ASCII only");
	/* HeaderPrefix: RFC 5322 field-name characters */
	expect("HeaderPrefix X-Threat:\n", NULL, ":1: HeaderPrefix: 'X-Threat:' cannot start");
	expect("HeaderPrefix X Threat-\n", NULL, "HeaderPrefix: 'X Threat-' cannot start");
	expect("HeaderPrefix X-\xc3\xa9-\n", NULL, "cannot start a header field name");
	g_string_assign(conf, "HeaderPrefix X-");
	for (int i = 0; i < 60; i++)
		g_string_append_c(conf, 'y');
	g_string_append_c(conf, '\n');
	expect(conf->str, NULL, "HeaderPrefix: at most 59 characters");
	expect("HeaderPrefix X-Scan-\n", NULL, NULL);
	/* header text */
	expect("SubjectTag [x]\x01y\n", NULL, ":1: SubjectTag: printable ASCII only");
	expect("SubjectTag [caf\xc3\xa9]\n", NULL, "SubjectTag: printable ASCII only");
	expect("ReportHostname mx\x1b[31m.example\n", NULL, "ReportHostname: printable ASCII");
	expect("SubjectTag [SUSPICIOUS]\nReportHostname mx1.example.org\n", NULL, NULL);
	/* APIURL: an http(s) URL with a host; a DNS type's zone is no URL */
	expect("", "Name vt\nType virustotal\nAPIKey abcdefghijklmnop1234\n"
	       "APIURL file:///etc/passwd\n", "i.conf:4: APIURL: scheme 'file' is not one of");
	expect("", "Name vt\nType virustotal\nAPIKey abcdefghijklmnop1234\nAPIURL nothing\n",
	       "APIURL: not a URL");
	expect("", "Name vt\nType virustotal\nAPIKey abcdefghijklmnop1234\n"
	       "APIURL https://vt.example/api/v3\n", NULL);
	expect("", "Name sh\nType spamhaus\nAPIURL zen.spamhaus.org\n", NULL);
	/* Proxy: a proxy URL libcurl takes, never quoted (it may hold a password) */
	expect("", "Name vt\nType virustotal\nAPIKey abcdefghijklmnop1234\n"
	       "Proxy not a proxy\n", "i.conf:4: Proxy: not a URL");
	expect("", "Name vt\nType virustotal\nAPIKey abcdefghijklmnop1234\n"
	       "Proxy ftp://u:pw@proxy.example\n", "Proxy: scheme 'ftp' is not one of");
	expect("", "Name vt\nType virustotal\nAPIKey abcdefghijklmnop1234\n"
	       "Proxy socks5h://u:pw@proxy.example:1080\n", NULL);
	expect("", "Name vt\nType virustotal\nAPIKey abcdefghijklmnop1234\n"
	       "Proxy http://proxy.example:3128\n", NULL);
	g_string_free(conf, TRUE);
}

/* ------------------------------------------------------------ F12 */

static void count_key(const char *key, void *arg)
{
	g_string_append_printf(arg, "%s,", key);
}

static void test_f12_reload_names_startup_only_keys(void **state)
{
	(void)state;
	char err[512];
	struct tm_config *a = load("Socket local:/run/a.sock\nScanDeadline 5s\n", NULL, err,
				   sizeof(err));
	struct tm_config *b = load("Socket local:/run/b.sock\nScanDeadline 9s\nUserID nobody\n"
				   "LogLevel debug\n", NULL, err, sizeof(err));
	GString *keys = g_string_new(NULL);

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(config_restart_changes(a, b, count_key, keys), 3);
	assert_string_equal(keys->str, "Socket,UserID,LogLevel,");
	g_string_truncate(keys, 0);
	assert_int_equal(config_restart_changes(a, a, count_key, keys), 0);
	g_string_free(keys, TRUE);
	config_unref(a);
	config_unref(b);
}

/* The text of the man page paragraph that starts with `marker`, up to
 * the next .SH, .PP or .TP, with "\-" as "-". */
static char *man_section(const char *page, const char *marker)
{
	char *path = g_build_filename(TEST_SRCDIR, "..", "man", page, NULL);
	gchar *man = NULL;

	assert_true(g_file_get_contents(path, &man, NULL, NULL));
	g_free(path);
	GRegex *dash = g_regex_new("\\\\-", 0, 0, NULL);
	char *plain = g_regex_replace_literal(dash, man, -1, 0, "-", 0, NULL);
	g_regex_unref(dash);
	g_free(man);
	const char *start = strstr(plain, marker);
	if (start == NULL)
		fail_msg("%s has no \"%s\"", page, marker);
	const char *end = start + strlen(marker);
	const char *stop = NULL;
	for (const char *const *m = (const char *const[]){ "\n.SH", "\n.PP", "\n.TP", NULL };
	     *m != NULL; m++) {
		const char *at = strstr(end, *m);
		if (at != NULL && (stop == NULL || at < stop))
			stop = at;
	}
	char *section = g_strndup(start, stop ? (size_t)(stop - start) : strlen(start));
	g_free(plain);
	return section;
}

/* Every KEY_RESTART key is named where the man pages list the keys a
 * reload does not apply, so the code and the pages cannot drift. */
static void test_f12_man_pages_name_every_startup_only_key(void **state)
{
	(void)state;
	char *conf5 = man_section("threatmilter.conf.5.in", "Read at start-up only");
	char *sig8 = man_section("threatmilter.8.in", "Keys read at start-up only");
	unsigned flagged = 0;

	for (size_t i = 0; i < config_schema_len; i++) {
		if (!(config_schema[i].flags & KEY_RESTART))
			continue;
		flagged++;
		if (strstr(conf5, config_schema[i].name) == NULL)
			fail_msg("threatmilter.conf(5) does not list %s as start-up only",
				 config_schema[i].name);
		if (strstr(sig8, config_schema[i].name) == NULL)
			fail_msg("threatmilter(8) SIGNALS does not list %s", config_schema[i].name);
	}
	assert_true(flagged >= 10);
	/* and names no key a reload does apply */
	for (size_t i = 0; i < config_schema_len; i++) {
		const char *name = config_schema[i].name;
		char *bold = g_strdup_printf(".B %s\n", name);

		if (!(config_schema[i].flags & KEY_RESTART) &&
		    (strstr(conf5, bold) != NULL || strstr(sig8, bold) != NULL))
			fail_msg("%s is listed as start-up only but a reload applies it", name);
		g_free(bold);
	}
	g_free(conf5);
	g_free(sig8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_f4_fifo_config_files_are_refused),
		cmocka_unit_test(test_f3_zero_has_one_meaning),
		cmocka_unit_test(test_f8_unusable_values_are_refused),
		cmocka_unit_test(test_f12_reload_names_startup_only_keys),
		cmocka_unit_test(test_f12_man_pages_name_every_startup_only_key),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
