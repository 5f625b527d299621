/* cli.c: configuration choice shared by the daemon and `scan`. */
#include "cli/cli.h"

#include <unistd.h>

#include "config/config.h"

const char *cli_default_config_path(void)
{
	return SYSCONFDIR "/threatmilter/threatmilter.conf";
}

struct tm_config *cli_load_config(const char *path, char *err, size_t errlen)
{
	if (path != NULL)
		return config_load(path, err, errlen);
	if (access(cli_default_config_path(), F_OK) == 0)
		return config_load(cli_default_config_path(), err, errlen);
	return config_defaults();
}
