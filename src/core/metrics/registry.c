/* registry.c: the metric registry and its text exposition (registry.h). */
#include "metrics/registry.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <glib.h>

#include "util/log.h"

struct metric_series {
	struct metric_family *family;
	char **values;			/* label values, family->nlabels of them */
	uint64_t value;			/* counter; gauge as int64 bits */
	uint64_t *buckets;		/* histogram: per bound, then +Inf (not cumulative) */
	uint64_t sum_bits;		/* histogram: the double sum's bits */
};

struct metric_family {
	struct metrics *registry;
	enum metric_type type;
	char *name;
	char *help;
	char **labels;			/* NULL-terminated */
	size_t nlabels;
	double *bounds;
	size_t nbounds;
	GPtrArray *series;		/* struct metric_series *, creation order */
	GHashTable *by_values;		/* joined values -> series */
	double (*fn)(void *data);	/* a computed gauge */
	void *fn_data;
};

struct metrics {
	pthread_mutex_t lock;		/* the lists; never the values */
	GPtrArray *families;
	GHashTable *names;		/* name -> family */
};

static void series_free(gpointer data)
{
	struct metric_series *s = data;

	g_strfreev(s->values);
	g_free(s->buckets);
	g_free(s);
}

static void family_free(gpointer data)
{
	struct metric_family *f = data;

	g_ptr_array_unref(f->series);
	g_hash_table_destroy(f->by_values);
	g_strfreev(f->labels);
	g_free(f->bounds);
	g_free(f->name);
	g_free(f->help);
	g_free(f);
}

struct metrics *metrics_new(void)
{
	struct metrics *m = g_new0(struct metrics, 1);

	pthread_mutex_init(&m->lock, NULL);
	m->families = g_ptr_array_new_with_free_func(family_free);
	m->names = g_hash_table_new(g_str_hash, g_str_equal);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	g_hash_table_destroy(m->names);
	g_ptr_array_unref(m->families);
	pthread_mutex_destroy(&m->lock);
	g_free(m);
}

static gboolean valid_name(const char *name, bool colon)
{
	if (name == NULL || !(g_ascii_isalpha(*name) || *name == '_' || (colon && *name == ':')))
		return FALSE;
	for (const char *p = name + 1; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '_' && !(colon && *p == ':'))
			return FALSE;
	return TRUE;
}

static bool valid_family(enum metric_type type, const char *name, const char *const *labels,
			 const double *bounds, size_t nbounds)
{
	if (!valid_name(name, true) || (type == METRIC_COUNTER && !g_str_has_suffix(name, "_total")))
		return false;
	for (size_t i = 0; labels != NULL && labels[i] != NULL; i++)
		if (!valid_name(labels[i], false) || strcmp(labels[i], "le") == 0 ||
		    g_str_has_prefix(labels[i], "__"))
			return false;
	if (type == METRIC_HISTOGRAM && (bounds == NULL || nbounds == 0))
		return false;
	for (size_t i = 0; i < nbounds; i++)
		if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
			return false;
	return true;
}

/* Adds f under the lock; false (and f freed) when its name is taken. */
static bool family_add(struct metrics *m, struct metric_family *f)
{
	bool ok;

	pthread_mutex_lock(&m->lock);
	ok = !g_hash_table_contains(m->names, f->name);
	if (ok) {
		g_ptr_array_add(m->families, f);
		g_hash_table_insert(m->names, f->name, f);
	}
	pthread_mutex_unlock(&m->lock);
	if (!ok) {
		log_msg(LOG_ERR, "metrics: %s registered twice", f->name);
		family_free(f);
	}
	return ok;
}

static struct metric_family *family_new(struct metrics *m, enum metric_type type,
					const char *name, const char *help)
{
	struct metric_family *f = g_new0(struct metric_family, 1);

	f->registry = m;
	f->type = type;
	f->name = g_strdup(name);
	f->help = g_strdup(help ? help : "");
	f->series = g_ptr_array_new_with_free_func(series_free);
	f->by_values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return f;
}

