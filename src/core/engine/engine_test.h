/* engine_test.h: hooks to run the engine without its thread, on a fake
 * clock and a fake transport (tests/unit/test_engine_*.c). The daemon
 * and the CLI use engine.h only. */
#ifndef TM_ENGINE_TEST_H
#define TM_ENGINE_TEST_H

#include "engine/engine.h"
#include "engine/loop.h"
#include "engine/transport.h"

struct batch;

struct engine_custom {
	const struct loop_clock *clock;	/* NULL: the real clocks */
	/* NULL: the real transport (libcurl, c-ares) */
	struct transport *(*transport_new)(struct loop *loop, void *data);
	void *data;
	bool manual;			/* no thread: the test turns the loop */
};

struct engine *engine_new_custom(const struct engine_options *options,
				 const struct engine_custom *custom,
				 char *err, size_t errlen);
/* engine_run() in parts: hand the lookups over (cache hits are answered
 * here), ask whether all are answered, let go (unanswered: "deadline"). */
struct batch *engine_submit(struct engine *engine, struct tm_config *cfg,
			    struct lookup *const *lookups, size_t n, int64_t deadline_ms);
/* engine_submit() for one message (engine_run_message()); msg may be NULL. */
struct batch *engine_submit_message(struct engine *engine, struct tm_config *cfg,
				    struct lookup *const *lookups, size_t n, int64_t deadline_ms,
				    const struct engine_message *msg);
bool engine_batch_done(struct engine *engine, struct batch *batch);
void engine_batch_release(struct engine *engine, struct batch *batch);
/* One turn of the loop of a manual engine (see loop_turn). */
void engine_turn(struct engine *engine, int max_wait_ms);

#endif
