/* fuzz_config.c: libFuzzer target for the configuration loader. The input
 * is served as a file through memfd_create, so the real config_load()
 * (file reader, schema, lists, exclusion and network parsing) is what
 * runs. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024];
	int fd = memfd_create("fuzz.conf", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		struct tm_config *cfg = config_load(path, err, sizeof(err));
		if (cfg != NULL)
			config_unref(cfg);
	}
	close(fd);
	return 0;
}
