/* engine_internal.h: the engine's objects, shared by its files (see the
 * block comment of engine.h for who owns what). Not for use outside
 * src/core/engine and its unit tests. */
#ifndef TM_ENGINE_INTERNAL_H
#define TM_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "cache/cache.h"
#include "engine/breaker.h"
#include "engine/engine.h"
#include "engine/loop.h"
#include "engine/transport.h"
#include "metrics/catalog.h"
#include "providers/provider.h"

/* A pause asked by a provider (Retry-After, X-RateLimit-Reset-In) is
 * capped at this: a huge or hostile value must not park an integration
 * until restart (defect 3). */
#define MAX_PAUSE_S 3600
/* How long a refused key or an exhausted quota keeps an integration off
 * when the provider gives no Retry-After. */
#define AUTH_BACKOFF_MS (300 * 1000LL)
#define QUOTA_BACKOFF_MS (60 * 1000LL)
#define MAX_COOLDOWN_MS (600 * 1000LL)
/* queue ids remembered by engine_message_not_delivered() */
#define MAX_UNDELIVERED 10000

struct istate;
struct flight;

/* One engine_run() call: the caller's lookups. Shared with the caller:
 * refs, pending, caller_gone and the results are under engine->lock. */
struct batch {
	int refs;			/* the caller's and the engine's */
	pthread_cond_t done;
	size_t pending;			/* lookups the engine has not answered */
	bool handed_over;		/* the engine has it: engine->lock from then on;
					 * else answered on the caller's thread alone */
	bool caller_gone;		/* the caller returned: write nothing */
	struct tm_config *cfg;		/* reference */
	struct lookup **lookups;	/* the caller's lookups ... */
	bool *asked;			/* ... and which the engine answers */
	size_t n;
	int64_t deadline_ms;
	uint64_t lane;			/* fair queuing: one lane per batch */
	char *queue_id;			/* engine_message, g_malloc'd; NULL: none */
	char *message_id;
	bool report;			/* ReportSandboxWait applies */
	/* engine thread only */
	GPtrArray *waiters;		/* struct waiter * of this batch */
	uint64_t deadline_timer;
};

struct waiter {
	struct batch *batch;
	size_t index;			/* into batch->lookups */
	struct flight *flight;		/* NULL once answered */
	int64_t wait_until_ms;		/* a job's waiter: SandboxWait ends (loop clock) */
	int64_t joined_after_ms;	/* the flight's age when this message joined it */
};

/* A sandbox job: the flight of a job-based provider (jobs.c). Jobs live
 * in the flight table, keyed by (integration name, kind, indicator), so
 * they survive a reload and identical submissions join them. */
struct job {
	struct provider_job pj;		/* what the provider keeps */
	int64_t created_ms;
	int64_t backoff_ms;		/* the schedule's next pause (jobs.c) */
	bool submitted;			/* a poll was asked for: waiters get pending */
	bool relogged;			/* this step already caused a new login */
	bool shared_claim;		/* holds the shared registry's lease (shared.c) */
	char *session;			/* the token copy this job's request used */
	uint64_t poll_timer;
	uint64_t wait_timer;		/* the next waiter's SandboxWait ends */
	GPtrArray *watchers;		/* struct job_watcher *: messages that got pending */
	struct lookup_result held;	/* the result of the job's last decided answer
					 * (details owned), restored after a failed poll */
	bool has_held;			/* held was set */
};

/* A message that got `pending` from a job (after-the-fact alert). */
struct job_watcher {
	char *queue_id;
	char *message_id;		/* may be NULL */
};

/* An integration's cache and the bound it was made with. */
struct cache_slot {
	struct cache *cache;
	size_t max_entries;
	struct tm_integration_metrics *metrics;	/* for the fast path's hits */
	enum tm_cache_backend backend;
};

enum flight_stage {
	FLIGHT_CACHE,			/* asking the cache */
	FLIGHT_QUEUED,			/* behind MaxInFlight (fair queue) */
	FLIGHT_SENT,			/* a request is out */
	FLIGHT_JOB_WAIT,		/* a job between two polls */
};

/* One (integration, kind, indicator) being asked; engine thread only. */
struct flight {
	char *key;			/* name \x1f kind \x1f indicator */
	struct tm_config *cfg;		/* reference: keeps the integration alive */
	const struct integration *integration;
	struct istate *state;
	struct lookup work;		/* what the provider fills */
	GPtrArray *waiters;		/* struct waiter * still waiting */
	int64_t started_ms;
	uint64_t lane;			/* the batch that created it */
	enum flight_stage stage;
	struct job *job;		/* job-based providers */
};

