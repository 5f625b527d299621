/* ctl_integration_edit.c: `integration add|edit|enable|disable`, the
 * seed's "New integration" form and its edit/status actions
 * (../shared/seeds/000_*.txt, "Creating New Integration").
 *
 * Every value goes through the schema (integration_schema.h): a new
 * integration starts from integration_new() (the form's per-type
 * defaults), fields are set with integration_set_value(), the text is
 * rendered over the old file (integration_render()) and checked with the
 * daemon's rules as if it were the file, every value read back as it was
 * set (integration_check_written()), before atomic_replace() writes it
 * (temp file, fsync, rename, mode 0640). A value the file cannot hold
 * (kvfile_write.h) is refused with the field's name. */
#include "ctl/ctl.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/atomicfile.h"
#include "config/integration_schema.h"
#include "config/integration_write.h"
#include "config/integrations.h"
#include "config/kvfile.h"
#include "config/kvfile_write.h"
#include "providers/registry.h"
#include "util/fileio.h"

#define INTEGRATION_FILE_MODE 0640	/* as integration_write_file() */

/* The form's labels that do not reduce to a key name, and the tool's
 * short options. Matching ignores case, blanks, '-' and '_'. */
static const struct {
	const char *label, *key;
} aliases[] = {
	{ "key", "APIKey" },
	{ "password", "APIPassword" },
	{ "integrationname", "Name" },
	{ "integrationtype", "Type" },
	{ "uploadotherfiletypes", "UploadOtherFiles" },
	{ "datecreated", "Created" },
};

static char *squash(const char *s)
{
	GString *out = g_string_new(NULL);

	for (; *s != '\0'; s++)
		if (g_ascii_isalnum(*s))
			g_string_append_c(out, g_ascii_tolower(*s));
	return g_string_free(out, FALSE);
}

/* The schema row a --FIELD names, or NULL. */
static const struct integration_key *field_key(const char *field)
{
	char *want = squash(field);
	const struct integration_key *k, *found = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(aliases) && found == NULL; i++)
		if (strcmp(want, aliases[i].label) == 0)
			found = integration_schema_find(aliases[i].key);
	for (unsigned i = 0; found == NULL && (k = integration_schema_at(i)) != NULL; i++) {
		char *have = squash(k->name);

		if (strcmp(have, want) == 0)
			found = k;
		g_free(have);
	}
	g_free(want);
	return found;
}

/* A type by its name or the form's display name ("Zen SpamHaus"). */
static const struct provider_type *find_type(const char *text)
{
	const struct provider_type *t = provider_type_find(text);
	char *want = squash(text);

	for (unsigned i = 0; t == NULL && provider_type_at(i) != NULL; i++) {
		char *have = squash(provider_type_at(i)->display_name);

		if (strcmp(have, want) == 0)
			t = provider_type_at(i);
		g_free(have);
	}
	g_free(want);
	return t;
}

struct line_search {
	const char *key;
	unsigned line;
};

static bool find_line(const char *key, const char *value, const char *file, unsigned line,
		      void *userdata, char *err, size_t errlen)
{
	struct line_search *s = userdata;

	(void)value, (void)file, (void)err, (void)errlen;
	if (g_ascii_strcasecmp(key, s->key) == 0)
		s->line = line;
	return true;
}

/* "path:line: " where the key is in the file, else "path: ". */
static void report_value_error(const char *path, const char *key, const char *msg)
{
	struct line_search s = { key, 0 };
	char ignored[256];

	if (access(path, F_OK) == 0)
		(void)kvfile_read(path, find_line, &s, ignored, sizeof(ignored));
	if (s.line > 0)
		ctl_error("%s:%u: %s (nothing written)", path, s.line, msg);
	else
		ctl_error("%s: %s (nothing written)", path, msg);
}

/* Whether the value of `k` now in `in` (as the file will hold it: tags
 * joined with ", ") can be written so that the loader reads it back;
 * else "Key: why" in err, the value never quoted (threatmilterctl(8),
 * VALUES). write_checked() then compares the whole file read back. */
