/* SPDX-License-Identifier: Apache-2.0 */
/*
 * durable: renames, replacements and syncs that survive a power cut. What reaches the
 * disk is seen in the system calls by tests/integration/test_power_cut.py
 * (SyncedFiles); here, that each call does what it names and fails
 * as it says.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "wire/durable.h"

struct dirs {
	char root[64], a[96], b[96];
};

static int
setup(void **state)
{
	struct dirs *d = calloc(1, sizeof *d);
	if (d == NULL)
		return -1;
	snprintf(d->root, sizeof d->root, "/tmp/esthub-durable-XXXXXX");
	if (mkdtemp(d->root) == NULL)
		return -1;
	snprintf(d->a, sizeof d->a, "%s/a", d->root);
	snprintf(d->b, sizeof d->b, "%s/b", d->root);
	if (mkdir(d->a, 0700) != 0 || mkdir(d->b, 0700) != 0)
		return -1;
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dirs *d = *state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->root);
	int rc = system(cmd);
	free(d);
	return rc == 0 ? 0 : -1;
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
assert_text(const char *path, const char *text)
{
	char got[64] = "";
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof got, f));
	fclose(f);
	assert_string_equal(got, text);
}

static void
test_rename_in_one_directory_and_across(void **state)
{
	struct dirs *d = *state;
	char from[128], to[128], other[128];
	snprintf(from, sizeof from, "%s/cert.tmp", d->a);
	snprintf(to, sizeof to, "%s/cert", d->a);
	snprintf(other, sizeof other, "%s/cert", d->b);
	write_text(to, "old\n");
	write_text(from, "new\n");
	assert_int_equal(durable_rename(from, to), 0); /* replaces */
	assert_text(to, "new\n");
	assert_int_equal(access(from, F_OK), -1);
	assert_int_equal(durable_rename(to, other), 0); /* to another directory */
	assert_text(other, "new\n");
	assert_int_equal(access(to, F_OK), -1);
}

static void
test_failures_say_why_and_leave_things_alone(void **state)
{
	struct dirs *d = *state;
	char missing[128], to[128], no_dir[128];
	snprintf(missing, sizeof missing, "%s/none", d->a);
	snprintf(to, sizeof to, "%s/kept", d->a);
	snprintf(no_dir, sizeof no_dir, "%s/no-such-dir/x", d->root);
	write_text(to, "kept\n");
	errno = 0;
	assert_int_equal(durable_rename(missing, to), -1);
	assert_int_equal(errno, ENOENT);
	assert_text(to, "kept\n");
	errno = 0;
	assert_int_equal(durable_rename(to, no_dir), -1); /* the rename itself fails */
	assert_int_equal(errno, ENOENT);
	assert_text(to, "kept\n");
	errno = 0;
	assert_int_equal(durable_file(missing), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(durable_dir_of(no_dir), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(durable_dir(to), -1); /* a file, not a directory */
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(durable_dir(d->a), 0);

	static char longer[PATH_MAX + 16];
	memset(longer, 'x', sizeof longer - 1);
	longer[0] = '/';
	longer[sizeof longer - 3] = '/';
	errno = 0;
	assert_int_equal(durable_dir_of(longer), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void
test_replace_leaves_the_new_file_and_nothing_beside_it(void **state)
{
	struct dirs *d = *state;
	char path[128], err[256];
	snprintf(path, sizeof path, "%s/state", d->a);
	write_text(path, "old\n");
	assert_int_equal(durable_replace(path, "7\n", 2, err, sizeof err), 0);
	assert_text(path, "7\n");
	assert_int_equal(durable_replace(path, "1234\n", 5, err, sizeof err), 0);
	assert_text(path, "1234\n");
	int entries = 0;
	DIR *dir = opendir(d->a);
	assert_non_null(dir);
	for (struct dirent *e; (e = readdir(dir)) != NULL;)
		entries += e->d_name[0] != '.';
	closedir(dir);
	assert_int_equal(entries, 1); /* no temporary file left */

	char missing[128];
	snprintf(missing, sizeof missing, "%s/no-such-dir/state", d->root);
	assert_int_equal(durable_replace(missing, "7\n", 2, err, sizeof err), -1);
	assert_non_null(strstr(err, "/no-such-dir/state.tmp."));
	assert_non_null(strstr(err, "cannot create: No such file or directory"));
}

static void
test_directory_of_a_bare_name_and_of_the_root(void **state)
{
	(void)state;
	assert_int_equal(durable_dir_of("a-name-in-the-working-directory"), 0);
	assert_int_equal(durable_dir_of("/etc"), 0); /* "/" */
	assert_int_equal(durable_file("/etc/hostname"), 0);
	char dir[8];
	assert_int_equal(durable_dir_part("name", dir, sizeof dir), 0);
	assert_string_equal(dir, ".");
	assert_int_equal(durable_dir_part("/etc", dir, sizeof dir), 0);
	assert_string_equal(dir, "/");
	assert_int_equal(durable_dir_part("a/b/c", dir, sizeof dir), 0);
	assert_string_equal(dir, "a/b");
	errno = 0;
	assert_int_equal(durable_dir_part("/var/lib/esthub/x", dir, sizeof dir), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rename_in_one_directory_and_across, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_failures_say_why_and_leave_things_alone, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_replace_leaves_the_new_file_and_nothing_beside_it,
	                                    setup, teardown),
	    cmocka_unit_test(test_directory_of_a_bare_name_and_of_the_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
