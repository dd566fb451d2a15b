/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timefmt: times as people in Sweden read and write them. Everything is
 * Europe/Stockholm local time; call timefmt_init() once, before any thread
 * starts (it sets TZ for localtime_r/mktime).
 */
#ifndef ESTHUB_WIRE_TIMEFMT_H
#define ESTHUB_WIRE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

void timefmt_init(void);

/* "2026-11-23 21:40" in Europe/Stockholm, into out (at least 17 bytes). */
void timefmt_local(int64_t unix_s, char *out, size_t outlen);

/* ISO 8601 with offset, "2026-11-23T21:40:00+01:00". */
void timefmt_iso_local(int64_t unix_s, char *out, size_t outlen);

/*
 * Parses ISO 8601 "YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM|-HH:MM]" (a space may
 * stand for T); without an offset the time is Europe/Stockholm local time.
 * Returns 0 and sets *out, or -1 with the reason in err.
 */
int timefmt_parse(const char *s, int64_t *out, char *err, size_t errlen);

/* The current time, Unix seconds and milliseconds (CLOCK_REALTIME), and a monotonic ms clock. */
int64_t timefmt_now(void);
int64_t timefmt_now_ms(void);
int64_t timefmt_mono_ms(void);

#endif
