/* catalog.c: threatmilter's metric families and their pre-resolved
 * series (catalog.h). */
#include "metrics/catalog.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <glib.h>

/* Seconds. A DNS answer or a cached message takes milliseconds, a
 * message up to ScanDeadline (10 s), a sandbox upload tens of seconds. */
static const double duration_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

/* Label values in the order of the engine's enums. */
static const char *const class_words[] = {
	[ANSWER_DECIDED] = "answered", [ANSWER_TRANSIENT] = "failed",
	[ANSWER_PERMANENT] = "refused", [ANSWER_AUTH] = "auth", [ANSWER_QUOTA] = "quota",
};
#define N_CLASSES G_N_ELEMENTS(class_words)
#define N_ERRORS (LOOKUP_ERR_PAUSED + 1)
#define N_STATUSES (LOOKUP_INVALID + 1)
static const char *const backend_words[TM_CACHE_BACKENDS] = { "memory", "redis" };
static const char *const verdict_words[] = {
	"malicious", "suspicious", "clean", "unknown", "not_scanned",
};
#define N_VERDICTS G_N_ELEMENTS(verdict_words)
#define N_ACTIONS (ACTION_DISCARD + 1)

struct tm_integration_metrics {
	struct metric_series *requests[N_CLASSES];
	struct metric_series *duration;
	struct metric_series *errors[N_ERRORS];	/* [0] unused */
	struct metric_series *cache[TM_CACHE_BACKENDS][2];	/* [miss, hit] */
	struct metric_series *in_flight, *queue_waits, *rate_limited, *breaker;
	struct metric_series *jobs_submitted, *jobs_pending, *jobs_finished[N_STATUSES];
	struct metric_series *uploads, *upload_bytes;
};

struct tm_metrics {
	struct metrics *registry;
	pthread_mutex_t lock;		/* integrations */
	GHashTable *integrations;	/* name -> struct tm_integration_metrics * */
	/* the families of the per-integration series */
	struct metric_family *requests, *duration, *errors, *cache, *in_flight, *queue_waits,
			     *rate_limited, *breaker, *jobs_submitted, *jobs_pending,
			     *jobs_finished, *uploads, *upload_bytes;
	struct metric_series *messages[N_VERDICTS][N_ACTIONS];
	struct metric_series *message_duration;
	struct metric_series *reloads[2];	/* [failed, ok] */
	struct metric_series *redis_fallbacks;
};

static const char *const l_integration[] = { "integration", NULL };
static const char *const l_result[] = { "integration", "result", NULL };

static struct metric_family *counter(struct tm_metrics *m, const char *name, const char *help,
				     const char *const *labels)
{
	return metrics_family(m->registry, METRIC_COUNTER, name, help, labels, NULL, 0);
}

static struct metric_family *gauge(struct tm_metrics *m, const char *name, const char *help,
				   const char *const *labels)
{
	return metrics_family(m->registry, METRIC_GAUGE, name, help, labels, NULL, 0);
}

static void integration_families(struct tm_metrics *m)
{
	static const char *const l_error[] = { "integration", "error", NULL };
	static const char *const l_cache[] = { "integration", "backend", "result", NULL };

	m->requests = counter(m, "threatmilter_provider_requests_total",
			      "Provider requests and DNS queries answered, by outcome "
			      "(retries count again).", l_result);
	m->duration = metrics_family(m->registry, METRIC_HISTOGRAM,
				     "threatmilter_provider_request_duration_seconds",
				     "Time from sending a provider request to its answer.",
				     l_integration, duration_bounds, G_N_ELEMENTS(duration_bounds));
	m->errors = counter(m, "threatmilter_provider_errors_total",
			    "Lookups ended as error or rate_limited, by error kind.", l_error);
	m->cache = counter(m, "threatmilter_cache_lookups_total",
			   "Cache lookups: hits answered from the cache, misses asked the provider.",
			   l_cache);
	m->in_flight = gauge(m, "threatmilter_provider_in_flight",
			     "Provider requests out now (bounded by MaxInFlight).", l_integration);
	m->queue_waits = counter(m, "threatmilter_provider_queue_waits_total",
				 "Lookups that had to queue because MaxInFlight requests were out.",
				 l_integration);
	m->rate_limited = counter(m, "threatmilter_provider_rate_limited_total",
				  "Lookups refused by the integration's RateLimit.", l_integration);
	m->breaker = gauge(m, "threatmilter_provider_breaker_state",
			   "Circuit breaker as last seen: 0 closed, 1 half-open, 2 open or paused.",
			   l_integration);
	m->jobs_submitted = counter(m, "threatmilter_jobs_submitted_total",
				    "Sandbox jobs submitted.", l_integration);
	m->jobs_pending = gauge(m, "threatmilter_jobs_pending",
				"Sandbox jobs submitted and not finished.", l_integration);
	m->jobs_finished = counter(m, "threatmilter_jobs_finished_total",
				   "Sandbox jobs finished, by result.", l_result);
	m->uploads = counter(m, "threatmilter_uploads_total",
			     "Requests that uploaded a file (retries count again).", l_integration);
	m->upload_bytes = counter(m, "threatmilter_upload_bytes_total",
				  "Bytes of the files uploaded.", l_integration);
}