struct metric_family *metrics_family(struct metrics *m, enum metric_type type, const char *name,
				     const char *help, const char *const *labels,
				     const double *bounds, size_t nbounds)
{
	struct metric_family *f;

	if (m == NULL)
		return NULL;
	if (!valid_family(type, name, labels, bounds, type == METRIC_HISTOGRAM ? nbounds : 0)) {
		log_msg(LOG_ERR, "metrics: invalid family %s", name ? name : "(null)");
		return NULL;
	}
	f = family_new(m, type, name, help);
	f->labels = labels != NULL ? g_strdupv((char **)labels) : g_new0(char *, 1);
	f->nlabels = g_strv_length(f->labels);
	if (type == METRIC_HISTOGRAM) {
		f->bounds = g_memdup2(bounds, nbounds * sizeof(double));
		f->nbounds = nbounds;
	}
	return family_add(m, f) ? f : NULL;
}

int metrics_gauge_fn(struct metrics *m, const char *name, const char *help,
		     double (*fn)(void *data), void *data)
{
	struct metric_family *f;

	if (m == NULL || fn == NULL || !valid_name(name, true))
		return 0;
	f = family_new(m, METRIC_GAUGE, name, help);
	f->labels = g_new0(char *, 1);
	f->fn = fn;
	f->fn_data = data;
	return family_add(m, f);
}

struct metric_series *metrics_series(struct metric_family *f, const char *const *values)
{
	struct metric_series *s;
	GString *key;

	if (f == NULL || f->fn != NULL)
		return NULL;
	key = g_string_new(NULL);
	for (size_t i = 0; i < f->nlabels; i++) {
		if (values == NULL || values[i] == NULL) {
			g_string_free(key, TRUE);
			return NULL;
		}
		/* escaped values never hold a raw \x1f: the joined key is unique */
		char *escaped = g_strescape(values[i], NULL);

		g_string_append(key, escaped);
		g_string_append_c(key, '\x1f');
		g_free(escaped);
	}
	pthread_mutex_lock(&f->registry->lock);
	s = g_hash_table_lookup(f->by_values, key->str);
	if (s == NULL) {
		s = g_new0(struct metric_series, 1);
		s->family = f;
		s->values = g_new0(char *, f->nlabels + 1);
		for (size_t i = 0; i < f->nlabels; i++)
			s->values[i] = g_strdup(values[i]);
		if (f->type == METRIC_HISTOGRAM)
			s->buckets = g_new0(uint64_t, f->nbounds + 1);
		g_ptr_array_add(f->series, s);
		g_hash_table_insert(f->by_values, g_strdup(key->str), s);
	}
	pthread_mutex_unlock(&f->registry->lock);
	g_string_free(key, TRUE);
	return s;
}

void metric_add(struct metric_series *s, uint64_t n)
{
	if (s != NULL)
		__atomic_fetch_add(&s->value, n, __ATOMIC_RELAXED);
}

void metric_set(struct metric_series *s, int64_t v)
{
	if (s != NULL)
		__atomic_store_n(&s->value, (uint64_t)v, __ATOMIC_RELAXED);
}

void metric_gauge_add(struct metric_series *s, int64_t delta)
{
	/* two's complement: adding the unsigned image adds the signed value */
	if (s != NULL)
		__atomic_fetch_add(&s->value, (uint64_t)delta, __ATOMIC_RELAXED);
}

void metric_observe(struct metric_series *s, double value)
{
	const struct metric_family *f;
	size_t i = 0;
	uint64_t old_bits, new_bits;

	if (s == NULL || isnan(value))
		return;
	f = s->family;
	while (i < f->nbounds && value > f->bounds[i])
		i++;
	__atomic_fetch_add(&s->buckets[i], 1, __ATOMIC_RELAXED);
	old_bits = __atomic_load_n(&s->sum_bits, __ATOMIC_RELAXED);
	do {
		double sum;

		memcpy(&sum, &old_bits, sizeof(sum));
		sum += value;
		memcpy(&new_bits, &sum, sizeof(sum));
	} while (!__atomic_compare_exchange_n(&s->sum_bits, &old_bits, new_bits, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

int64_t metric_value(const struct metric_series *s)
{
	int64_t total = 0;

	if (s == NULL)
		return 0;
	if (s->buckets == NULL)
		return (int64_t)__atomic_load_n(&s->value, __ATOMIC_RELAXED);
	for (size_t i = 0; i <= s->family->nbounds; i++)
		total += (int64_t)__atomic_load_n(&s->buckets[i], __ATOMIC_RELAXED);
	return total;
}

/* ---------------------------------------------------------- exposition */

/* A float as the format writes it: +Inf, -Inf, NaN or a Go-parsable
 * number, never locale-dependent. */
static void append_double(GString *out, double v)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (isnan(v))
		g_string_append(out, "NaN");
	else if (isinf(v))
		g_string_append(out, v > 0 ? "+Inf" : "-Inf");
	else	/* 15 digits: 0.005, not 0.0050000000000000001 */
		g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%.15g", v));
}

/* HELP text: backslash and line feed escaped. Label values: also '"'. */
static void append_escaped(GString *out, const char *text, bool quote)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else if (quote && *p == '"')
			g_string_append(out, "\\\"");
		else
			g_string_append_c(out, *p);
	}
}

