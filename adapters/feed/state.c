/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state: the --state file of est-feed (see state.h). Only this module
 * touches it; the follow loop decides when to save.
 */
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/diag.h"
#include "wire/durable.h"

#define STATE_MAX_BYTES 64

/* Parses "N" with optional surrounding white space; -1 when text is not a seq. */
static int
parse_seq(const char *text, uint64_t *seq)
{
	while (*text == ' ' || *text == '\t')
		text++;
	if (*text < '0' || *text > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0)
		return -1;
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (*end != '\0')
		return -1;
	*seq = (uint64_t)v;
	return 0;
}

int
state_read(const char *path, uint64_t *seq, int *exit_code, char *err, size_t errlen)
{
	char text[STATE_MAX_BYTES + 1];
	int rc = -1;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		*exit_code = EXIT_ENV;
		return -1;
	}
	size_t n = fread(text, 1, STATE_MAX_BYTES, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		*exit_code = EXIT_ENV;
		goto out;
	}
	text[n] = '\0';
	if (strspn(text, " \t\r\n") == n) {
		rc = 0;
		goto out;
	}
	if (n == STATE_MAX_BYTES || memchr(text, '\0', n) != NULL || parse_seq(text, seq) != 0) {
		snprintf(err, errlen, "%s: not an est-feed state file (one seq expected)", path);
		*exit_code = EXIT_INPUT;
		goto out;
	}
	rc = 1;
out:
	fclose(f);
	return rc;
}

int
state_write(const char *path, uint64_t seq, char *err, size_t errlen)
{
	/* Durably: else a power cut can bring back an older state, and entries printed again. */
	char text[32];
	int len = snprintf(text, sizeof text, "%llu\n", (unsigned long long)seq);
	return durable_replace(path, text, (size_t)len, err, errlen);
}
