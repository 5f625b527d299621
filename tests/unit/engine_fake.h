/* engine_fake.h: a fake clock, a fake transport and stub providers to
 * drive the engine in the unit tests without a network or a thread.
 * The test turns the loop (engine_turn), reads the calls the engine made
 * and answers them when it wants. */
#ifndef TM_TEST_ENGINE_FAKE_H
#define TM_TEST_ENGINE_FAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "config/config.h"
#include "config/integrations.h"
#include "engine/engine_test.h"
#include "lookup/lookup.h"

struct fake_call {
	struct transport_call base;
	bool dns;
	char *what;		/* HTTP: "METHOD url"; DNS: the name */
	char *body;		/* HTTP: the request body, or NULL */
	char *servers;		/* DNS: the integration's DNSServers then */
	transport_cb cb;
	void *ctx;
	bool cancelled, answered;
};

struct fake {
	int64_t now_ms;
	struct loop_clock clock;
	GPtrArray *calls;	/* struct fake_call *, in order */
	unsigned refuse_from;	/* calls numbered >= this fail to start (0: none) */
	bool auto_answer;	/* answer every HTTP call "clean" on the next turn */
	struct engine *engine;
	struct loop *engine_loop;
	unsigned jobs_finished;	/* engine_options.job_finished calls */
	enum lookup_status last_job_status;
	unsigned alerts;	/* engine_options.job_alert calls */
	char last_alert_queue_id[64], last_alert_message_id[128];
};

/* A manual engine (no thread) on the fake clock and transport. */
struct fake *fake_new(bool threaded);
/* The same with the caches made by cache_new (engine_options). */
struct fake *fake_new_caches(struct cache *(*cache_new)(void *data, struct loop *loop,
							const char *name,
							size_t max_entries));
void fake_free(struct fake *fake);
/* Advances the clock by ms and turns the loop until nothing is due. */
void fake_advance(struct fake *fake, int64_t ms);
/* Turns the loop a few times without moving the clock. */
void fake_settle(struct fake *fake);

void fake_answer_http(struct fake *fake, unsigned index, long status, const char *body,
		      long retry_after_s);
void fake_answer_dns(struct fake *fake, unsigned index, int ares_status);
/* Number of calls not answered nor cancelled. */
unsigned fake_open_calls(const struct fake *fake);

/* Stub provider types: "stubhttp" (GET stub://<api>/<indicator>; body
 * "malicious"/"clean"/"unknown"; other statuses the common ladder),
 * "stubdns" (name = indicator; an A record = malicious, NXDOMAIN =
 * clean) and "stubjob" (sandbox: step 0 GET /hash/<ind> -> verdict or
 * "unknown"; step 1 POST /submit -> "id:<id>"; step 2+ GET /job/<id> ->
 * "running" or a verdict; a URL starts at step 1; a submit answered
 * "id:<id>" hints 10 s until the first poll, "queued:<id>" leaves it to
 * the engine's schedule) and "stubsession" (POST /login -> "token:<t>";
 * GET /rate/<ind>?s=<token> -> a verdict or "invalid-session"). */
struct integration *stub_integration(const char *type, const char *name);
/* Makes in a registry type's (provider_type_find) with that type's
 * PollInterval default, as a file of that type would have it (a type
 * without the key keeps the value it had). */
void stub_set_type(struct integration *in, const char *type);
struct tm_config *stub_config(struct integration *const *ins, size_t n);

struct lookup *stub_lookup(const struct integration *in, enum indicator_kind kind,
			   const char *indicator);
void stub_lookup_free(struct lookup *lookup);

/* Submits lookups[0..n-1] with a deadline of now + deadline_ms. */
struct batch *fake_submit(struct fake *fake, struct tm_config *cfg,
			  struct lookup **lookups, size_t n, int64_t deadline_ms);

/* Answers call index, a job's last poll, with body (200) and checks that
 * the job ended: the after-the-fact hook saw status, no flight is left. */
void fake_job_ends(struct fake *fake, unsigned index, const char *body,
		   enum lookup_status status);
/* A new message asking (kind, indicator) of in is answered at once from
 * the cache with status, without a request. */
void fake_expect_cached(struct fake *fake, struct tm_config *cfg, const struct integration *in,
			enum indicator_kind kind, const char *indicator,
			enum lookup_status status);

/* A new message asking (kind, indicator) of in while its job runs: it
 * joins the job and gets pending at once (SandboxWait 0), not from the
 * cache, without a request. */
void fake_expect_pending(struct fake *fake, struct tm_config *cfg, const struct integration *in,
			 enum indicator_kind kind, const char *indicator);

/* The text of the engine's index-th call ("GET url", a DNS name). */
const char *call_what(struct fake *fake, unsigned index);

/* A cmocka fixture: one fake engine, one stub integration in a config. */
struct env {
	struct fake *f;
	struct integration *in;
	struct tm_config *cfg;
};
int env_up(void **state, const char *type, const char *name);
int env_down(void **state);

#endif