/* One HTTP request or DNS query for 1..max_batch flights. */
struct request {
	struct engine *engine;
	struct istate *state;
	GPtrArray *flights;		/* struct flight * */
	struct lookup **batch;		/* &flight->work of each */
	int attempts;
	int64_t started_ms;
	int64_t attempt_ms;		/* this attempt's send: the latency metric */
	bool probe;			/* holds the breaker's half-open probe */
	struct http_request http;
	struct transport_call *call;
	uint64_t timeout_timer;
	uint64_t retry_timer;
};

/* A lane of an integration's fair queue: the flights of one batch. */
struct lane {
	uint64_t id;
	GQueue flights;
};

/* Per integration name, across reloads; engine thread only. */
struct istate {
	char *name;
	struct engine *engine;
	char *rate_spec;
	bool rate_bad;			/* RateLimit did not parse: fail closed */
	bool paused;			/* the breaker is open for a provider's pause */
	struct ratelimit *ratelimit;
	struct breaker breaker;
	struct tm_integration_metrics *metrics;
	unsigned in_flight;		/* requests out */
	GQueue lanes;			/* struct lane *, round robin */
	GHashTable *lane_by_id;		/* id -> struct lane * */
	GPtrArray *to_batch;		/* flights of a batching provider, this turn */
	uint64_t drain_timer;		/* re-run the queue (pause/rate ends) */
	uint64_t batch_timer;		/* send to_batch at the end of this turn */
	char *session;			/* session token (session.c), a secret */
	struct login *login;		/* the login running, or NULL */
	unsigned login_form;		/* the body form that last logged in */
	GPtrArray *session_wait;	/* flights waiting for the login */
};

struct engine {
	pthread_mutex_t lock;		/* guards the fields up to "engine thread only" */
	bool stopping;
	GQueue submitted;		/* struct batch *, from callers */
	struct engine_stats stats;
	/* queue ids of messages that were not delivered (reject, discard,
	 * tempfail): no after-the-fact alert; the oldest first */
	GHashTable *undelivered;
	GQueue undelivered_order;
	/* the caches by integration name: the engine thread creates and
	 * replaces them (write lock), callers read them on the fast path */
	GRWLock caches_lock;
	GHashTable *caches;		/* name -> struct cache_slot * */
	/* engine thread only */
	pthread_t thread;
	bool threaded;
	struct loop *loop;
	struct transport *transport;
	GHashTable *flights;		/* key -> struct flight * */
	GHashTable *orphans;		/* key -> struct job_orphans *: the
					 * watchers of jobs that ended in error (jobs.c) */
	GHashTable *states;		/* name -> struct istate * */
	GHashTable *requests;		/* struct request * out */
	struct tm_config *latest_cfg;	/* the newest snapshot seen: jobs re-bind to it */
	unsigned breaker_threshold;
	int64_t breaker_cooldown_ms;
	/* the caller's hooks (job_finished, job_alert, cache_new) and
	 * metrics, as given to engine_new(); ca_file is not kept */
	struct engine_options options;
	uint64_t next_lane;
};

/* engine.c */
const struct provider_ops *engine_ops_of(const struct integration *in);
/* False once engine_message_not_delivered(queue_id) was called. Takes
 * engine->lock. */
bool engine_message_was_delivered(struct engine *engine, const char *queue_id);
void engine_count(struct engine *engine, uint64_t *counter);
char *engine_flight_key(const struct lookup *lookup);
/* The same key into key (replacing its contents): no allocation. */
void engine_flight_key_into(GString *key, const struct lookup *lookup);

/* flights.c */
void cache_slot_free(gpointer data);
void flights_take_batch(struct engine *engine, struct batch *batch);
void flight_finish(struct engine *engine, struct flight *flight);
void flight_fail(struct engine *engine, struct flight *flight, enum lookup_status status,
		 enum lookup_error error, const char *details);
/* Answers the waiters whose wait ended (deadline, SandboxWait) with the
 * flight's current result (pending for a job); the flight goes on. */
void flight_answer_waiter(struct engine *engine, struct waiter *w,
			  const struct lookup_result *res);
void batch_unref_locked(struct batch *batch);
void flights_abandon_all(struct engine *engine);
/* The cache stage's answer for flight ctx (cache_get_cb). */
void flight_cache_answered(void *ctx, bool hit, const struct cache_answer *answer);
/* The cache of an integration, made (or remade: CacheMaxEntries) here. */
struct cache *engine_cache_for(struct engine *engine, const struct integration *in);

/* admission.c */
struct istate *istate_get(struct engine *engine, const struct integration *in);
void istate_free(gpointer data);
void admission_enqueue(struct engine *engine, struct flight *flight);
/* The next request of a job: ahead of the lanes (it already waited). */
void admission_enqueue_job_step(struct engine *engine, struct flight *flight);
void admission_release(struct engine *engine, struct request *req);
void admission_drain(struct engine *engine, struct istate *st);
/* A retry or the next step of a job: a RateLimit token again. */
bool admission_take_token(struct istate *st, int64_t now_ms);
void admission_pause(struct engine *engine, struct istate *st, enum answer_class class,
		     long retry_after_s, const char *name, const char *why);

