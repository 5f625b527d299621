/* filetype.h: what a file is, decided by its bytes, never by its name. */
#ifndef TM_FILETYPE_H
#define TM_FILETYPE_H

#include <stdbool.h>
#include <stddef.h>

/* Windows PE (MZ header whose e_lfanew points at "PE\0\0") or ELF. */
bool filetype_is_executable(const unsigned char *data, size_t len);

#endif
