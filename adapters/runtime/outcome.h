/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outcome: what est-adapter prints, one line a record, and the exit code it
 * adds up to. Plain lines read
 *   FILE:RECORD SOURCE_ID REVISION STATUS SEQ-OR-REASON
 * with STATUS accepted, duplicate, rejected or skipped, and `-` for what a
 * record that could not be translated does not have. With --json each line
 * is one est.v1.Result in the protobuf JSON mapping; a skipped record has no
 * status and its reason in error ("skipped: ..."), one that could not be
 * translated has its locator in error ("FILE:RECORD: field: reason").
 *
 * A measure update's line has the measure id as SOURCE_ID and `-` as
 * REVISION (its Result: source_id = the measure id, revision 0).
 *
 * A record told twice in a row (a file given again while its earlier copy
 * was still queued: the earlier row and the new one are answered together)
 * is printed and counted once.
 */
#ifndef ESTHUB_ADAPTER_OUTCOME_H
#define ESTHUB_ADAPTER_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/outbox.h"

struct outcome {
	FILE *out;
	bool json;
	size_t accepted, duplicate, rejected, skipped;
	char *last_file; /* the locator of the line printed last */
	int64_t last_record;
};

/* Prints to out (flushed per line), as Result JSON when json is set. */
void outcome_init(struct outcome *o, FILE *out, bool json);

/* Frees what o holds (not out). */
void outcome_fini(struct outcome *o);

/* Prints row's line and counts it. An outbox_row_fn: arg is the struct outcome. */
void outcome_print(void *arg, const struct outbox_row *row);

/*
 * The plain line of row, without its newline, control characters as
 * spaces; NULL when out of memory. The caller frees it.
 */
char *outcome_format(const struct outbox_row *row);

/* EXIT_INPUT when any record was rejected, EXIT_OK otherwise. */
int outcome_exit_code(const struct outcome *o);

#endif
