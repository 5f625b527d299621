/* test_uploads.c: which attachments may be uploaded, and their bytes
 * (issue 12):
 *   - planning: a hash lookup carries the file only when the
 *     integration's Attachments and the toggle of its kind are on, it is
 *     not over MaxUploadSize, its extension is not excluded and the type
 *     takes files (CAP_UPLOAD); a PE is told by its content, not its name;
 *   - analysis: the bytes are kept only for the kinds and sizes some
 *     active integration may upload, and dropped for an excluded one;
 *   - sample: over SampleMemoryLimit the bytes go to an unlinked 0600
 *     file of TmpDir, read back through /proc/self/fd. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <glib.h>

#include "analysis/analyze.h"
#include "analysis/filetype.h"
#include "config/config.h"
#include "config/integrations.h"
#include "lookup/plan.h"
#include "lookup/sample.h"
#include "providers/provider_http.h"
#include "providers/registry.h"
#include "tmpdir.h"

/* the smallest PE the detector accepts: "MZ", e_lfanew = 0x40, "PE\0\0" */
static GByteArray *pe_bytes(size_t pad)
{
	GByteArray *b = g_byte_array_new();
	guint8 zero[0x40] = { 'M', 'Z' };

	zero[0x3c] = 0x40;
	g_byte_array_append(b, zero, sizeof(zero));
	g_byte_array_append(b, (const guint8 *)"PE\0\0", 4);
	for (size_t i = 0; i < pad; i++)
		g_byte_array_append(b, (const guint8 *)"x", 1);
	return b;
}

static struct integration *md(bool pe, bool other, size_t max)
{
	struct integration *in = integration_new(provider_type_find("metadefender"), "md");

	in->api_key = g_strdup("k");
	in->attachments = true;
	in->upload_pe_files = pe;
	in->upload_other_files = other;
	in->max_upload_size = max;
	return in;
}

static struct tm_config *config_with(struct integration *in)
{
	struct tm_config *cfg = config_defaults();

	g_ptr_array_set_size(cfg->integrations, 0);
	g_ptr_array_add(cfg->integrations, in);
	return cfg;
}

/* A message whose one attachment is named name and holds data. */
static char *message_with(const char *name, const GByteArray *data)
{
	gchar *b64 = g_base64_encode(data->data, data->len);
	char *msg = g_strdup_printf(
		"From: a@example.test\r\nTo: b@example.test\r\nSubject: t\r\n"
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
		"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--B\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment; filename=\"%s\"\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--B--\r\n", name, b64);

	g_free(b64);
	return msg;
}

/* Analyses a one-attachment message with the options cfg implies and
 * plans it: the hash lookup (or NULL) and the attachment. */
static struct lookup *plan_one(struct tm_config *cfg, const char *name, const GByteArray *data,
			       struct facts **facts, struct plan *plan)
{
	char *text = message_with(name, data);
	struct analyze_options keep;
	bool any = plan_sample_options(cfg, &keep);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));

	*facts = analyze_stream_keep(stream, cfg, any ? &keep : NULL);
	g_object_unref(stream);
	g_free(text);
	plan_build((const struct facts *const *)facts, 1, cfg, plan);
	for (guint i = 0; i < plan->lookups->len; i++) {
		struct lookup *l = g_ptr_array_index(plan->lookups, i);

		if (l->kind == INDICATOR_HASH)
			return l;
	}
	return NULL;
}

struct upload_case {
	const char *what;
	bool pe_toggle, other_toggle, attachments;
	size_t max;
	const char *name;
	bool pe_content;
	bool uploaded;
};