static void daemon_families(struct tm_metrics *m, const char *version)
{
	static const char *const l_message[] = { "verdict", "action", NULL };
	static const char *const l_reload[] = { "result", NULL };
	static const char *const l_version[] = { "version", NULL };
	struct metric_family *messages = counter(m, "threatmilter_messages_total",
						 "Messages at their end, by verdict and action.",
						 l_message);
	struct metric_family *duration = metrics_family(
		m->registry, METRIC_HISTOGRAM, "threatmilter_message_duration_seconds",
		"Time from the end of a message to its verdict and action.", NULL,
		duration_bounds, G_N_ELEMENTS(duration_bounds));
	struct metric_family *reloads = counter(m, "threatmilter_reloads_total",
						"Configuration reloads (SIGHUP, SIGUSR1), by result.",
						l_reload);
	struct metric_family *fallbacks = counter(m, "threatmilter_redis_fallbacks_total",
						  "Shared-cache calls answered by the local "
						  "fallback (Redis down or too slow).", NULL);
	struct metric_family *info = gauge(m, "threatmilter_build_info",
					   "Always 1; the version is a label.", l_version);
	struct metric_family *start = gauge(m, "threatmilter_start_time_seconds",
					    "When the daemon started, in seconds since the epoch.",
					    NULL);

	for (size_t v = 0; v < N_VERDICTS; v++)
		for (size_t a = 0; a < N_ACTIONS; a++)
			m->messages[v][a] = metrics_series(messages, (const char *const[]){
				verdict_words[v], action_name((enum tm_action)a) });
	m->message_duration = metrics_series(duration, NULL);
	m->reloads[0] = metrics_series(reloads, (const char *const[]){ "failed" });
	m->reloads[1] = metrics_series(reloads, (const char *const[]){ "ok" });
	m->redis_fallbacks = metrics_series(fallbacks, NULL);
	metric_set(metrics_series(info, (const char *const[]){ version }), 1);
	metric_set(metrics_series(start, NULL), (int64_t)time(NULL));
}

struct tm_metrics *tm_metrics_new(const char *version)
{
	struct tm_metrics *m = g_new0(struct tm_metrics, 1);

	m->registry = metrics_new();
	pthread_mutex_init(&m->lock, NULL);
	m->integrations = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	/* daemon-wide families first: a scrape reads them at the top */
	daemon_families(m, version ? version : "");
	integration_families(m);
	return m;
}

void tm_metrics_free(struct tm_metrics *m)
{
	if (m == NULL)
		return;
	g_hash_table_destroy(m->integrations);
	pthread_mutex_destroy(&m->lock);
	metrics_free(m->registry);
	g_free(m);
}

struct metrics *tm_metrics_registry(struct tm_metrics *m)
{
	return m != NULL ? m->registry : NULL;
}

static struct metric_series *one(struct metric_family *f, const char *name)
{
	return metrics_series(f, (const char *const[]){ name });
}

static struct metric_series *two(struct metric_family *f, const char *name, const char *value)
{
	return metrics_series(f, (const char *const[]){ name, value });
}

static struct tm_integration_metrics *integration_new(struct tm_metrics *m, const char *name)
{
	struct tm_integration_metrics *im = g_new0(struct tm_integration_metrics, 1);

	for (size_t i = 0; i < N_CLASSES; i++)
		im->requests[i] = two(m->requests, name, class_words[i]);
	im->duration = one(m->duration, name);
	for (int e = LOOKUP_ERR_TIMEOUT; e < (int)N_ERRORS; e++)
		im->errors[e] = two(m->errors, name, lookup_error_name((enum lookup_error)e));
	for (int b = 0; b < TM_CACHE_BACKENDS; b++)
		for (int hit = 1; hit >= 0; hit--)
			im->cache[b][hit] = metrics_series(m->cache, (const char *const[]){
				name, backend_words[b], hit ? "hit" : "miss" });
	im->in_flight = one(m->in_flight, name);
	im->queue_waits = one(m->queue_waits, name);
	im->rate_limited = one(m->rate_limited, name);
	im->breaker = one(m->breaker, name);
	im->jobs_submitted = one(m->jobs_submitted, name);
	im->jobs_pending = one(m->jobs_pending, name);
	for (int s = 0; s < (int)N_STATUSES; s++)
		im->jobs_finished[s] = two(m->jobs_finished, name,
					   lookup_status_name((enum lookup_status)s));
	im->uploads = one(m->uploads, name);
	im->upload_bytes = one(m->upload_bytes, name);
	return im;
}

