/* test_kvfile_config.c: the `Key value` reader, the main configuration
 * (defaults, every error path with its file:line) and integration files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>

#include "tmpdir.h"
#include <syslog.h>

#include "config/config.h"
#include "config/integrations.h"
#include "config/kvfile.h"
#include "providers/registry.h"


/* Loads content as threatmilter.conf (with an empty integrations.d). */
static struct tm_config *load(const char *content, char *err, size_t errlen)
{
	char *path = tmpdir_write_file("threatmilter.conf", content);
	char *idir = g_build_filename(dir, "integrations.d", NULL);

	g_mkdir_with_parents(idir, 0755);
	struct tm_config *cfg = config_load(path, err, errlen);
	g_free(path);
	g_free(idir);
	return cfg;
}

static void expect_error(const char *content, const char *fragment)
{
	char err[1024] = "";
	struct tm_config *cfg = load(content, err, sizeof(err));
	char *prefix = g_build_filename(dir, "threatmilter.conf", NULL);

	if (cfg != NULL)
		fail_msg("loaded, expected error containing '%s'", fragment);
	if (strstr(err, fragment) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, fragment);
	assert_true(g_str_has_prefix(err, prefix) || strstr(err, ".txt:") != NULL);
	g_free(prefix);
}

struct collected {
	GString *text;
};

static bool collect(const char *key, const char *value, const char *file, unsigned line,
		    void *userdata, char *err, size_t errlen)
{
	struct collected *c = userdata;

	(void)file;
	if (strcmp(key, "Bad") == 0) {
		snprintf(err, errlen, "no %s", value);
		return false;
	}
	g_string_append_printf(c->text, "%u:%s=%s|", line, key, value);
	return true;
}

