/* plan.h: which lookups a message needs.
 *
 * For every active integration, every indicator of the message that the
 * integration takes (its URLs / SenderIP / Attachments toggles and the
 * provider's capabilities) and that no exclusion removed. A URL becomes a
 * domain lookup when the integration hides URL parameters or the provider
 * only knows domains; an attachment is looked up by its SHA-256. Each
 * (integration, kind, indicator) appears once. */
#ifndef TM_PLAN_H
#define TM_PLAN_H

#include <stdbool.h>
#include <glib.h>

#include "analysis/facts.h"
#include "lookup/lookup.h"

struct tm_config;

/* Appends struct lookup * (free with lookup_free) for facts and, when
 * with_reported, for its reported messages (recursively) to out. */
void plan_lookups(const struct facts *facts, const struct tm_config *cfg,
		  bool with_reported, GPtrArray *out);
/* A new array that frees its lookups. */
GPtrArray *plan_array_new(void);
void lookup_free(struct lookup *lookup);

#endif