static bool writable(const struct integration *in, const struct integration_key *k,
		     char *err, size_t errlen)
{
	char *value = integration_get_value(in, k);
	const char *why = value ? kvfile_value_unwritable(value) : NULL;

	secret_free(value);
	if (why != NULL)
		snprintf(err, errlen, "%s: %s", k->name, why);
	return why == NULL;
}

/* The one-line hint after a usage error of add/edit (threatmilterctl(8):
 * usage errors exit 2). */
static int field_usage(const char *verb)
{
	bool add = strcmp(verb, "add") == 0;

	fprintf(stderr, "usage: threatmilterctl integration %s NAME%s --FIELD VALUE...%s "
		"(see integration %s --help)\n", verb, add ? " --type TYPE [" : "",
		add ? "]" : "", verb);
	return CTL_USAGE;
}

/* Sets one --FIELD from the command line; secrets may come from stdin or
 * a file. CTL_OK, or CTL_USAGE (unknown field) or CTL_FAIL (a value
 * refused) after printing the reason. */
static int set_field(struct integration *in, const char *path, const char *base_dir,
		      const char *field, const char *value, bool from_file)
{
	const struct integration_key *k = from_file
		? integration_schema_find(strcmp(field, "password-file") == 0 ? "APIPassword"
									     : "APIKey")
		: field_key(field);
	char err[512];
	char *secret = NULL;
	bool ok;

	if (k == NULL) {
		ctl_error("unknown field '--%s' (the keys of threatmilter.conf(5), INTEGRATION "
			  "FILES)", field);
		return CTL_USAGE;
	}
	if (k->kind == IKEY_NAME || k->kind == IKEY_TYPE) {
		ctl_error("--%s cannot be changed: delete the integration and add it again",
			  field);
		return CTL_FAIL;
	}
	if (k->kind == IKEY_SECRET) {
		secret = ctl_read_secret(value, from_file, k->name, err, sizeof(err));
		if (secret == NULL) {
			ctl_error("%s", err);
			return CTL_FAIL;
		}
		value = secret;
	}
	ok = integration_set_value(in, k, value, base_dir, err, sizeof(err)) &&
	     writable(in, k, err, sizeof(err));
	if (ok && k->kind == IKEY_SECRET && k->offset == offsetof(struct integration, api_key)) {
		g_free(in->api_key_file);	/* an inline key replaces a key file */
		in->api_key_file = NULL;
	}
	secret_free(secret);
	if (!ok)
		report_value_error(path, k->name, err);
	return ok ? CTL_OK : CTL_FAIL;
}

/* Applies argv's --FIELD VALUE / --FIELD=VALUE pairs (from `first` on).
 * CTL_OK; CTL_USAGE after the usage hint (an argument that is no field,
 * an unknown field, a field without its value); CTL_FAIL (a value
 * refused). */
static int apply_fields(struct ctl *ctl, struct integration *in, const char *path,
			int argc, char **argv, int first)
{
	for (int i = first; i < argc; i++) {
		const char *arg = argv[i], *eq, *value;
		char *field;
		int rc;

		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			ctl_error("unexpected argument '%s' (fields are --FIELD VALUE)", arg);
			return field_usage(argv[0]);
		}
		if ((eq = strchr(arg, '=')) != NULL) {
			field = g_strndup(arg + 2, (gsize)(eq - arg - 2));
			value = eq + 1;
		} else if (i + 1 < argc) {
			field = g_strdup(arg + 2);
			value = argv[++i];
		} else {
			ctl_error("%s needs a value", arg);
			return field_usage(argv[0]);
		}
		rc = set_field(in, path, ctl->integrations_dir, field, value,
			       strcmp(field, "key-file") == 0 ||
			       strcmp(field, "password-file") == 0);
		g_free(field);
		if (rc == CTL_USAGE)
			return field_usage(argv[0]);
		if (rc != CTL_OK)
			return rc;
	}
	return CTL_OK;
}

struct write_check {
	const char *path;
	bool set_owner;
	uid_t uid;
	gid_t gid;
};

/* atomic_check_fn: the temp file gets the owner it will keep. */
static bool give_owner(const char *tmp_path, void *userdata, char *err, size_t errlen)
{
	const struct write_check *wc = userdata;

	if (wc->set_owner && lchown(tmp_path, wc->uid, wc->gid) != 0) {
		snprintf(err, errlen, "%s: cannot give it owner %u:%u: %s", wc->path,
			 (unsigned)wc->uid, (unsigned)wc->gid, g_strerror(errno));
		return false;
	}
	return true;
}

