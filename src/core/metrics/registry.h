/* registry.h: counters, gauges and histograms, and their Prometheus text
 * exposition (format 0.0.4: https://prometheus.io/docs/instrumenting/
 * exposition_formats/, "Text-based format").
 *
 * Threads. Families and series are created under the registry's mutex,
 * rarely (at start-up, when an integration is first seen); callers keep
 * the series pointers they get, which stay valid until metrics_free().
 * Updating a series is one relaxed atomic operation (a histogram: two
 * plus a compare-and-swap for its sum): a milter thread or the engine
 * thread never waits for a lock, nor for a scrape. Rendering takes the
 * mutex only to walk the lists; values are read atomically one by one,
 * so a scrape during updates may see one series newer than another, but
 * never a torn value, and a histogram's buckets, _count and +Inf always
 * agree within one scrape (_count is the sum of the buckets read).
 *
 * Every update function accepts a NULL series and then does nothing, so
 * that code running without metrics (scan, test, unit tests) needs no
 * conditions. */
#ifndef TM_METRICS_REGISTRY_H
#define TM_METRICS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

struct metrics;
struct metric_family;
struct metric_series;

/* An empty registry; never NULL (g_new). */
struct metrics *metrics_new(void);
/* Frees the registry and every family and series in it; NULL is fine. */
void metrics_free(struct metrics *m);

/* Registers a family. name: [a-zA-Z_:][a-zA-Z0-9_:]*, a counter's ends in
 * "_total"; help: one line of text; labels: NULL-terminated label names
 * ([a-zA-Z_][a-zA-Z0-9_]*, not "le", not starting with "__"), or NULL for
 * none. Histograms: bounds[0..nbounds-1], strictly ascending upper bounds
 * in the base unit (+Inf is implicit). Returns the family (owned by the
 * registry), or NULL when a name is invalid or already registered (a
 * programming error, logged). */
struct metric_family *metrics_family(struct metrics *m, enum metric_type type, const char *name,
				     const char *help, const char *const *labels,
				     const double *bounds, size_t nbounds);

/* A gauge whose value fn(data) computes at each scrape (on the scraping
 * thread: fn must be thread-safe and must not block). No labels. Returns
 * false on a bad or duplicate name. */
int metrics_gauge_fn(struct metrics *m, const char *name, const char *help,
		     double (*fn)(void *data), void *data);

/* The series of family f with these label values (as many as the family
 * has label names, any bytes; escaped at rendering), created at 0 when
 * new. Takes the registry's mutex: resolve once, keep the pointer. NULL
 * when f is NULL or a value is NULL. */
struct metric_series *metrics_series(struct metric_family *f, const char *const *values);

/* Counter: adds n. */
void metric_add(struct metric_series *s, uint64_t n);
/* Gauge: sets to v / adds delta (may be negative). */
void metric_set(struct metric_series *s, int64_t v);
void metric_gauge_add(struct metric_series *s, int64_t delta);
/* Histogram: one observation of value (base unit: seconds, bytes). */
void metric_observe(struct metric_series *s, double value);

/* Current values, for tests: a counter's or gauge's value; a
 * histogram's count. 0 for NULL. */
int64_t metric_value(const struct metric_series *s);

/* The whole registry in the text format, families in registration order,
 * series in creation order; g_malloc'd, never NULL. */
char *metrics_render(struct metrics *m);

/* The Content-Type of metrics_render()'s text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
