/* plan.h: which lookups a message needs.
 *
 * First the message's indicators: its URLs, sender IP and attachment
 * hashes, and those of every reported message inside it, each once, none
 * that an exclusion removed and none of a kind no active integration
 * takes. When there are more than MaxIndicators of them (all messages
 * together), the ones asked are chosen so that padding a message with
 * harmless indicators does not push its payload out:
 *   - the message's own indicators before those of reported messages,
 *     reported messages in MIME order;
 *   - in rounds: the first round takes every IP, every attachment and the
 *     first URL of each registrable domain, the next round the second URL
 *     of each domain, and so on;
 * and the plan records the limit, so that the message can never be
 * `clean` (On-Limit, decide.h).
 *
 * Then for every active integration, each chosen indicator it takes (its
 * URLs / SenderIP / Attachments toggles and the provider's capabilities):
 * a URL becomes a domain lookup when the integration hides URL parameters
 * or the provider only knows domains; an attachment is looked up by its
 * SHA-256. Each (integration, kind, indicator) is one lookup, which may
 * serve several indicators (two URLs of one host). A lookup that cannot
 * be asked (askable.h) is planned with status LOOKUP_INVALID and must not
 * be given to the engine. */
#ifndef TM_PLAN_H
#define TM_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#include "analysis/facts.h"
#include "lookup/lookup.h"

struct tm_config;

/* A limit of the plan itself, beside the enum facts_limit bits. */
#define PLAN_LIMIT_MAX_INDICATORS (1u << 8)

/* One indicator of the message as the analysis found it (URL, IP or
 * hash) and the lookups that ask about it. */
struct plan_indicator {
	enum indicator_kind kind;
	char *value;
	GPtrArray *lookups;	/* struct lookup *, owned by plan.lookups */
};

struct plan {
	GPtrArray *lookups;	/* struct lookup *, owned (plan_array_new) */
	GPtrArray *indicators;	/* struct plan_indicator *, owned */
	unsigned limits;	/* facts limits of every message planned, and
				 * PLAN_LIMIT_MAX_INDICATORS */
	unsigned dropped;	/* indicators over MaxIndicators, not asked */
};

/* Uploads (issue 12). Integration in may upload attachment att when all
 * of these hold, else why (a static text for the log) says which failed:
 *   - its type takes files (CAP_UPLOAD) and its Attachments toggle is on;
 *   - a Windows PE file by content (att->pe, analysis/filetype.h, whatever
 *     its name): UploadPEFiles; any other file (documents, archives,
 *     scripts, ELF, images...): UploadOtherFiles;
 *   - att->size <= its MaxUploadSize (bytes);
 *   - its extension is not excluded (ExcludeExtensions).
 * A hash lookup gets lookup->sample (a reference to att->sample) only
 * then; a file over MaxUploadSize is logged once per message and
 * integration. */
bool plan_may_upload(const struct integration *in, const struct attachment_fact *att,
		     const char **why);
/* The analysis options that keep exactly the bytes some active
 * integration may upload (analyze.h): which kinds, the largest
 * MaxUploadSize among the integrations taking each kind,
 * SampleMemoryLimit and TmpDir from cfg (borrowed: cfg must outlive
 * out), all digests (sha256_only false). Returns whether anything is to
 * be kept. */
struct analyze_options;
bool plan_sample_options(const struct tm_config *cfg, struct analyze_options *out);

/* Plans the messages roots[0..n-1] and, recursively, their reported
 * messages, together (one MaxIndicators budget), into a zeroed plan.
 * Lookups start as LOOKUP_SKIPPED (or LOOKUP_INVALID, details saying
 * why). Free with plan_clear(). */
void plan_build(const struct facts *const *roots, size_t n, const struct tm_config *cfg,
		struct plan *out);
void plan_clear(struct plan *plan);

/* A new array that frees its lookups. */
GPtrArray *plan_array_new(void);
void lookup_free(struct lookup *lookup);
/* Frees a struct plan_indicator (for arrays that own them). */
void plan_indicator_free(gpointer indicator);

/* The registrable domain of a host, by the rule the selection uses: the
 * last two labels, or three when the last is a two-letter country code
 * and the one before it is at most three letters ("co.uk", "com.au").
 * An IP address is its own domain. g_malloc'd. */
char *plan_domain_of(const char *host);

#endif
