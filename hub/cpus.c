/* SPDX-License-Identifier: Apache-2.0 */
/* cpus: the CPUs the hub may use, affinity mask and cgroup CPU quota (see cpus.h). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "cpus.h"

#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the comma-separated list holds token ("rw,cpu,cpuacct" holds "cpu"). */
static bool
has_token(const char *list, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, token, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/* mountinfo writes space, tab, newline and backslash in paths as \ooo: decoded in place. */
static void
unescape(char *s)
{
	char *out = s;
	for (const char *p = s; *p;) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*out++ = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
			p += 4;
		} else {
			*out++ = *p++;
		}
	}
	*out = '\0';
}

/* The first line of path, without its newline; false when it cannot be read. */
static bool
read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return false;
	bool ok = fgets(buf, (int)cap, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* The quota set in the cgroup directory dir, in CPUs, or 0 when it sets none. */
static double
quota_at(const char *dir, bool v2)
{
	char path[PATH_MAX + 32], line[128];
	if (v2) {
		/* cpu.max: "$MAX $PERIOD", $MAX "max" for none. */
		snprintf(path, sizeof path, "%s/cpu.max", dir);
		long long q, p;
		if (!read_line(path, line, sizeof line) || sscanf(line, "%lld %lld", &q, &p) != 2)
			return 0;
		return q > 0 && p > 0 ? (double)q / (double)p : 0;
	}
	/* cpu.cfs_quota_us: -1 for none. */
	long long q = 0, p = 0;
	snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
	if (!read_line(path, line, sizeof line) || sscanf(line, "%lld", &q) != 1 || q <= 0)
		return 0;
	snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
	if (!read_line(path, line, sizeof line) || sscanf(line, "%lld", &p) != 1 || p <= 0)
		return 0;
	return (double)q / (double)p;
}

/*
 * The smallest quota from the process's cgroup (cg, a path in the
 * hierarchy) up to the root of the mount at point, which shows the
 * hierarchy from mroot down; 0 when none is set or cg lies outside it.
 */
static double
quota_along(const char *root, const char *mroot, const char *point, const char *cg, bool v2)
{
	const char *rel = cg;
	if (strcmp(mroot, "/") != 0) {
		size_t n = strlen(mroot);
		if (strncmp(cg, mroot, n) != 0 || (cg[n] != '\0' && cg[n] != '/'))
			return 0;
		rel = cg + n;
	}
	char dir[PATH_MAX];
	int top = snprintf(dir, sizeof dir, "%s%s", root, point);
	if (top < 0 || (size_t)top >= sizeof dir ||
	    (size_t)snprintf(dir + top, sizeof dir - (size_t)top, "%s", rel) >=
	        sizeof dir - (size_t)top)
		return 0;
	double least = 0;
	for (;;) {
		size_t len = strlen(dir);
		while (len > (size_t)top && dir[len - 1] == '/')
			dir[--len] = '\0';
		double q = quota_at(dir, v2);
		if (q > 0 && (least == 0 || q < least))
			least = q;
		char *slash = strrchr(dir, '/');
		if (len <= (size_t)top || slash == NULL || slash < dir + top)
			break;
		*slash = '\0';
	}
	return least;
}

double
cpus_quota(const char *root)
{
	char path[PATH_MAX], v2[PATH_MAX] = "", v1[PATH_MAX] = "";
	bool in_v2 = false, in_v1 = false;
	char *line = NULL;
	size_t cap = 0;

	/* /proc/self/cgroup: "ID:CONTROLLERS:PATH" a hierarchy, "0::PATH" for v2. */
	snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		if (strncmp(line, "0:", 2) == 0 && c1 + 1 == c2) {
			in_v2 = snprintf(v2, sizeof v2, "%s", c2 + 1) < (int)sizeof v2;
		} else if (has_token(c1 + 1, "cpu")) {
			in_v1 = snprintf(v1, sizeof v1, "%s", c2 + 1) < (int)sizeof v1;
		}
	}
	fclose(f);

	/* /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE SOURCE
	 * SUPEROPTS". */
	double least = 0;
	snprintf(path, sizeof path, "%s/proc/self/mountinfo", root);
	f = (in_v1 || in_v2) ? fopen(path, "re") : NULL;
	while (f != NULL && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *save = NULL, *fields[6] = {0}, *t;
		int n = 0;
		while (n < 6 && (t = strtok_r(n == 0 ? line : NULL, " ", &save)) != NULL)
			fields[n++] = t;
		char *dash = NULL;
		while ((dash = strtok_r(NULL, " ", &save)) != NULL && strcmp(dash, "-") != 0)
			;
		char *fstype = dash ? strtok_r(NULL, " ", &save) : NULL;
		char *source = fstype ? strtok_r(NULL, " ", &save) : NULL;
		char *super = source ? strtok_r(NULL, " ", &save) : NULL;
		if (n < 6 || super == NULL)
			continue;
		bool is_v2 = strcmp(fstype, "cgroup2") == 0 && in_v2;
		bool is_v1 = strcmp(fstype, "cgroup") == 0 && in_v1 && has_token(super, "cpu");
		if (!is_v2 && !is_v1)
			continue;
		unescape(fields[3]);
		unescape(fields[4]);
		double q = quota_along(root, fields[3], fields[4], is_v2 ? v2 : v1, is_v2);
		if (q > 0 && (least == 0 || q < least))
			least = q;
	}
	if (f != NULL)
		fclose(f);
	free(line);
	return least;
}

int
cpus_usable(const char *root, char *why, size_t whylen)
{
	cpu_set_t set;
	int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
	if (whylen > 0)
		why[0] = '\0';
	double q = cpus_quota(root);
	if (q > 0 && ceil(q) < n) {
		n = (int)ceil(q);
		snprintf(why, whylen, "a cgroup CPU quota of %g", q);
	}
	return n < 1 ? 1 : n;
}
