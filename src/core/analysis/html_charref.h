/* html_charref.h: HTML character references decoded as the WHATWG
 * tokenizer does (https://html.spec.whatwg.org/#character-reference-state):
 * numeric ones with or without ';' (&#104, &#x3a), named ones by the
 * longest name of the full HTML5 table, the legacy names (&amp, &copy...)
 * also without ';' — except inside an attribute value when '=' or a
 * letter/digit follows (href="?a=1&copy=2" stays as written). */
#ifndef TM_HTML_CHARREF_H
#define TM_HTML_CHARREF_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

struct html_entity {
	const char *name;	/* "amp;" or, for a legacy one, also "amp" */
	const char *value;	/* UTF-8, one or two code points */
};

/* The table generated at build time (html_entities_table.c, made from
 * html_entities.tsv by html_entities.awk), sorted bytewise by name. */
extern const struct html_entity html_entities[];
extern const size_t html_entities_count;

/* Appends s[0..len) to out with every character reference decoded;
 * in_attribute selects the attribute-value rule for legacy names. The
 * input need not be NUL terminated; out gets valid UTF-8 for valid input. */
void html_decode_append(GString *out, const char *s, size_t len, bool in_attribute);

#endif
