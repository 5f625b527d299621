/* tmpdir.h: one private temporary directory per cmocka test group, in
 * `dir`, removed with everything in it afterwards. Include once per test
 * program and pass tmpdir_setup/tmpdir_teardown to
 * cmocka_run_group_tests(). */
#ifndef TM_TEST_TMPDIR_H
#define TM_TEST_TMPDIR_H

#include <stdlib.h>
#include <glib.h>
#include <glib/gstdio.h>

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

/* Writes content to dir/name (parents created, mode 0640: integration
 * files must not be readable by others) and returns the path (g_free). */
static inline char *tmpdir_write_file(const char *name, const char *content)
{
	char *path = g_build_filename(dir, name, NULL);
	char *parent = g_path_get_dirname(path);

	g_mkdir_with_parents(parent, 0755);
	g_free(parent);
	if (!g_file_set_contents(path, content, -1, NULL) || g_chmod(path, 0640) != 0)
		abort();
	return path;
}

#endif
