/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpus: how many CPUs the hub may use. That is the number in its affinity
 * mask (taskset, cpuset), lowered by a CPU quota of the cgroups it runs
 * in: `docker run --cpus 2` and systemd's CPUQuota= leave every CPU of the
 * host in the mask and limit the time the process's threads get instead.
 * cgroup v2 (cpu.max) and v1 (cpu.cfs_quota_us over cpu.cfs_period_us)
 * are read along the process's cgroup path up to its hierarchy's root;
 * the smallest quota on the way counts, rounded up to whole CPUs.
 */
#ifndef ESTHUB_CPUS_H
#define ESTHUB_CPUS_H

#include <stddef.h>

/*
 * The CPUs the process may use: the affinity mask's count (1 when it cannot
 * be read), or fewer when a cgroup CPU quota allows less. root is prefixed
 * to every path read (/proc/self/cgroup, /proc/self/mountinfo and the
 * cgroup files): "" for this machine, a directory laid out alike in tests.
 * why (whylen bytes) says where the number comes from, in words for the
 * hub's start-up line: "" for the affinity mask, or e.g. "a cgroup CPU
 * quota of 1.5". Files that are missing or unreadable mean no quota.
 */
int cpus_usable(const char *root, char *why, size_t whylen);

/*
 * The smallest CPU quota (in CPUs, e.g. 1.5) of the process's cgroups
 * under root, or 0 when there is none.
 */
double cpus_quota(const char *root);

#endif