/* The new text of the file, rendered over the old one (comments and
 * order kept), accepted by the daemon's loader as if it were the file
 * and giving back every value (integration_check_written()); then
 * written atomically, mode 0640. */
static bool write_checked(const struct integration *in, struct write_check *wc)
{
	gchar *old = NULL;
	char err[1024];
	bool ok = false;

	old = fileio_read_all(wc->path, NULL, NULL, err, sizeof(err));
	if (old == NULL && errno != ENOENT) {
		ctl_error("%s (nothing written)", err);
		return false;
	}
	char *text = integration_render(in, old);

	if (!integration_check_written(in, text, wc->path, err, sizeof(err)))
		ctl_error("%s (nothing written)", err);
	else if (!atomic_replace(wc->path, text, strlen(text), INTEGRATION_FILE_MODE, give_owner,
				 wc, err, sizeof(err)))
		ctl_error("%s", err);
	else
		ok = true;
	secret_free(text);
	secret_free(old);
	return ok;
}

/* A new file is owned as the directory's other integration files are (or
 * as the directory, when it has none): root:threatmilter in a package
 * install. Only root can give files away. */
static void new_file_owner(const struct ctl *ctl, struct write_check *wc)
{
	GDir *d;
	const char *entry;
	struct stat st;
	bool found = false;

	if (geteuid() != 0)
		return;		/* before the directory is opened: nothing to close */
	d = g_dir_open(ctl->integrations_dir, 0, NULL);
	while (d != NULL && !found && (entry = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(ctl->integrations_dir, entry, NULL);

		found = g_str_has_suffix(entry, ".conf") && entry[0] != '.' &&
			lstat(p, &st) == 0 && S_ISREG(st.st_mode);
		g_free(p);
	}
	if (d != NULL)
		g_dir_close(d);
	if (found || stat(ctl->integrations_dir, &st) == 0) {
		wc->set_owner = true;
		wc->uid = st.st_uid;
		wc->gid = st.st_gid;
	}
}

/* "Type: ... not implemented" in plain words, before anything else. */
static bool refuse_unimplemented(const struct integration *in)
{
	if (!in->active || provider_implemented(in->type))
		return false;
	ctl_error("%s (%s) integrations cannot be active yet: this version does not "
		  "implement their lookups (one can be kept with Status inactive: "
		  "add NAME --type %s --status inactive); nothing written",
		  in->type->display_name, in->type->name, in->type->name);
	return true;
}

/* Whether argv asks for Status inactive (before any key is read). */
static bool asks_inactive(int argc, char **argv, int first)
{
	for (int i = first; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '=');
		char *field = eq ? g_strndup(arg, (gsize)(eq - arg)) : g_strdup(arg);
		const char *value = eq ? eq + 1 : i + 1 < argc ? argv[i + 1] : "";
		bool status = strncmp(arg, "--", 2) == 0 &&
			      field_key(field + 2) == integration_schema_find("Status");

		g_free(field);
		if (status)
			return g_ascii_strcasecmp(value, "inactive") == 0;
	}
	return false;
}

static int write_and_reload(struct ctl *ctl, struct integration *in, const char *path,
			    bool is_new, const char *done)
{
	struct write_check wc = { .path = path };

	if (refuse_unimplemented(in))
		return CTL_FAIL;
	if (is_new) {
		if (g_mkdir_with_parents(ctl->integrations_dir, 0750) != 0) {
			ctl_error("%s: %s", ctl->integrations_dir, g_strerror(errno));
			return CTL_FAIL;
		}
		new_file_owner(ctl, &wc);
	}
	if (!write_checked(in, &wc))
		return CTL_FAIL;
	printf("%s %s (%s)\n", done, in->name, path);
	return ctl_reload(ctl);
}

