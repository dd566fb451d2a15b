/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timefmt: Europe/Stockholm times for people (see timefmt.h). libc does the
 * calendar and summer-time work through TZ; this file only formats and
 * parses the ISO 8601 forms the contract uses.
 */
#include "wire/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
timefmt_init(void)
{
	setenv("TZ", "Europe/Stockholm", 1);
	tzset();
}

void
timefmt_local(int64_t unix_s, char *out, size_t outlen)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	if (localtime_r(&t, &tm) == NULL || strftime(out, outlen, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, outlen, "@%lld", (long long)unix_s);
}

void
timefmt_iso_local(int64_t unix_s, char *out, size_t outlen)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	char base[32];
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(out, outlen, "@%lld", (long long)unix_s);
		return;
	}
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(out, outlen, "%s%c%02ld:%02ld", base, sign, off / 3600, (off % 3600) / 60);
}

/* Reads exactly n digits at *p into *v and advances *p; -1 when they are not digits. */
static int
digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone involved). */
static int64_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 ? 28 + leap : dm[m - 1];
}

int
timefmt_parse(const char *s, int64_t *out, char *err, size_t errlen)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
		snprintf(err, errlen, "\"%s\" is not a calendar date", s);
		return -1;
	}
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			goto bad;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				goto bad;
		}
		if (h > 23 || mi > 59 || sec > 60)
			goto bad;
	}
	if (*p == '\0') {
		/* Local Europe/Stockholm time: let libc decide summer time. */
		struct tm tm = {.tm_year = y - 1900,
		                .tm_mon = mo - 1,
		                .tm_mday = d,
		                .tm_hour = h,
		                .tm_min = mi,
		                .tm_sec = sec,
		                .tm_isdst = -1};
		time_t t = mktime(&tm);
		if (t == (time_t)-1) {
			snprintf(err, errlen, "\"%s\" is not a local time", s);
			return -1;
		}
		*out = (int64_t)t;
		return 0;
	}
	int off = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (digits(&p, 2, &oh))
			goto bad;
		if (*p == ':')
			p++;
		if (*p != '\0' && digits(&p, 2, &om))
			goto bad;
		if (oh > 14 || om > 59)
			goto bad;
		off = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0')
		goto bad;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
bad:
	snprintf(err, errlen, "\"%s\" is not an ISO 8601 time (YYYY-MM-DDTHH:MM, optional offset)",
	         s);
	return -1;
}

int64_t
timefmt_now(void)
{
	return (int64_t)time(NULL);
}

int64_t
timefmt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
timefmt_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
