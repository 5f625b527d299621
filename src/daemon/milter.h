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
/* Messages between MAIL FROM and their end, for a clean shutdown. */
int milter_active_messages(void);

#endif
