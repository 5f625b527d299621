/* filetype.c: executable detection by content.
 *
 * A name such as "invoice.pdf" says nothing; the bytes do. Windows PE
 * files start with the DOS "MZ" stub whose 32-bit field at 0x3c
 * (e_lfanew) points at the "PE\0\0" signature; ELF files start with
 * "\x7fELF". Both are what sandboxes call "executables" and what the
 * UploadPEFiles option is about. */
#include "analysis/filetype.h"

#include <stdint.h>
#include <string.h>

static bool is_pe(const unsigned char *data, size_t len)
{
	if (len < 0x40 || data[0] != 'M' || data[1] != 'Z')
		return false;
	uint32_t pe_offset = (uint32_t)data[0x3c] | (uint32_t)data[0x3d] << 8 |
			     (uint32_t)data[0x3e] << 16 | (uint32_t)data[0x3f] << 24;
	if (pe_offset > len || len - pe_offset < 4)
		return false;
	return memcmp(data + pe_offset, "PE\0\0", 4) == 0;
}

static bool is_elf(const unsigned char *data, size_t len)
{
	return len >= 4 && memcmp(data, "\x7f" "ELF", 4) == 0;
}

bool filetype_is_executable(const unsigned char *data, size_t len)
{
	return is_pe(data, len) || is_elf(data, len);
}

bool filetype_is_pe(const unsigned char *data, size_t len)
{
	return is_pe(data, len);
}
