/* SPDX-License-Identifier: Apache-2.0 */
/*
 * thp: where the kernel offers transparent huge pages on request
 * ("madvise" or "always" in /sys/kernel/mm/transparent_hugepage/enabled),
 * a large table's memory is in huge pages once touched (/proc/self/smaps:
 * AnonHugePages of its mapping). Skipped where the kernel does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "thp.h"

#define TABLE_BYTES ((size_t)16 << 20)

/* Whether the kernel gives huge pages to a region that asks: "[madvise]" or "[always]". */
static bool
thp_offered(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f == NULL)
		return false;
	char line[128] = "";
	bool yes = fgets(line, sizeof line, f) != NULL &&
	           (strstr(line, "[madvise]") != NULL || strstr(line, "[always]") != NULL);
	fclose(f);
	return yes;
}

/* AnonHugePages (kB) of the mapping of /proc/self/smaps that holds p; -1 when none does. */
static long
huge_kb_at(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	assert_non_null(f);
	char line[512];
	bool inside = false;
	long kb = -1;
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		long v;
		if (inside && sscanf(line, "AnonHugePages: %ld kB", &v) == 1)
			kb = kb < 0 ? v : kb + v;
	}
	fclose(f);
	return kb;
}

static void
test_a_touched_table_is_in_huge_pages(void **state)
{
	(void)state;
	if (!thp_offered())
		skip();
	uint8_t *t = thp_malloc(TABLE_BYTES);
	assert_non_null(t);
	for (size_t i = 0; i < TABLE_BYTES; i += 4096)
		t[i] = 1;
	/* The mapping of its whole 2 MiB blocks holds huge pages (one at least: a kernel short of
	 * them gives small ones). */
	long kb = 0;
	for (size_t off = 0; off < TABLE_BYTES; off += (size_t)2 << 20) {
		long at = huge_kb_at(t + off);
		if (at > kb)
			kb = at;
	}
	assert_true(kb >= 2048);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_touched_table_is_in_huge_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