/* session.c */
struct login;
bool session_needed(const struct istate *st, const struct flight *flight);
void session_park(struct engine *engine, struct istate *st, struct flight *flight);
/* The token was refused: forget it unless a new login replaced it. */
void session_refused(struct istate *st, const char *token);
/* Gives the job its own copy of the current token (job->pj.session). */
void session_copy_to(const struct istate *st, struct job *job);
void session_login_free(struct login *login);
void session_forget(struct istate *st);

/* request.c */
void request_http_clear(struct http_request *http);
void request_start_for(struct engine *engine, struct istate *st,
		       struct flight **flights, size_t n, bool probe);
void request_free(struct request *req);

/* jobs.c */
/* The job of a new flight for lookup, or NULL: a one-shot lookup (no
 * job table, or only_with_sample and no sample). */
struct job *job_new_for(struct engine *engine, const struct lookup *lookup);
void job_build(const struct flight *flight, struct http_request *req);
enum answer_class job_parse_answer(struct flight *flight, const struct http_response *resp);
/* After a job request's answer; returns true when the flight goes on. */
bool job_after_answer(struct engine *engine, struct flight *flight,
		      enum answer_class class);
void job_free(struct engine *engine, struct job *job);
/* A waiter joined a job between polls: pending at once, or when its
 * SandboxWait ends. */
void job_joined(struct engine *engine, struct flight *flight, struct waiter *w);
/* How long (ms) a waiter of batch b waits for a job of integration in. */
int64_t job_wait_ms(const struct batch *b, const struct integration *in);
/* Remembers the message of w (if it has a queue id) as one that got
 * pending from the job of flight. */
void job_watch(struct flight *flight, const struct waiter *w);
/* The job of flight ended: its log line and job_alert for every message
 * that got pending, when the verdict is malicious. */
void job_alert_watchers(struct engine *engine, struct flight *flight);
/* The job of flight ended in error (JobTimeout...) with messages that
 * got pending from it: they are kept under the flight's key (for a day,
 * at most MAX_ORPHANED keys), so that the next job of that key (a later
 * message's, which may find the analysis still running) alerts them too
 * when it ends malicious. */
void job_orphan_watchers(struct engine *engine, struct flight *flight);
/* A new job's flight takes the messages an earlier job of its key left
 * (job_orphan_watchers) as its own watchers. */
void job_adopt_watchers(struct engine *engine, struct flight *flight);
/* The table engine->orphans starts as: flight key -> the messages of a
 * job that ended in error (jobs.c owns its values). */
GHashTable *job_orphans_new(void);
/* The job timeout (ms): the integration's JobTimeout, else its default
 * (10 min). */
int64_t job_timeout_ms(const struct flight *flight);
/* The poll schedule's next pause (ms) for the job of flight, and the
 * schedule advanced: PollInterval first (a type without the key: its
 * provider's poll.first_s), doubling up to the provider's poll.max_s or
 * PollInterval, whichever is longer (the block comment in jobs.c). */
int64_t job_next_poll_ms(struct flight *flight);
/* A request of flight's job that the budget refused before it went
 * (RateLimit, the shared budget, a provider's pause) or that the
 * provider answered 429 (ANSWER_QUOTA). A submitted job stays in the
 * flight table and asks again after the budget's wait (the pause's end
 * or ratelimit_wait_ms, at most MAX_PAUSE_S; the schedule's next pause
 * when neither tells), never past its JobTimeout; returns true. Returns
 * false, doing nothing, for any other flight (a one-shot lookup, a job
 * not submitted yet): the caller ends it as before (rate_limited). */
bool job_budget_refused(struct engine *engine, struct flight *flight);

/* shared.c: a shared backend's budget and job registry (cache.h). Both
 * return false when the integration's cache has none (local only). */
bool shared_rate_take(struct engine *engine, struct istate *st, struct flight **flights,
		      size_t n, bool probe);
bool shared_job_claim(struct engine *engine, struct flight *flight);
/* Lets go of the lease flight's job holds, if any (once); true when a
 * release went to the backend. */
bool shared_job_release(struct engine *engine, struct flight *flight);
/* engine_free(), the engine thread gone, before the caches go: releases
 * every lease this host holds (another host takes the job over at its
 * next poll) and waits for the backends to send them (cache.h flush: at
 * most RedisTimeout). A crash leaves the leases to expire. */
void shared_jobs_hand_back(struct engine *engine);

#endif
