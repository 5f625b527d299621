/* text_flowed.h: text/plain; format=flowed unwrapped as RFC 3676 §4.2
 * says, so that a URL cut at a soft line break is searched whole. */
#ifndef TM_TEXT_FLOWED_H
#define TM_TEXT_FLOWED_H

#include <stdbool.h>
#include <stddef.h>

/* text: the decoded part (UTF-8, not NUL terminated). A line ending in a
 * space (other than the "-- " signature separator) flows into the next
 * line of the same quote depth; with delsp (DelSp=yes) that space is
 * deleted. Quote marks and space-stuffing are removed; each paragraph
 * keeps one quote prefix. Returns a g_malloc'd NUL-terminated string and
 * its length in *out_len. */
char *flowed_unwrap(const char *text, size_t len, bool delsp, size_t *out_len);

#endif
