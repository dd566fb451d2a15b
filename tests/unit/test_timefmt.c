/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of Europe/Stockholm times: ISO 8601 parsing and formatting, summer time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wire/timefmt.h"

static void
test_parse(void **state)
{
	static const struct {
		const char *text;
		int64_t want; /* 0: must be refused */
	} cases[] = {
	    {"2026-11-23T21:40", 1795466400},          /* winter, CET */
	    {"2026-11-23 21:40", 1795466400},          /* space for T */
	    {"2026-11-23T20:40Z", 1795466400},         /* UTC */
	    {"2026-11-23T21:40:00+01:00", 1795466400}, /* offset */
	    {"2026-11-23T22:40+0200", 1795466400},     /* offset without colon */
	    {"2026-07-01T12:00", 1782900000},          /* summer, CEST */
	    {"2026-03-29T03:30", 1774747800},          /* just after the spring change */
	    {"2026-11-23", 1795388400},                /* local midnight */
	    {"2026-02-30T10:00", 0},
	    {"2026-11-23T24:00", 0},
	    {"23/11/2026", 0},
	    {"2026-11-23T21:40+25:00", 0},
	    {"2026-11-23T21:40 junk", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t t = 0;
		char err[200];
		int rc = timefmt_parse(cases[i].text, &t, err, sizeof err);
		if (cases[i].want == 0) {
			if (rc == 0)
				fail_msg("%s: accepted as %lld", cases[i].text, (long long)t);
		} else if (rc != 0 || t != cases[i].want) {
			fail_msg("%s: got %lld (%s), want %lld", cases[i].text, (long long)t,
			         rc ? err : "ok", (long long)cases[i].want);
		}
	}
}

static void
test_format(void **state)
{
	char out[64];
	timefmt_local(1795466400, out, sizeof out);
	assert_string_equal(out, "2026-11-23 21:40");
	timefmt_iso_local(1782900000, out, sizeof out);
	assert_string_equal(out, "2026-07-01T12:00:00+02:00");
	/* The repeated October hour: 02:30 comes twice, an hour apart. */
	timefmt_iso_local(1792888200, out, sizeof out);
	assert_string_equal(out, "2026-10-25T02:30:00+02:00");
	timefmt_iso_local(1792888200 + 3600, out, sizeof out);
	assert_string_equal(out, "2026-10-25T02:30:00+01:00");
}

int
main(void)
{
	timefmt_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
