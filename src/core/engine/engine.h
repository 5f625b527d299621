/* engine.h: every lookup of every message in flight at once.
 *
 * == The engine (ARCHITECTURE.md, "engine") ==
 *
 * Threads. Callers (milter threads, scan, test) call engine_run(); one
 * engine thread runs the loop (loop.c: epoll, an eventfd to wake it,
 * timers with ms deadlines). Everything below "engine thread" is touched
 * by that thread only: the flight table, the per-integration state
 * (istate: fair queue, MaxInFlight count, RateLimit windows, breaker,
 * pause), requests, jobs, curl and c-ares handles. Callers never touch
 * any of it (issue 11 defect 1). They share with the engine thread only
 * the submission queue and their batch's results (engine->lock) and the
 * per-integration cache table (a read-write lock; the memory cache has a
 * lock of its own).
 *
 * A caller's lookups. engine_run() first asks each integration's cache
 * on its own thread (cache_try_get, non-blocking): a fully cached
 * message never takes the engine lock nor wakes the engine thread. The
 * rest goes to the engine thread as one batch, which answers each lookup
 * by the batch's deadline at the latest; the caller sleeps meanwhile.
 *
 * Stages of a flight (flights.c), one per (integration name, kind,
 * indicator); identical lookups in flight join it as extra waiters:
 *   cache     cache_get() on the loop (asynchronous for a network
 *             backend); a hit ends the flight;
 *   queued    in the integration's fair queue (admission.c): one lane
 *             per message, round robin, so one message cannot starve
 *             the others; a flight whose every waiter has gone
 *             (deadline) is dropped there, never sent;
 *   admitted  breaker (or the provider's pause after 429/Retry-After,
 *             capped at MAX_PAUSE_S = 1 h), RateLimit token (a bad
 *             RateLimit refuses: fail closed), MaxInFlight slot;
 *   sent      a request (request.c) through the transport (transport.h:
 *             http.c = curl multi socket API, dns.c = one c-ares channel
 *             per DNS integration); the integration's Timeout is a loop
 *             timer; one retry on a transient failure if half the
 *             Timeout is left and RateLimit grants a token; the provider
 *             reads the answer; the breaker counts provider and
 *             transport failures only, never an indicator the provider
 *             or c-ares refused (LOOKUP_INVALID, 4xx for one indicator);
 *   done      the answer goes to every waiter still there and into the
 *             cache (expiry in wall-clock seconds); a request whose
 *             callers gave up still completes and fills the cache.
 *   Jobs (jobs.c, provider.h "jobs"): a job-based provider's flight goes
 *   through several requests (hash, upload, polls); once submitted its
 *   waiters get `pending`, it polls on loop timers (PollInterval,
 *   doubling: the schedule in jobs.c), waits when its budget refuses a
 *   poll (RateLimit, a 429) instead of ending, ends as error/timeout
 *   after the provider's job timeout (never clean), and its verdict
 *   goes into the cache under the indicator. It survives
 *   a reload: each poll re-binds it to the newest snapshot's integration
 *   of that name.
 * Every lookup the engine ends as error or rate_limited carries its kind
 * (result.error): timeout, transport, auth, quota, malformed, provider.
 *
 * Who owns what: a flight holds a reference to the configuration it came
 * with (its integration pointer stays valid); istates and caches are
 * keyed by integration name and survive a SIGHUP; a DNSServers change
 * gives the integration a new c-ares channel while the old one finishes
 * its queries (defect 2). Tests drive the engine without a thread on a
 * fake clock and transport (engine_test.h). */
#ifndef TM_ENGINE_H
#define TM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "lookup/lookup.h"

struct engine;
struct loop;
struct tm_config;