/* name{l1="v1",...[,le="bound"]} with a space after it. */
static void append_sample_name(GString *out, const struct metric_family *f, const char *suffix,
			       const struct metric_series *s, const char *le)
{
	bool any = false;

	g_string_append(out, f->name);
	g_string_append(out, suffix);
	for (size_t i = 0; s != NULL && i < f->nlabels; i++) {
		g_string_append(out, any ? "," : "{");
		g_string_append_printf(out, "%s=\"", f->labels[i]);
		append_escaped(out, s->values[i], true);
		g_string_append_c(out, '"');
		any = true;
	}
	if (le != NULL) {
		g_string_append_printf(out, "%sle=\"%s\"", any ? "," : "{", le);
		any = true;
	}
	g_string_append(out, any ? "} " : " ");
}

static void render_histogram(GString *out, const struct metric_family *f,
			     const struct metric_series *s)
{
	uint64_t cumulative = 0, sum_bits;
	double sum;
	GString *le = g_string_new(NULL);

	for (size_t i = 0; i <= f->nbounds; i++) {
		cumulative += __atomic_load_n(&s->buckets[i], __ATOMIC_RELAXED);
		g_string_truncate(le, 0);
		append_double(le, i < f->nbounds ? f->bounds[i] : INFINITY);
		append_sample_name(out, f, "_bucket", s, le->str);
		g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", cumulative);
	}
	sum_bits = __atomic_load_n(&s->sum_bits, __ATOMIC_RELAXED);
	memcpy(&sum, &sum_bits, sizeof(sum));
	append_sample_name(out, f, "_sum", s, NULL);
	append_double(out, sum);
	g_string_append_c(out, '\n');
	append_sample_name(out, f, "_count", s, NULL);
	g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", cumulative);
	g_string_free(le, TRUE);
}

static const char *type_name(enum metric_type type)
{
	switch (type) {
	case METRIC_COUNTER: return "counter";
	case METRIC_GAUGE: return "gauge";
	case METRIC_HISTOGRAM: return "histogram";
	}
	return "untyped";
}

/* One family: HELP, TYPE, then its samples. Caller holds the lock. */
static void render_family(GString *out, const struct metric_family *f)
{
	g_string_append_printf(out, "# HELP %s ", f->name);
	append_escaped(out, f->help, false);
	g_string_append_printf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
	if (f->fn != NULL) {
		append_sample_name(out, f, "", NULL, NULL);
		append_double(out, f->fn(f->fn_data));
		g_string_append_c(out, '\n');
		return;
	}
	for (guint i = 0; i < f->series->len; i++) {
		const struct metric_series *s = g_ptr_array_index(f->series, i);

		if (f->type == METRIC_HISTOGRAM) {
			render_histogram(out, f, s);
			continue;
		}
		append_sample_name(out, f, "", s, NULL);
		uint64_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
		if (f->type == METRIC_GAUGE)
			g_string_append_printf(out, "%" G_GINT64_FORMAT "\n", (int64_t)v);
		else
			g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", v);
	}
}

char *metrics_render(struct metrics *m)
{
	GString *out = g_string_new(NULL);

	if (m == NULL)
		return g_string_free(out, FALSE);
	pthread_mutex_lock(&m->lock);
	for (guint i = 0; i < m->families->len; i++)
		render_family(out, g_ptr_array_index(m->families, i));
	pthread_mutex_unlock(&m->lock);
	return g_string_free(out, FALSE);
}
