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
};

struct key_def {
	const char *name;
	enum value_type type;
	size_t offset;
	const char *default_value;	/* as it would be written in the file; NULL = unset */
	int event;			/* T_ACTION only */
};

extern const struct key_def config_schema[];
extern const size_t config_schema_len;

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
