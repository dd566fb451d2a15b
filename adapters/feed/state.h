/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state: est-feed's --state file, which remembers the last seq printed so
 * the next run resumes after it. One decimal number and a newline; written
 * through a temporary file and a rename, so a crash leaves the old or the
 * new number, never half of one.
 */
#ifndef ESTHUB_FEED_STATE_H
#define ESTHUB_FEED_STATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads the seq kept at path. Returns 1 with *seq set; 0 when the file does
 * not exist or is empty (nothing remembered yet); -1 with the reason in err
 * when it cannot be read (2) or holds something else than a seq (1): the
 * value to return as exit code is put in *exit_code.
 */
int state_read(const char *path, uint64_t *seq, int *exit_code, char *err, size_t errlen);

/* Writes seq to path atomically (path.tmp, fsync, rename). 0, or -1 with the reason in err. */
int state_write(const char *path, uint64_t seq, char *err, size_t errlen);

#endif
