/* tmpdir.h: one private temporary directory per cmocka test group, in
 * `dir`, removed with everything in it afterwards. Include once per test
 * program and pass tmpdir_setup/tmpdir_teardown to
 * cmocka_run_group_tests(). */
#ifndef TM_TEST_TMPDIR_H
#define TM_TEST_TMPDIR_H

#include <stdlib.h>
#include <glib.h>

static char *dir;

static int tmpdir_setup(void **state)
{
	(void)state;
	dir = g_dir_make_tmp("tmtest.XXXXXX", NULL);
	return dir ? 0 : -1;
}

static int tmpdir_teardown(void **state)
{
	(void)state;
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	int rc = system(cmd);

	g_free(cmd);
	g_free(dir);
	return rc == 0 ? 0 : -1;
}

#endif