static void test_kvfile_syntax(void **state)
{
	(void)state;
	struct collected c = { g_string_new(NULL) };
	char err[256];
	const char text[] = "# comment\n\n  Key1   value one  \r\nKey2\tv#not-comment # comment\n"
			    "Empty\nLast no-newline";

	assert_true(kvfile_parse("t.conf", text, sizeof(text) - 1, collect, &c, err, sizeof(err)));
	assert_string_equal(c.text->str, "3:Key1=value one|4:Key2=v#not-comment|5:Empty=|"
			    "6:Last=no-newline|");
	g_string_free(c.text, TRUE);

	c.text = g_string_new(NULL);
	assert_false(kvfile_parse("t.conf", "A b\nBad thing\n", 14, collect, &c, err, sizeof(err)));
	assert_string_equal(err, "t.conf:2: no thing");
	const char nul[] = "A b\nC \0d\n";
	assert_false(kvfile_parse("n.conf", nul, sizeof(nul) - 1, collect, &c, err, sizeof(err)));
	assert_string_equal(err, "n.conf:2: NUL byte in line");
	g_string_free(c.text, TRUE);

	assert_false(kvfile_read("/nonexistent/x.conf", collect, &c, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/x.conf"));
}

static void test_defaults(void **state)
{
	(void)state;
	struct tm_config *cfg = config_defaults();

	assert_string_equal(cfg->socket, "inet:8895@127.0.0.1");
	assert_int_equal(cfg->socket_mode, 0660);
	assert_int_equal(cfg->umask, 007);
	assert_int_equal(cfg->max_message_size, 25 * 1024 * 1024);
	assert_int_equal(cfg->max_urls, 1000);
	assert_int_equal(cfg->max_mime_depth, 32);
	assert_int_equal(cfg->max_reported_depth, 3);
	assert_int_equal(cfg->scan_deadline_ms, 10000);
	assert_int_equal(cfg->milter_timeout_s, 300);
	assert_int_equal(cfg->on[EVENT_MALICIOUS], ACTION_QUARANTINE);
	assert_int_equal(cfg->on[EVENT_SUSPICIOUS], ACTION_TAG);
	assert_int_equal(cfg->on[EVENT_PROVIDER_ERROR], ACTION_ACCEPT);
	assert_string_equal(cfg->header_prefix, "X-Threat-");
	assert_int_equal(cfg->mode, MODE_INLINE);
	assert_true(cfg->background && cfg->syslog);
	assert_int_equal(cfg->log_level, LOG_INFO);
	/* the embedded default: Spamhaus, no key */
	assert_int_equal(cfg->integrations->len, 1);
	const struct integration *in = g_ptr_array_index(cfg->integrations, 0);
	assert_string_equal(in->type->name, "spamhaus");
	assert_null(in->api_key);
	assert_true(in->active && in->sender_ip && in->verify_ssl);
	assert_ptr_equal(config_ref(cfg), cfg);
	config_unref(cfg);
	config_unref(cfg);
}

static void test_values_and_print(void **state)
{
	(void)state;
	char err[1024];
	struct tm_config *cfg = load("socket local:/run/tm.sock\nMaxMessageSize 10K\n"
				     "ScanDeadline 2500ms\nOn-Malicious REJECT\nBackground off\n"
				     "SocketMode 0600\nSyslogFacility local3\nMode report\n"
				     "ReportRecipients abuse@example.com, example.net\n"
				     "InternalHosts 10.0.0.0/8, 2001:db8::/32\nLogLevel DEBUG\n"
				     "MilterTimeout 2m\n", err, sizeof(err));

	assert_non_null(cfg);
	assert_string_equal(cfg->socket, "local:/run/tm.sock");
	assert_int_equal(cfg->max_message_size, 10240);
	assert_int_equal(cfg->scan_deadline_ms, 2500);
	assert_int_equal(cfg->on[EVENT_MALICIOUS], ACTION_REJECT);
	assert_false(cfg->background);
	assert_int_equal(cfg->mode, MODE_REPORT);
	assert_int_equal(cfg->report_recipients->len, 2);
	assert_int_equal(net_list_count(cfg->internal_hosts), 2);
	assert_int_equal(cfg->log_level, LOG_DEBUG);	/* defect 13: log_set_level's input */
	assert_int_equal(cfg->milter_timeout_s, 120);

	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_true(config_print_value(cfg, "sOcKeTmOdE", out));
	assert_true(config_print_value(cfg, "On-Malicious", out));
	assert_true(config_print_value(cfg, "ScanDeadline", out));
	assert_false(config_print_value(cfg, "NoSuchKey", out));
	assert_true(config_print_value(cfg, "loglevel", out));
	/* every number type (config.c number_types) and a bool: the stored
	 * number and the row's suffix, as -e always printed them */
	assert_true(config_print_value(cfg, "MaxMessageSize", out));
	assert_true(config_print_value(cfg, "MilterTimeout", out));
	assert_true(config_print_value(cfg, "MaxURLs", out));
	assert_true(config_print_value(cfg, "Background", out));
	fclose(out);
	assert_string_equal(buf, "0600\nreject\n2500ms\ndebug\n10240\n120s\n1000\nno\n");
	free(buf);
	config_unref(cfg);
}

static void test_main_file_errors(void **state)
{
	(void)state;
	expect_error("Socket inet:1@127.0.0.1\nBogusKey 1\n", "threatmilter.conf:2: unknown key 'BogusKey'");
	expect_error("Background maybe\n", ":1: Background: bad value 'maybe'");
	expect_error("MaxMessageSize 10X\n", ":1: MaxMessageSize: bad value '10X' (bytes, or a number with K, M or G");
	expect_error("MaxURLs -1\n", ":1: MaxURLs: bad value '-1' (a whole number");
	expect_error("ScanDeadline soon\n", ":1: ScanDeadline: bad value");
	expect_error("ScanDeadline 0\n", ":1: ScanDeadline: bad value '0' (more than 0: 500ms, 10s");
	expect_error("SocketMode 0999\n", ":1: SocketMode: bad value '0999' (an octal mode");
	expect_error("SyslogFacility kernel\n", ":1: SyslogFacility: bad value");
	expect_error("On-Malicious explode\n", ":1: On-Malicious: bad action 'explode'");
	expect_error("Mode sideways\n", ":1: Mode: bad value");
	expect_error("LogLevel chatty\n", ":1: LogLevel: bad level 'chatty'");
	expect_error("MilterTimeout 1500ms\n", ":1: MilterTimeout: bad value '1500ms' (whole seconds");
	expect_error("\n\nMaxURLs 5\nmaxurls 6\n", ":4: MaxURLs given twice (first on line 3)");
	expect_error("LogWhy\n", ":1: LogWhy: value missing");
	expect_error("ExcludeIPs 10.0.0.0/8, 10.0.0.0/33\n", ":1: ExcludeIPs: ");
	expect_error("ExcludeURLs not a domain\n", ":1: ExcludeURLs: ");
	expect_error("InternalHosts file:/nonexistent/hosts\n", ":1: InternalHosts: ");
	expect_error("ExcludeURLs example.com, file:more.txt\n",
		     ":1: ExcludeURLs: \"file:more.txt\": a file: list must be the whole value");
	expect_error("IntegrationsDir /nonexistent/dir\n", "IntegrationsDir /nonexistent/dir");
}

static void test_list_file_error_names_its_line(void **state)
{
	(void)state;
	char *list = tmpdir_write_file("lists/ips.txt", "# trusted\n192.0.2.0/24\n\n10.0.0.0/99\n");
	char *conf = g_strdup_printf("ExcludeIPs file:%s\n", list);
	char err[1024];
	struct tm_config *cfg = load(conf, err, sizeof(err));
	char *expected = g_strdup_printf("%s:4:", list);

	assert_null(cfg);
	if (strstr(err, expected) == NULL)
		fail_msg("'%s' does not name %s", err, expected);
	g_free(expected);
	g_free(conf);
	g_free(list);
}

/* Defect 7: a list file cut every line at its first '#', so the entry
 * "https://example.com/app#/admin" became "https://example.com/app". */
static void test_defect7_list_file_keeps_url_fragments(void **state)
{
	(void)state;
	char *list = tmpdir_write_file("lists/urls.txt",
				"# portal routes\n"
				"https://example.com/app#/admin\n"
				"https://example.org/x#y   # a comment after a blank\n"
				"\t# indented comment\n"
				"example.net#comment-without-blank-is-part-of-the-entry\n");
	char *conf = g_strdup_printf("ExcludeURLs file:%s\n", list);
	char err[1024];
	struct tm_config *cfg = load(conf, err, sizeof(err));

	/* the last line is no domain: an error that names the whole entry */
	assert_null(cfg);
	assert_non_null(strstr(err, "example.net#comment-without-blank"));
	g_free(list);
	g_free(conf);

	list = tmpdir_write_file("lists/urls.txt", "# portal routes\nhttps://example.com/app#/admin\n"
			  "https://example.org/x#y   # a comment after a blank\n");
	conf = g_strdup_printf("ExcludeURLs file:%s\n", list);
	cfg = load(conf, err, sizeof(err));
	assert_non_null(cfg);
	assert_null(exclusions_match_url(cfg->exclusions,
					 "https://example.com/application-evil/login"));
	assert_null(exclusions_match_url(cfg->exclusions, "https://example.com/app/login"));
	assert_non_null(exclusions_match_url(cfg->exclusions, "https://example.com/app#/admin"));
	assert_non_null(exclusions_match_url(cfg->exclusions, "https://example.org/x#y"));

	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_true(config_print_value(cfg, "ExcludeURLs", out));
	fclose(out);
	assert_string_equal(buf, "https://example.com/app#/admin\nhttps://example.org/x#y\n");
	free(buf);
	config_unref(cfg);
	g_free(list);
	g_free(conf);
}

static struct integration *load_integration(const char *content, char *err, size_t errlen)
{
	char *path = tmpdir_write_file("one/test.conf", content);
	struct integration *in = integration_load_file(path, err, errlen);

	g_free(path);
	return in;
}

static void expect_integration_error(const char *content, const char *fragment)
{
	char err[1024] = "";
	struct integration *in = load_integration(content, err, sizeof(err));

	if (in != NULL)
		fail_msg("loaded, expected '%s'", fragment);
	if (strstr(err, fragment) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, fragment);
	assert_non_null(strstr(err, "test.conf"));
	/* keys never appear in messages */
	assert_null(strstr(err, "SECRETKEY"));
}

static void test_integrations(void **state)
{
	(void)state;
	char err[1024];
	struct integration *in = load_integration("Name vt1\nType VirusTotal\nAPIKey SECRETKEY\n"
						  "Tags a, b\nTimeout 800ms\nProxy default\n",
						  err, sizeof(err));

	assert_non_null(in);
	assert_string_equal(in->api_url, "https://www.virustotal.com/api/v3");
	assert_string_equal(in->rate_limit, "4/minute,500/day");
	assert_int_equal(in->timeout_ms, 800);
	assert_int_equal(in->tags->len, 2);
	assert_null(in->proxy);
	assert_true(in->urls && in->attachments && in->verify_ssl);
	integration_free(in);

	char *key = tmpdir_write_file("one/vt.key", "KEYFROMFILE\n");
	char *content = g_strdup_printf("Name vt2\nType virustotal\nAPIKeyFile %s\n", key);
	in = load_integration(content, err, sizeof(err));
	assert_non_null(in);
	assert_string_equal(in->api_key, "KEYFROMFILE");
	integration_free(in);
	g_free(content);
	g_free(key);

	expect_integration_error("Type virustotal\nAPIKey SECRETKEY\n", "Name is required");
	expect_integration_error("Name x\n", "Type is required");
	expect_integration_error("Name x y\nType virustotal\n", "Name: 'x y'");
	expect_integration_error("Name x\nType nosuch\n", ":2: Type: unknown provider type 'nosuch'");
	expect_integration_error("Name x\nType virustotal\n", "APIKey (or APIKeyFile) is required");
	expect_integration_error("Name x\nType xforce\nAPIKey SECRETKEY\n", "APIPassword is required");
	expect_integration_error("Name x\nType virustotal\nAPIKey SECRETKEY\nAPIKeyFile /k\n",
				 ":4: APIKeyFile: give APIKey or APIKeyFile, not both");
	expect_integration_error("Name x\nType safebrowsing\nAPIKey SECRETKEY\nSenderIP yes\n",
				 ":4: SenderIP: Google Safe Browsing cannot");
	expect_integration_error("Name x\nType virustotal\nAPIKey SECRETKEY\nRateLimit 4/fortnight\n",
				 ":4: RateLimit: ");
	expect_integration_error("Name x\nType virustotal\nAPIKey SECRETKEY\nStatus maybe\n",
				 ":4: Status: 'maybe'");
	expect_integration_error("Name x\nType virustotal\nAPIKey SECRETKEY\nCacheHours lots\n",
				 ":4: CacheHours: 'lots' is not a number");
	expect_integration_error("Name x\nType spamhaus\nDNSServers 127.0.0.1:53x\n", ":3: DNSServers");
	expect_integration_error("Name x\nType fortisandbox\nAPIKey SECRETKEY\nAPIPassword p\n",
				 "APIURL is required");
	expect_integration_error("Name x\nType virustotal\nAPIKey SECRETKEY\nColour blue\n",
				 ":4: unknown key 'Colour'");
	/* inactive: the key may be missing */
	in = load_integration("Name x\nType virustotal\nStatus inactive\n", err, sizeof(err));
	assert_non_null(in);
	assert_false(in->active);
	integration_free(in);
}

static void test_integrations_dir(void **state)
{
	(void)state;
	char err[1024];
	char *a = tmpdir_write_file("dir1/a.conf", "Name same\nType spamhaus\n");
	char *b = tmpdir_write_file("dir1/b.conf", "Name same\nType spamhaus\n");
	char *ignored = tmpdir_write_file("dir1/c.conf.example", "this is not read\n");
	char *d = g_build_filename(dir, "dir1", NULL);

	assert_null(integrations_load_dir(d, false, err, sizeof(err)));
	assert_non_null(strstr(err, "Name 'same' is already used by"));
	unlink(b);
	GPtrArray *list = integrations_load_dir(d, false, err, sizeof(err));
	assert_non_null(list);
	assert_int_equal(list->len, 1);
	g_ptr_array_unref(list);
	list = integrations_load_dir("/nonexistent/dir", true, err, sizeof(err));
	assert_int_equal(list->len, 0);
	g_ptr_array_unref(list);
	g_free(a);
	g_free(b);
	g_free(ignored);
	g_free(d);
}

static void test_registry(void **state)
{
	(void)state;
	const char *names[] = { "spamhaus", "virustotal", "safebrowsing", "webrisk", "xforce",
				"metadefender", "vmray", "anyrun", "fortisandbox", "cyberxray",
				"apivoid", "ironscales" };

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		assert_non_null(provider_type_find(names[i]));
	assert_null(provider_type_find("nosuch"));
	assert_true(provider_asks(provider_type_find("spamhaus")));
	assert_null(provider_type_at(12));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kvfile_syntax),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_and_print),
		cmocka_unit_test(test_main_file_errors),
		cmocka_unit_test(test_list_file_error_names_its_line),
		cmocka_unit_test(test_defect7_list_file_keeps_url_fragments),
		cmocka_unit_test(test_integrations),
		cmocka_unit_test(test_integrations_dir),
		cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
