/* milter.h: the libmilter side of the daemon. */
#ifndef TM_MILTER_H
#define TM_MILTER_H

#include "config/config.h"

struct engine;

/* smfi_register with our callbacks. */
int milter_register(void);
/* The engine that serves every message; set before smfi_main(). */
void milter_set_engine(struct engine *engine);
/* Installs a new configuration snapshot (takes the caller's reference);
 * messages already running keep theirs. */
void milter_set_config(struct tm_config *cfg);
/* engine_options.job_alert (engine thread): a message that got pending
 * from a job that ended malicious; runs the current configuration's
 * AlertCommand asynchronously (alert.h). The log line is the engine's. */
struct lookup;
void milter_job_alert(void *data, const struct lookup *lookup, const char *queue_id,
		      const char *message_id);
/* Messages between MAIL FROM and their end, for a clean shutdown. */
int milter_active_messages(void);
/* From now on a new message is not started: it is answered 451 4.3.2 at
 * its end of message (tempfail). Messages in progress keep their
 * configuration and the engine; once milter_active_messages() reaches 0
 * after this call, no callback uses the engine or the configuration any
 * more (issue 11, 4). */
void milter_begin_shutdown(void);

#endif
