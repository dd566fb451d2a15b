/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state: the --state file of est-feed (see state.h). Only this module
 * touches it; the follow loop decides when to save.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	char tmp[4096], text[32];
	int fd = -1, rc = -1;
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	int len = snprintf(text, sizeof text, "%llu\n", (unsigned long long)seq);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	if (write(fd, text, (size_t)len) != len || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
		goto out;
	}
	/* Else a power cut can bring back an older state: entries printed again. */
	if (durable_dir_of(path) != 0) {
		snprintf(err, errlen, "%s: cannot sync its directory: %s", path, strerror(errno));
		goto out; /* (tmp is gone: renamed) */
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	return rc;
}
