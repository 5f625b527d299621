/* html.h: URLs from an HTML part: href and src attributes of any element
 * (entities decoded) plus bare URLs in the visible text, which is the
 * text outside tags, <script>, <style> and comments; inline tags such as
 * <span> or <wbr> do not split a URL. Tolerant of any malformed input. */
#ifndef TM_HTML_H
#define TM_HTML_H

#include <stddef.h>

struct url_set;

/* html: UTF-8, already transfer- and charset-decoded. */
void urls_from_html(const char *html, size_t len, struct url_set *out);

#endif