static char *now_iso8601(void)
{
	char buf[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return g_strdup(buf);
}

/* Takes --type T (or --type=T, or the form's --integration-type) out of
 * argv, wherever it is; its value or NULL. */
static const char *take_type(int *argc, char **argv)
{
	const char *text = NULL;
	int out = 2;

	for (int i = 2; i < *argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '=');
		char *field = eq ? g_strndup(arg, (gsize)(eq - arg)) : g_strdup(arg);
		bool is_type = text == NULL && strncmp(arg, "--", 2) == 0 &&
			       field_key(field + 2) == integration_schema_find("Type");

		g_free(field);
		if (is_type && eq != NULL)
			text = eq + 1;
		else if (is_type && i + 1 < *argc)
			text = argv[++i];
		else
			argv[out++] = argv[i];
	}
	*argc = out;
	return text;
}

static int cmd_add(struct ctl *ctl, const char *name, int argc, char **argv)
{
	const char *type_text = take_type(&argc, argv);
	const struct provider_type *type = type_text ? find_type(type_text) : NULL;
	const int first = 2;
	char err[512];

	if (type == NULL) {
		GString *known = g_string_new(NULL);

		for (unsigned i = 0; provider_type_at(i) != NULL; i++)
			g_string_append_printf(known, "%s%s", i ? ", " : "",
					       provider_type_at(i)->name);
		ctl_error("add NAME --type TYPE [--FIELD VALUE...]: %s (types: %s)",
			  type_text ? "unknown type" : "--type is required", known->str);
		g_string_free(known, TRUE);
		return CTL_USAGE;
	}
	struct integration *in = integration_new(type, NULL);
	char *file = g_strconcat(name, ".conf", NULL);
	char *path = g_build_filename(ctl->integrations_dir, file, NULL);
	GPtrArray *list = ctl_load_integrations(ctl, NULL);
	int rc = CTL_FAIL;

	g_free(file);
	if (!integration_set_value(in, integration_schema_find("Name"), name, NULL, err,
				   sizeof(err))) {
		ctl_error("%s", err);
		rc = CTL_USAGE;
	} else if (ctl_find(list, name) != NULL || access(path, F_OK) == 0) {
		ctl_error("an integration named '%s' exists already (%s)", name,
			  ctl_find(list, name) ? ctl_find(list, name)->file : path);
	} else if (!provider_asks(type) && !asks_inactive(argc, argv, first)) {
		in->active = true;
		refuse_unimplemented(in);
	} else {
		in->created = now_iso8601();
		rc = apply_fields(ctl, in, path, argc, argv, first);
		if (rc == CTL_OK)
			rc = write_and_reload(ctl, in, path, true, "added");
	}
	g_ptr_array_unref(list);
	integration_free(in);
	g_free(path);
	return rc;
}

int ctl_integration_change(struct ctl *ctl, int argc, char **argv)
{
	const char *verb = argv[0], *name = argc > 1 ? argv[1] : NULL;
	bool status_verb = strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0;
	int rc = CTL_FAIL;

	if (name != NULL && (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)) {
		printf("usage: threatmilterctl [-c FILE] integration %s NAME%s [--no-reload]\n"
		       "  see threatmilterctl(8) for the fields and their defaults\n", verb,
		       strcmp(verb, "add") == 0 ? " --type TYPE [--FIELD VALUE...]" :
		       status_verb ? "" : " --FIELD VALUE...");
		return CTL_OK;
	}
	if (name == NULL || name[0] == '-' || (status_verb && argc > 2) ||
	    (strcmp(verb, "edit") == 0 && argc < 3)) {
		ctl_error("usage: integration %s NAME%s (see --help)", verb,
			  status_verb ? "" : " --FIELD VALUE...");
		return CTL_USAGE;
	}
	if (strcmp(verb, "add") == 0)
		return cmd_add(ctl, name, argc, argv);

	GPtrArray *list;
	struct integration *in = ctl_load_named(ctl, name, &list);

	if (in == NULL)
		return CTL_USAGE;
	char *path = g_strdup(in->file);
	if (status_verb) {
		in->active = strcmp(verb, "enable") == 0;
		rc = write_and_reload(ctl, in, path, false,
				      in->active ? "enabled" : "disabled");
	} else {
		rc = apply_fields(ctl, in, path, argc, argv, 2);
		if (rc == CTL_OK)
			rc = write_and_reload(ctl, in, path, false, "changed");
	}
	g_free(path);
	g_ptr_array_unref(list);
	return rc;
}
