/* filetype.h: what a file is, decided by its bytes, never by its name. */
#ifndef TM_FILETYPE_H
#define TM_FILETYPE_H

#include <stdbool.h>
#include <stddef.h>

/* Windows PE (MZ header whose e_lfanew points at "PE\0\0") or ELF. */
bool filetype_is_executable(const unsigned char *data, size_t len);
/* Windows PE only: "MZ", e_lfanew (the 32-bit field at 0x3c) pointing at
 * "PE\0\0" inside the file. What UploadPEFiles uploads (.exe, .dll,
 * .scr, .sys... whatever the name says); ELF and everything else is an
 * "other" file (UploadOtherFiles). */
bool filetype_is_pe(const unsigned char *data, size_t len);

#endif
