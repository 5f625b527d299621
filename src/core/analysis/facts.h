/* facts.h: what the analysis found in one message, and its JSON form.
 *
 * The JSON is the schema of ../shared/corpus/README.md ("urls",
 * "sender_ip", "attachments", "reported") plus details that help an
 * administrator: exclusions, limits hit, executable flags. */
#ifndef TM_FACTS_H
#define TM_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include <cjson/cJSON.h>

struct sample;

struct attachment_fact {
	char *filename;		/* decoded (RFC 2231 / RFC 2047), "" if none */
	char *extension;	/* after the last dot, lower-case, "" if none */
	char *content_type;	/* "application/pdf" */
	size_t size;		/* decoded bytes */
	char md5[33];
	char sha1[41];
	char sha256[65];
	bool executable;	/* PE or ELF by content */
	bool pe;		/* Windows PE by content (UploadPEFiles) */
	/* The decoded bytes, only when an active integration may upload
	 * this file (analyze_options); a reference, or NULL. */
	struct sample *sample;
	const char *excluded;	/* exclusion rule, or NULL */
};

/* Limits that stopped part of the analysis; reported, never fatal. */
enum facts_limit {
	LIMIT_MAX_URLS = 1 << 0,
	LIMIT_MIME_DEPTH = 1 << 1,
	LIMIT_REPORTED_DEPTH = 1 << 2,
	LIMIT_MESSAGE_SIZE = 1 << 3,
	LIMIT_PARSE_ERROR = 1 << 4,	/* not a message at all */
};

/* The name of one enum facts_limit bit as the JSON output and the report
 * header give it ("max_urls"), or NULL for any other value. Static. */
const char *facts_limit_name(unsigned bit);

struct facts {
	GPtrArray *urls;		/* char *, sorted, unique */
	GHashTable *excluded_urls;	/* url -> rule (const char *) */
	unsigned urls_dropped;		/* over MaxURLs */
	char *sender_ip;		/* canonical text, or NULL */
	GPtrArray *emails;		/* char *: From:, Reply-To: (addresses.h) */
	const char *sender_ip_excluded;	/* rule, or NULL */
	GPtrArray *attachments;		/* struct attachment_fact *, MIME order */
	GPtrArray *reported;		/* struct facts *, MIME order */
	unsigned limits;		/* enum facts_limit bits */
	size_t size;			/* bytes of the message analysed */
	char *subject;			/* decoded, for logs; may be NULL */
	char *message_id;		/* may be NULL */
};

struct facts *facts_new(void);
void facts_free(struct facts *facts);

/* The corpus schema plus details; the caller owns the result. */
cJSON *facts_to_json(const struct facts *facts);

#endif