static void test_upload_policy(void **state)
{
	static const struct upload_case cases[] = {
		{ "PE, UploadPEFiles on", true, false, true, 1024, "a.exe", true, true },
		{ "PE, UploadPEFiles off", false, true, true, 1024, "a.exe", true, false },
		{ "PE named .pdf is a PE", true, false, true, 1024, "invoice.pdf", true, true },
		{ "text named .exe is no PE", true, false, true, 1024, "setup.exe", false, false },
		{ "text named .exe: other", false, true, true, 1024, "setup.exe", false, true },
		{ "other, UploadOtherFiles off", true, false, true, 1024, "a.txt", false, false },
		{ "other, UploadOtherFiles on", false, true, true, 1024, "a.txt", false, true },
		{ "PE over MaxUploadSize", true, true, true, 60, "a.exe", true, false },
		{ "PE at MaxUploadSize", true, true, true, 68, "a.exe", true, true },
		{ "Attachments off", true, true, false, 1024, "a.exe", true, false },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct upload_case *c = &cases[i];
		struct integration *in = md(c->pe_toggle, c->other_toggle, c->max);
		struct tm_config *cfg = config_with(in);
		GByteArray *data = c->pe_content ? pe_bytes(0) : g_byte_array_new();
		struct facts *facts;
		struct plan plan;

		if (!c->pe_content)
			g_byte_array_append(data, (const guint8 *)"just some text, 68 bytes long: "
					    "padding padding padding pad", 59);
		in->attachments = c->attachments;
		struct lookup *l = plan_one(cfg, c->name, data, &facts, &plan);

		if (!c->attachments) {
			assert_null(l);
		} else {
			assert_non_null(l);
			if ((l->sample != NULL) != c->uploaded)
				fail_msg("%s: sample %s", c->what, l->sample ? "set" : "missing");
			if (l->sample != NULL) {
				assert_int_equal(sample_size(l->sample), data->len);
				assert_int_equal(sample_is_pe(l->sample), c->pe_content);
				assert_string_equal(sample_sha256(l->sample), l->indicator);
			}
		}
		plan_clear(&plan);
		facts_free(facts);
		g_byte_array_unref(data);
		config_unref(cfg);
	}
}

static void test_bytes_dropped_when_nobody_uploads(void **state)
{
	struct integration *in = md(true, false, 1024);
	struct tm_config *cfg = config_with(in);
	GByteArray *text = g_byte_array_new();
	struct facts *facts;
	struct plan plan;

	(void)state;
	g_byte_array_append(text, (const guint8 *)"plain", 5);
	plan_one(cfg, "a.txt", text, &facts, &plan);
	const struct attachment_fact *att = g_ptr_array_index(facts->attachments, 0);
	assert_null(att->sample);		/* only PEs are uploaded here */
	plan_clear(&plan);
	facts_free(facts);

	/* no integration uploads at all: no options, no bytes */
	in->upload_pe_files = false;
	struct analyze_options keep;
	assert_false(plan_sample_options(cfg, &keep));
	g_byte_array_unref(text);
	config_unref(cfg);
}

static void test_excluded_extension_never_uploaded(void **state)
{
	struct integration *in = md(true, true, 1024);
	struct attachment_fact att = { .extension = (char *)"exe", .size = 10, .pe = true,
				       .excluded = "exe" };
	const char *why = NULL;

	(void)state;
	assert_false(plan_may_upload(in, &att, &why));
	assert_string_equal(why, "excluded extension");
	att.excluded = NULL;
	assert_true(plan_may_upload(in, &att, &why));
	assert_null(why);
	integration_free(in);
}

/* Breaker2 F1: an upload-only type (ANY.RUN: no hash lookup) as the only
 * integration taking files got no attachment at all: the planner counted
 * attachments as indicators only for types with a hash lookup. The file
 * it would upload is asked; one it would not is no indicator. */
static void test_upload_only_type_alone_gets_the_file(void **state)
{
	struct integration *in = integration_new(provider_type_find("anyrun"), "ar");
	struct tm_config *cfg = config_with(in);
	GByteArray *pe = pe_bytes(0), *text = g_byte_array_new();
	struct facts *facts;
	struct plan plan;
	struct lookup *l;

	(void)state;
	in->api_key = g_strdup("k");
	in->attachments = true;
	in->upload_pe_files = true;
	in->upload_other_files = false;
	in->max_upload_size = 1024;
	l = plan_one(cfg, "a.exe", pe, &facts, &plan);
	assert_non_null(l);
	assert_non_null(l->sample);
	assert_string_equal(sample_sha256(l->sample), l->indicator);
	plan_clear(&plan);
	facts_free(facts);

	g_byte_array_append(text, (const guint8 *)"plain text", 10);
	l = plan_one(cfg, "a.txt", text, &facts, &plan);
	assert_null(l);
	for (guint i = 0; i < plan.indicators->len; i++) {
		const struct plan_indicator *ind = g_ptr_array_index(plan.indicators, i);

		assert_int_not_equal(ind->kind, INDICATOR_HASH);
	}
	plan_clear(&plan);
	facts_free(facts);
	g_byte_array_unref(pe);
	g_byte_array_unref(text);
	config_unref(cfg);
}

