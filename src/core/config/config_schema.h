/* config_schema.h: every key of the main configuration file
 * (threatmilter.conf), as ONE table.
 *
 * A row says the key's name, its value type, where it is stored in
 * struct tm_config and its default as it would be written in the file.
 * The same rows set the defaults, parse the file and print `-e Key`
 * (config.c), and are checked against threatmilter.conf(5) by a unit
 * test. Integration files have their own table: integration_schema.h. */
#ifndef TM_CONFIG_SCHEMA_H
#define TM_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

enum value_type {
	T_STRING,	/* char * (NULL when "none" or unset) */
	T_BOOL,
	T_UNSIGNED,
	T_SIZE,		/* bytes, K/M/G suffixes */
	T_DURATION_S,	/* stored in seconds */
	T_DURATION_MS,	/* stored in milliseconds */
	T_MODE,		/* octal */
	T_FACILITY,
	T_LOG_LEVEL,	/* a LOG_* priority */
	T_ACTION,	/* index: the event */
	T_MODE_NAME,	/* inline | report */
	T_NETLIST,	/* InternalHosts */
	T_EXCLUSION_LIST,	/* one of analysis/exclude.h's exclusion_lists */
	T_STRLIST,	/* ReportRecipients */
	T_PATH,		/* char *, relative to the config file's directory */
	T_SOCKET,	/* char *, checked by util/sockspec.h */
	T_LISTEN,	/* char *, checked by metrics/endpoint.h; NULL: "none", off */
	T_REPLY_TEXT,	/* char *, RejectMessage: fits one SMTP reply line (config_text.h) */
	T_FIELD_PREFIX,	/* char *, HeaderPrefix: starts header field names (config_text.h) */
	T_HEADER_TEXT,	/* char *, text that goes into a header field (config_text.h) */
};

/* What a row's flags say about its key. */
enum key_flags {
	/* Read once at start-up (the socket, the user, logging, the
	 * engine's transport and cache backend): a reload that changes it
	 * keeps the running value and warns "KEY changed; takes effect at
	 * restart" (config_restart_changes). threatmilter.conf(5) and
	 * threatmilter(8) name every such key; a unit test checks it. */
	KEY_RESTART = 1 << 0,
	/* 0 is refused: it has no meaning that works (MaxMessageSize 0 is
	 * no size a filter can buffer; MaxMimeDepth 0 stops at every
	 * multipart). Number types only. */
	KEY_NOT_ZERO = 1 << 1,
	/* T_PATH of a file another library opens for us (CACertFile: libcurl,
	 * on every request): it must be a regular file when the
	 * configuration is read, checked with stat() (a FIFO there would
	 * block a lookup in open()). */
	KEY_READ_FILE = 1 << 2,
};

struct key_def {
	const char *name;
	enum value_type type;
	size_t offset;
	const char *default_value;	/* as it would be written in the file; NULL = unset */
	int event;			/* T_ACTION only */
	unsigned flags;			/* enum key_flags */
};

extern const struct key_def config_schema[];
extern const size_t config_schema_len;

/* Whether values of this type are stored as a char * (g_free'd). */
bool config_type_is_text(enum value_type type);

/* Calls changed(key, arg) once for every KEY_RESTART key whose value in
 * `running` (the configuration the daemon started with) differs from its
 * value in `loaded` (a reloaded one), in schema order; values compared
 * as `-e Key` prints them. Returns how many differ. */
unsigned config_restart_changes(const struct tm_config *running, const struct tm_config *loaded,
				void (*changed)(const char *key, void *arg), void *arg);

/* The row of `key` (case-insensitive), or NULL for an unknown key. */
const struct key_def *config_schema_find(const char *key);

/* The words a file may write for an enumerated type (T_FACILITY,
 * T_LOG_LEVEL, T_ACTION, T_MODE_NAME) and what each stores: values[i],
 * or i itself where values is NULL. NULL for any other type. Static. */
struct value_names {
	const char *const *names;
	const int *values;
	size_t count;
};
const struct value_names *config_value_names(enum value_type type);

/* The word for a stored value of an enumerated type; NULL for none. */
const char *config_value_word(enum value_type type, int stored);

#endif
