/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpus: the cgroup CPU quota read from a directory laid out as a machine's
 * /proc/self and /sys/fs/cgroup are, for cgroup v2, v1 and the hybrid of
 * both; a quota on a parent counts, the smallest counts, none is 0, and the
 * mount's root (a container without a cgroup namespace) is taken off the
 * process's cgroup path. tests/integration/test_ingest.py runs the hub in
 * a real v1 cgroup with a quota where the machine allows it.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cpus.h"

static char root[64];

/* The CPUs of this process's affinity mask. */
static int
affinity(void)
{
	cpu_set_t set;
	assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
	return CPU_COUNT(&set);
}

/* Writes text to root/rel, making the directories on the way. */
static void
put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/esthub-cpus-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static const char v2_mounts[] =
    "23 28 0:21 / /proc rw,nosuid - proc proc rw\n"
    "30 28 0:26 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";

static void
test_v2(void **state)
{
	(void)state;
	put("proc/self/cgroup", "0::/system.slice/esthub.service\n");
	put("proc/self/mountinfo", v2_mounts);
	assert_true(cpus_quota(root) == 0); /* no cpu.max anywhere */
	put("sys/fs/cgroup/system.slice/esthub.service/cpu.max", "max 100000\n");
	assert_true(cpus_quota(root) == 0);
	put("sys/fs/cgroup/system.slice/esthub.service/cpu.max", "150000 100000\n");
	assert_true(cpus_quota(root) == 1.5);
	/* a parent's smaller quota counts */
	put("sys/fs/cgroup/system.slice/cpu.max", "50000 100000\n");
	assert_true(cpus_quota(root) == 0.5);
	/* a larger one on the parent does not */
	put("sys/fs/cgroup/system.slice/cpu.max", "400000 100000\n");
	assert_true(cpus_quota(root) == 1.5);
	put("sys/fs/cgroup/system.slice/esthub.service/cpu.max", "1000000 100000\n");
	assert_true(cpus_quota(root) == 4);
	/* cpus_usable: the quota rounded up, where it is below the affinity mask */
	char why[64];
	int n = affinity();
	assert_int_equal(cpus_usable(root, why, sizeof why), n < 4 ? n : 4);
	assert_string_equal(why, n > 4 ? "a cgroup CPU quota of 4" : "");
	put("sys/fs/cgroup/system.slice/esthub.service/cpu.max", "50000 100000\n");
	assert_int_equal(cpus_usable(root, why, sizeof why), 1);
	assert_string_equal(why, n > 1 ? "a cgroup CPU quota of 0.5" : "");
}

/* A container with a cgroup namespace: its cgroup is "/", the mount shows it. */
static void
test_v2_namespace(void **state)
{
	(void)state;
	put("proc/self/cgroup", "0::/\n");
	put("proc/self/mountinfo", v2_mounts);
	put("sys/fs/cgroup/cpu.max", "200000 100000\n");
	assert_true(cpus_quota(root) == 2);
	char why[64];
	assert_int_equal(cpus_usable(root, why, sizeof why), affinity() < 2 ? affinity() : 2);
}

/* Docker with cgroup v1 and no namespace: the mount's root is the container's path. */
static void
test_v1(void **state)
{
	(void)state;
	put("proc/self/cgroup", "12:memory:/docker/abc\n"
	                        "4:cpu,cpuacct:/docker/abc\n"
	                        "1:name=systemd:/docker/abc\n");
	put("proc/self/mountinfo",
	    "700 699 0:40 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid master:17 - cgroup "
	    "cgroup rw,cpu,cpuacct\n"
	    "701 699 0:41 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup "
	    "rw,memory\n");
	put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
	put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
	assert_true(cpus_quota(root) == 0);
	put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "250000\n");
	assert_true(cpus_quota(root) == 2.5);
	/* the memory hierarchy's files are not the CPU's */
	put("sys/fs/cgroup/memory/cpu.cfs_quota_us", "10000\n");
	put("sys/fs/cgroup/memory/cpu.cfs_period_us", "100000\n");
	assert_true(cpus_quota(root) == 2.5);
}

/*
 * The hybrid layout of systemd (v1 controllers, v2 mounted at unified/
 * without them), with a v1 cgroup below the root and a mount point holding
 * a space (written \040 in mountinfo).
 */
static void
test_hybrid(void **state)
{
	(void)state;
	put("proc/self/cgroup", "2:cpuacct:/\n1:cpu:/esthub test\n0::/\n");
	put("proc/self/mountinfo",
	    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	    "32 31 0:29 / /sys/fs/cgroup/c\\040pu rw,relatime - cgroup cgroup rw,cpu\n"
	    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
	put("sys/fs/cgroup/c pu/cpu.cfs_quota_us", "-1\n");
	put("sys/fs/cgroup/c pu/cpu.cfs_period_us", "100000\n");
	put("sys/fs/cgroup/c pu/esthub test/cpu.cfs_quota_us", "75000\n");
	put("sys/fs/cgroup/c pu/esthub test/cpu.cfs_period_us", "50000\n");
	assert_true(cpus_quota(root) == 1.5);
	/* the cpuacct hierarchy is not the cpu controller's */
	put("sys/fs/cgroup/cpuacct/cpu.cfs_quota_us", "10000\n");
	put("sys/fs/cgroup/cpuacct/cpu.cfs_period_us", "100000\n");
	assert_true(cpus_quota(root) == 1.5);
}

/* Nothing to read, or nothing that makes sense: no quota. */
static void
test_missing_and_garbage(void **state)
{
	(void)state;
	assert_true(cpus_quota(root) == 0); /* no proc/ at all */
	put("proc/self/cgroup", "garbage\n::\n0::\n");
	assert_true(cpus_quota(root) == 0); /* no mountinfo */
	put("proc/self/mountinfo", "1 2 3\n- cgroup2\n30 28 0:26 / /x rw - cgroup2\n");
	assert_true(cpus_quota(root) == 0);
	put("proc/self/cgroup", "0::/a\n");
	put("proc/self/mountinfo", v2_mounts);
	put("sys/fs/cgroup/a/cpu.max", "0 100000\n");
	assert_true(cpus_quota(root) == 0);
	put("sys/fs/cgroup/a/cpu.max", "-5 100000\n");
	assert_true(cpus_quota(root) == 0);
	put("sys/fs/cgroup/a/cpu.max", "100000\n");
	assert_true(cpus_quota(root) == 0);
	/* a cgroup path outside what the mount shows */
	put("proc/self/mountinfo", "30 28 0:26 /other /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	put("sys/fs/cgroup/cpu.max", "100000 100000\n");
	assert_true(cpus_quota(root) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2_namespace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hybrid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_and_garbage, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
