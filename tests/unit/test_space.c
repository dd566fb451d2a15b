/* SPDX-License-Identifier: Apache-2.0 */
/*
 * space: when the hub says the store's filesystem is low on space, again,
 * and back (space_watch_note), the figures for people (space_text), and a
 * real filesystem read (space_of). tests/integration/test_full_disk.py
 * fills a real tmpfs under a running hub.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "space.h"

#define MIB (UINT64_C(1) << 20)

static void
test_low_again_and_back(void **state)
{
	(void)state;
	struct space_watch w = {.path = ".", .warn_below = 100 * MIB};
	assert_false(space_watch_note(&w, 150 * MIB));
	assert_false(space_watch_note(&w, 100 * MIB)); /* at the line: not below it */
	assert_true(space_watch_note(&w, 90 * MIB));   /* below: said */
	assert_true(w.warned_at == 90 * MIB);
	assert_true(space_watch_note(&w, 60 * MIB)); /* lower, not yet half: not said again */
	assert_true(w.warned_at == 90 * MIB);
	assert_true(space_watch_note(&w, 40 * MIB)); /* under half of 90: said again */
	assert_true(w.warned_at == 40 * MIB);
	assert_true(space_watch_note(&w, 0)); /* full */
	assert_true(w.warned_at == 1);
	assert_true(space_watch_note(&w, 105 * MIB));  /* above the line, not by a tenth */
	assert_false(space_watch_note(&w, 110 * MIB)); /* back: said, and low no more */
	assert_true(w.warned_at == 0);
	assert_false(space_watch_note(&w, 101 * MIB));
	assert_true(space_watch_note(&w, 99 * MIB)); /* low again */
}

static void
test_never_when_off(void **state)
{
	(void)state;
	struct space_watch w = {.path = ".", .warn_below = 0};
	assert_false(space_watch_note(&w, 0));
	assert_false(space_watch_tick(&w, 0));
	assert_true(w.warned_at == 0);
}

static void
test_text(void **state)
{
	(void)state;
	char t[32];
	space_text(0, t, sizeof t);
	assert_string_equal(t, "0 bytes");
	space_text(1023, t, sizeof t);
	assert_string_equal(t, "1023 bytes");
	space_text(1024, t, sizeof t);
	assert_string_equal(t, "1.0 KiB");
	space_text(812 * MIB, t, sizeof t);
	assert_string_equal(t, "812 MiB");
	space_text(12 * 1024 * MIB + 300 * MIB, t, sizeof t);
	assert_string_equal(t, "12 GiB");
	space_text(5 * 1024 * MIB + 512 * MIB, t, sizeof t);
	assert_string_equal(t, "5.5 GiB");
}

static void
test_a_real_filesystem(void **state)
{
	(void)state;
	uint64_t avail = 0, size = 0;
	assert_int_equal(space_of(".", &avail, &size), 0);
	assert_true(size > 0);
	assert_true(avail <= size);
	assert_int_equal(space_of("/no/such/directory", &avail, &size), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_low_again_and_back),
	    cmocka_unit_test(test_never_when_off),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_a_real_filesystem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
