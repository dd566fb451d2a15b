/* SPDX-License-Identifier: Apache-2.0 */
/*
 * watch: the drop directory of `est-adapter --watch DIR`. A partner writes
 * a file under a name the adapter ignores (a dotfile, or NAME.tmp) and
 * renames it into place when it is complete. Every other regular file in
 * DIR is read through intake into the outbox, in one transaction, oldest
 * first, and stays in DIR until each of its records has an outcome. Then it
 * moves to DIR/done/, or to DIR/failed/ with NAME.error beside it when the
 * file was refused whole (unreadable, not its format, more records than the
 * outbox may hold) or any record was rejected or could not be translated;
 * the error file names each such record and why. Skipped records (mapping
 * rules, older revisions) are not failures.
 *
 * Files found in DIR at start are read again; the outbox gives records with
 * the content of earlier ones their earlier outcome, so a restart sends
 * nothing twice. inotify (IN_CLOSE_WRITE, IN_MOVED_TO) says when to look;
 * the directory itself is the queue, so a lost event loses nothing.
 *
 * While the hub is away, files are still read into the outbox (they are
 * durable there) and wait in DIR for their answers; once the outbox holds
 * its cap of pending records, a new file waits in DIR, said once, and is read
 * when the hub has taken some. Runs as a sender hook (sender.h), on the
 * thread that owns the outbox.
 */
#ifndef ESTHUB_ADAPTER_WATCH_H
#define ESTHUB_ADAPTER_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/intake.h"
#include "runtime/outbox.h"

/* Files read and waiting for their outcomes at once; more wait in DIR. */
#define WATCH_MAX_HELD 4096
/* Files read per round of the loop, so answers keep flowing meanwhile. */
#define WATCH_FILES_PER_ROUND 8
/* Directory entries looked at per scan; more are looked at by the next. */
#define WATCH_SCAN_MAX 1024
/* Bytes of record lines kept for one NAME.error; more are counted. */
#define WATCH_ERROR_MAX_BYTES (64 * 1024)

struct watch;

/*
 * Watches dir (which must exist; done/ and failed/ are made in it). Reads
 * with in into ob; tell (with arg) hears every record that is done at once
 * when its file is read (the sender's rows come through watch_row). The
 * first look at dir happens in the first watch_run. NULL with the reason in
 * err. The caller owns the result; in and ob are borrowed.
 */
struct watch *watch_new(const char *dir, struct intake *in, struct outbox *ob, outbox_row_fn tell,
                        void *arg, char *err, size_t errlen);

/* Stops watching and frees *w (files stay where they are); sets *w to NULL. NULL-safe. */
void watch_destroy(struct watch **w);

/* The inotify descriptor, to poll for input. */
int watch_fd(const struct watch *w);

/*
 * The sender hook (sender.h): takes inotify events, moves files whose
 * records all have outcomes, and reads new files. arg is the struct watch.
 */
int watch_run(void *arg, bool readable, long *wait_ms);

/* A row became done (the sender's answer): counts it against its file, if it has one here. */
void watch_row(struct watch *w, const struct outbox_row *row);

#endif