struct engine_options {
	const char *ca_file;	/* CA bundle for TLS verification; NULL: system */
	unsigned breaker_threshold;	/* consecutive failures; 0: default 5 */
	unsigned breaker_cooldown_ms;	/* 0: default 30 s */
	/* Called on the engine thread when a job that had been submitted
	 * (its waiters got `pending`) ends, with the job's lookup and its
	 * final result, for issue 12's after-the-fact alert (not for jobs
	 * abandoned by engine_free(), which are logged). It must not block
	 * (queue the work, return). NULL: none. */
	void (*job_finished)(void *data, const struct lookup *lookup);
	void *job_finished_data;
	/* Called on the engine thread, after the engine's own log line, once
	 * for every message (engine_run_message() with a queue id) that got
	 * `pending` from a job which then ended malicious: the message was
	 * judged without it and may have been delivered. Same rules as
	 * job_finished (must not block). NULL: the log line only. */
	void (*job_alert)(void *data, const struct lookup *lookup, const char *queue_id,
			  const char *message_id);
	void *job_alert_data;
	/* Makes the cache of integration name (cache.h; engine thread) with
	 * room for max_entries (CacheMaxEntries), e.g. a shared backend
	 * (cache_redis.h) driven by the engine's loop. NULL, or NULL
	 * returned: the in-memory LRU. */
	struct cache *(*cache_new)(void *data, struct loop *loop, const char *name,
				   size_t max_entries);
	void *cache_data;
	/* The daemon's metrics (metrics/catalog.h), updated by the engine
	 * thread and the cache fast path; must outlive the engine. NULL:
	 * none. */
	struct tm_metrics *metrics;
};

/* Starts the engine thread. NULL with err set on failure. */
struct engine *engine_new(const struct engine_options *options,
			  char *err, size_t errlen);
/* Stops the thread; transfers still running are abandoned. */
void engine_free(struct engine *engine);

/* Runs lookups[0..n-1] (their integration pointers must belong to cfg,
 * which the engine keeps a reference to while it needs it) and returns
 * when every one has a result or at deadline_ms (engine_now_ms() clock);
 * a lookup unfinished then is `error` with details "deadline". */
void engine_run(struct engine *engine, struct tm_config *cfg,
		struct lookup *const *lookups, size_t n, int64_t deadline_ms);

/* What the engine needs to know about the message a batch is for. */
struct engine_message {
	const char *queue_id;	/* the MTA's queue id (copied); NULL or "":
				 * no after-the-fact alert for this message */
	const char *message_id;	/* its Message-ID (copied), may be NULL */
	/* An abuse-mailbox message (Mode report, or every recipient in
	 * ReportRecipients): its jobs are waited for up to the main
	 * configuration's ReportSandboxWait instead of each integration's
	 * SandboxWait, when that is set (not 0). */
	bool report;
};

/* engine_run() for one message's lookups: a job's waiter waits for its
 * verdict up to SandboxWait (or ReportSandboxWait, see above; ms) after
 * the submission, never past deadline_ms, and gets `pending` then; the
 * message is remembered by the job for the after-the-fact alert
 * (job_alert) when it got `pending`. msg NULL: as engine_run(). */
void engine_run_message(struct engine *engine, struct tm_config *cfg,
			struct lookup *const *lookups, size_t n, int64_t deadline_ms,
			const struct engine_message *msg);

/* The message queue_id (judged by engine_run_message()) was not passed
 * on: rejected, discarded or tempfailed. A job it got `pending` from is
 * then not reported after the fact for it. Any thread; the last 10,000
 * such queue ids are remembered. */
void engine_message_not_delivered(struct engine *engine, const char *queue_id);

/* Monotonic milliseconds. */
int64_t engine_now_ms(void);

/* options->metrics (NULL without), for the per-message counters of
 * output/eom.c, which gets the engine but not the daemon. */
struct tm_metrics *engine_metrics(const struct engine *engine);

struct engine_stats {
	uint64_t requests;	/* provider requests sent (HTTP + DNS, retries included) */
	uint64_t cache_hits;
	uint64_t joined;	/* lookups that joined a flight already running */
};
void engine_get_stats(struct engine *engine, struct engine_stats *out);

#endif
