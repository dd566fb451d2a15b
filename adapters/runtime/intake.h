/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intake: reads partner files through their translator into the outbox,
 * one transaction per file, so a file is queued whole or not at all. Checks
 * what every format must give (a source id, a report of sendable size) and
 * tells about the records that are done at once: those that could not be
 * translated, were skipped, or have the outcome of an earlier record.
 */
#ifndef ESTHUB_ADAPTER_INTAKE_H
#define ESTHUB_ADAPTER_INTAKE_H

#include <stddef.h>

#include "runtime/format.h"
#include "runtime/outbox.h"

/* The largest packed Report the adapter queues: several fit one envelope. */
#define INTAKE_MAX_REPORT_BYTES (256 * 1024)

enum intake_rc {
	INTAKE_OK = 0,
	INTAKE_FULL,    /* the outbox reached its pending cap: the file was not queued */
	INTAKE_STOPPED, /* a stop was asked for: the file was not queued */
	INTAKE_ERROR,   /* the file cannot be read, or the outbox failed */
};

/*
 * Queues every record of the file at path, read with fmt, into ob. After
 * the commit, calls fn for each of its records that is already done, in
 * file order. Returns INTAKE_OK, or another intake_rc with the reason in err
 * and nothing of the file queued.
 */
int intake_file(struct outbox *ob, const struct format *fmt, const char *path, outbox_row_fn fn,
                void *arg, char *err, size_t errlen);

#endif