static void test_type_without_upload(void **state)
{
	struct integration *in = integration_new(provider_type_find("xforce"), "xf");
	struct attachment_fact att = { .extension = (char *)"exe", .size = 10, .pe = true };
	const char *why = NULL;

	(void)state;
	in->attachments = true;
	in->upload_pe_files = true;	/* cannot be set in a file; ignored anyway */
	in->max_upload_size = 1024;
	assert_false(plan_may_upload(in, &att, &why));
	assert_string_equal(why, "the type takes no files");
	integration_free(in);
}

static unsigned entries_in(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_sample_spills_to_unlinked_file(void **state)
{
	GByteArray *data = pe_bytes(5000);
	char err[256] = "";

	(void)state;
	struct sample *small = sample_new_bounded("a.exe", "ab", true, data->data, data->len,
						  data->len, dir, err, sizeof(err));
	assert_non_null(small);
	assert_false(sample_spilled(small));
	sample_unref(small);

	struct sample *s = sample_new_bounded("a/b\".exe", "AB", true, data->data, data->len,
					      1024, dir, err, sizeof(err));
	assert_non_null(s);
	assert_true(sample_spilled(s));
	assert_int_equal(entries_in(dir), 0);		/* unlinked at once */
	assert_string_equal(sample_name(s), "a_b_.exe");
	assert_string_equal(sample_sha256(s), "ab");
	assert_int_equal(sample_size(s), data->len);

	GBytes *back = sample_bytes(s);
	gsize len;
	const void *p = g_bytes_get_data(back, &len);
	assert_int_equal(len, data->len);
	assert_memory_equal(p, data->data, len);
	g_bytes_unref(back);

	/* the multipart part names our descriptor's /proc path; mode 0600 */
	struct http_request req;
	http_request_init(&req);
	sample_add_part(s, &req, "file");
	const struct http_part *part = g_ptr_array_index(req.parts, 0);
	assert_non_null(part->path);
	assert_true(g_str_has_prefix(part->path, "/proc/self/fd/"));
	struct stat st;
	assert_int_equal(stat(part->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal((size_t)st.st_size, data->len);
	assert_int_equal(st.st_nlink, 0);
	http_request_clear(&req);
	sample_unref(s);
	g_byte_array_unref(data);
}

static void test_spill_failure_reported(void **state)
{
	char err[256] = "";
	char *missing = g_build_filename(dir, "no-such-dir", NULL);

	(void)state;
	assert_null(sample_new_bounded("a", "ab", false, "0123456789", 10, 4, missing, err,
				       sizeof(err)));
	assert_non_null(strstr(err, "TmpDir"));
	g_free(missing);
}

static void test_pe_by_content(void **state)
{
	GByteArray *pe = pe_bytes(0);

	(void)state;
	assert_true(filetype_is_pe(pe->data, pe->len));
	assert_false(filetype_is_pe((const unsigned char *)"\x7f" "ELF....", 8));
	assert_true(filetype_is_executable((const unsigned char *)"\x7f" "ELF....", 8));
	pe->data[0x40] = 'N';			/* "NE": not a PE */
	assert_false(filetype_is_pe(pe->data, pe->len));
	g_byte_array_unref(pe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_policy),
		cmocka_unit_test(test_bytes_dropped_when_nobody_uploads),
		cmocka_unit_test(test_excluded_extension_never_uploaded),
		cmocka_unit_test(test_upload_only_type_alone_gets_the_file),
		cmocka_unit_test(test_type_without_upload),
		cmocka_unit_test(test_sample_spills_to_unlinked_file),
		cmocka_unit_test(test_spill_failure_reported),
		cmocka_unit_test(test_pe_by_content),
	};

	analyze_init();
	int rc = cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);

	analyze_shutdown();
	return rc;
}
