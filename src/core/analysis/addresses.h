/* addresses.h: the From: and Reply-To: addresses of a message as
 * INDICATOR_EMAIL facts (the e-mail verification of APIVoid,
 * ../shared/providers/apivoid.md §3.4).
 *
 * An address is kept only when it is a plain local@domain: the local part
 * printable ASCII without quotes, spaces, controls or angle brackets, at
 * most 64 bytes; the domain LDH labels with at least one dot, at most 253
 * bytes, lower-cased, without a trailing dot, an IDN in punycode. Anything
 * else is dropped, so an address never puts a header or a log line at
 * risk. */
#ifndef TM_ANALYSIS_ADDRESSES_H
#define TM_ANALYSIS_ADDRESSES_H

#include <glib.h>
#include <gmime/gmime.h>

/* At most this many addresses per message (From: plus Reply-To:). */
#define ADDRESSES_MAX 8

/* The sanitised form of one address ("Bob@Example.COM." ->
 * "Bob@example.com"), g_malloc'd; NULL when it is no plain address. */
char *address_normalize(const char *address);

/* Appends the message's From: then Reply-To: mailboxes (groups opened),
 * normalised, each once, to out (char *, g_free'd by out's free func),
 * up to ADDRESSES_MAX in all. */
void addresses_collect(GMimeMessage *message, GPtrArray *out);

#endif