struct tm_integration_metrics *tm_metrics_integration(struct tm_metrics *m, const char *name)
{
	struct tm_integration_metrics *im;

	if (m == NULL || name == NULL)
		return NULL;
	pthread_mutex_lock(&m->lock);
	im = g_hash_table_lookup(m->integrations, name);
	if (im == NULL) {
		im = integration_new(m, name);
		g_hash_table_insert(m->integrations, g_strdup(name), im);
	}
	pthread_mutex_unlock(&m->lock);
	return im;
}

void tm_metrics_request(struct tm_integration_metrics *im, enum answer_class class,
			int64_t elapsed_ms)
{
	if (im == NULL || (unsigned)class >= N_CLASSES)
		return;
	metric_add(im->requests[class], 1);
	metric_observe(im->duration, (double)(elapsed_ms > 0 ? elapsed_ms : 0) / 1000.0);
}

void tm_metrics_upload(struct tm_integration_metrics *im, const struct http_request *req)
{
	uint64_t bytes = 0;
	bool file = false;

	if (im == NULL || req == NULL || req->parts == NULL)
		return;
	for (guint i = 0; i < req->parts->len; i++) {
		const struct http_part *p = g_ptr_array_index(req->parts, i);
		struct stat sb;

		if (p->filename == NULL)
			continue;	/* a plain form field */
		file = true;
		if (p->data != NULL)
			bytes += g_bytes_get_size(p->data);
		else if (p->path != NULL && stat(p->path, &sb) == 0)
			bytes += (uint64_t)sb.st_size;
	}
	if (!file)
		return;
	metric_add(im->uploads, 1);
	metric_add(im->upload_bytes, bytes);
}

void tm_metrics_lookup_end(struct tm_integration_metrics *im, const struct lookup_result *res)
{
	if (im == NULL || (res->status != LOOKUP_ERROR && res->status != LOOKUP_RATE_LIMITED))
		return;
	/* an error without a kind is the provider's (request.c's default) */
	enum lookup_error e = res->error != LOOKUP_ERR_NONE && (unsigned)res->error < N_ERRORS
			      ? res->error : LOOKUP_ERR_PROVIDER;
	metric_add(im->errors[e], 1);
}

void tm_metrics_cache(struct tm_integration_metrics *im, enum tm_cache_backend backend, bool hit)
{
	if (im != NULL && (unsigned)backend < TM_CACHE_BACKENDS)
		metric_add(im->cache[backend][hit ? 1 : 0], 1);
}

void tm_metrics_in_flight(struct tm_integration_metrics *im, unsigned requests_out)
{
	if (im != NULL)
		metric_set(im->in_flight, requests_out);
}

void tm_metrics_queue_wait(struct tm_integration_metrics *im)
{
	if (im != NULL)
		metric_add(im->queue_waits, 1);
}

void tm_metrics_rate_limited(struct tm_integration_metrics *im, unsigned lookups)
{
	if (im != NULL)
		metric_add(im->rate_limited, lookups);
}

void tm_metrics_breaker(struct tm_integration_metrics *im, enum breaker_state state)
{
	if (im == NULL)
		return;
	switch (state) {
	case BREAKER_CLOSED: metric_set(im->breaker, 0); break;
	case BREAKER_HALF_OPEN: metric_set(im->breaker, 1); break;
	case BREAKER_OPEN: metric_set(im->breaker, 2); break;
	}
}

void tm_metrics_job_submitted(struct tm_integration_metrics *im)
{
	if (im == NULL)
		return;
	metric_add(im->jobs_submitted, 1);
	metric_gauge_add(im->jobs_pending, 1);
}

void tm_metrics_job_finished(struct tm_integration_metrics *im, enum lookup_status status)
{
	if (im == NULL || (unsigned)status >= N_STATUSES)
		return;
	metric_gauge_add(im->jobs_pending, -1);
	metric_add(im->jobs_finished[status], 1);
}

void tm_metrics_message(struct tm_metrics *m, bool scanned, const char *verdict,
			enum tm_action action, int64_t elapsed_ms)
{
	size_t v = N_VERDICTS - 1;	/* not_scanned */

	if (m == NULL || (unsigned)action >= N_ACTIONS)
		return;
	for (size_t i = 0; scanned && verdict != NULL && i < N_VERDICTS - 1; i++)
		if (strcmp(verdict, verdict_words[i]) == 0)
			v = i;
	metric_add(m->messages[v][action], 1);
	metric_observe(m->message_duration, (double)(elapsed_ms > 0 ? elapsed_ms : 0) / 1000.0);
}

void tm_metrics_reload(struct tm_metrics *m, bool ok)
{
	if (m != NULL)
		metric_add(m->reloads[ok ? 1 : 0], 1);
}

void tm_metrics_redis_fallback(struct tm_metrics *m)
{
	if (m != NULL)
		metric_add(m->redis_fallbacks, 1);
}
