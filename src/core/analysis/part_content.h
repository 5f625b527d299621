/* part_content.h: the content of a leaf MIME part with its transfer
 * encoding (RFC 2045 §6) removed. */
#ifndef TM_PART_CONTENT_H
#define TM_PART_CONTENT_H

#include <gmime/gmime.h>

/* A new array (the caller unrefs it) with part's decoded bytes; empty
 * when the part has no content. Malformed encodings are decoded as
 * GMime decodes them (leniently); no error is reported. */
GByteArray *part_decoded_content(GMimePart *part);

#endif
