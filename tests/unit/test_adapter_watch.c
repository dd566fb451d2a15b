/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the drop directory (adapters/runtime/watch.c) with the
 * `json` format and a real outbox, the hub played by outbox_finish: which
 * files are read and which left alone, done/ and failed/ with NAME.error in
 * file order, files that wait for answers, a file replaced while it waited,
 * names already taken in done/, inotify, and the outbox's cap.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <ftw.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/format.h"
#include "runtime/intake.h"
#include "runtime/outbox.h"
#include "runtime/sender.h"
#include "runtime/watch.h"

struct fixture {
	char root[64];
	char dir[96];
	char outbox[96];
	struct outbox *ob;
	struct intake *in;
	struct watch *w;
	size_t n_told;
};

#define GOOD(id, rev)                                                                              \
	"{\"sourceId\":\"" id "\",\"revision\":" #rev ",\"category\":\"CATEGORY_VANDALISM\","      \
	"\"area\":\"hageby\",\"observedAt\":\"1794854400\"}\n"

static void
told(void *arg, const struct outbox_row *row)
{
	struct fixture *f = arg;
	(void)row;
	f->n_told++;
}

static void
open_all(struct fixture *f, size_t max_pending)
{
	char err[512];
	f->ob = outbox_open(f->outbox, max_pending, err, sizeof err);
	assert_non_null(f->ob);
	f->in = intake_new(format_find("json"), NULL, err, sizeof err);
	assert_non_null(f->in);
	f->w = watch_new(f->dir, f->in, f->ob, told, f, err, sizeof err);
	assert_non_null(f->w);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->root, sizeof f->root, "/tmp/test_watch.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof f->dir, "%s/drop", f->root);
	snprintf(f->outbox, sizeof f->outbox, "%s/outbox", f->root);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	open_all(f, 100);
	*state = f;
	return 0;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	watch_destroy(&f->w);
	intake_destroy(&f->in);
	outbox_destroy(&f->ob);
	nftw(f->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Writes name in the directory as a partner should: a dotfile, renamed. */
static void
drop(struct fixture *f, const char *name, const char *text)
{
	char tmp[160], path[160];
	snprintf(tmp, sizeof tmp, "%s/.%s.part", f->dir, name);
	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	FILE *out = fopen(tmp, "wb");
	assert_non_null(out);
	fputs(text, out);
	fclose(out);
	assert_int_equal(rename(tmp, path), 0);
}

static bool
exists(struct fixture *f, const char *rel)
{
	char path[200];
	snprintf(path, sizeof path, "%s/%s", f->dir, rel);
	return access(path, F_OK) == 0;
}

static char *
slurp(struct fixture *f, const char *rel)
{
	static char buf[4096];
	char path[200];
	snprintf(path, sizeof path, "%s/%s", f->dir, rel);
	FILE *in = fopen(path, "rb");
	assert_non_null(in);
	size_t n = fread(buf, 1, sizeof buf - 1, in);
	fclose(in);
	buf[n] = '\0';
	return buf;
}

/* One round of the loop, with whatever inotify has to say. */
static int
run(struct fixture *f)
{
	long wait = 0;
	return watch_run(f->w, true, &wait);
}

/* The hub's part: every pending row answered with status (rejected: "severity: bad"). */
struct hub {
	int64_t ids[64];
	size_t n;
};

static int
take(void *arg, int64_t id, enum outbox_kind kind, const uint8_t *payload, size_t len)
{
	struct hub *h = arg;
	(void)kind;
	(void)payload;
	(void)len;
	if (h->n == 64)
		return 1;
	h->ids[h->n++] = id;
	return 0;
}

static void
to_watch(void *arg, const struct outbox_row *row)
{
	watch_row(arg, row);
}

static void
answer(struct fixture *f, enum outbox_status status)
{
	struct hub h = {0};
	struct outbox_result res[64];
	assert_int_equal(outbox_each_to_send(f->ob, 0, 64, take, &h), OUTBOX_OK);
	for (size_t i = 0; i < h.n; i++)
		res[i] = (struct outbox_result){.id = h.ids[i],
		                                .status = status,
		                                .seq = (uint64_t)h.ids[i],
		                                .error = status == OUTBOX_REJECTED ? "severity: bad"
		                                                                   : ""};
	assert_int_equal(outbox_finish(f->ob, res, h.n, to_watch, f->w), OUTBOX_OK);
}

/* Which files are read, which wait, and where each ends. */
static void
test_done_failed_and_ignored(void **state)
{
	struct fixture *f = *state;
	drop(f, "good.jsonl", GOOD("a", 0) GOOD("b", 0));
	drop(f, "broken.jsonl", "not json\n{\"sourceId\":\"x\",\"colour\":1}\n");
	drop(f, "empty.jsonl", "");
	drop(f, "partial.tmp", GOOD("c", 0));
	drop(f, ".hidden", GOOD("d", 0));
	assert_int_equal(run(f) & SENDER_HOOK_ADDED, SENDER_HOOK_ADDED);

	/* Nothing to wait for: moved at once. */
	assert_true(exists(f, "done/empty.jsonl"));
	assert_true(exists(f, "failed/broken.jsonl"));
	char *err = slurp(f, "failed/broken.jsonl.error");
	assert_non_null(strstr(err, "broken.jsonl: 2 of 2 records not delivered\n"));
	assert_non_null(strstr(err, "broken.jsonl:1 - - rejected"));
	assert_non_null(strstr(err, "broken.jsonl:2 - - rejected"));
	assert_non_null(strstr(err, "colour"));
	/* Waiting for the hub: still in the directory. */
	assert_true(exists(f, "good.jsonl"));
	assert_int_equal(outbox_pending(f->ob), 2);
	assert_true(exists(f, "partial.tmp"));
	assert_true(exists(f, ".hidden"));

	answer(f, OUTBOX_ACCEPTED);
	assert_int_equal(run(f), 0);
	assert_true(exists(f, "done/good.jsonl"));
	assert_false(exists(f, "good.jsonl"));
	assert_true(exists(f, "partial.tmp"));
}

/* Rejected records by the hub: failed/, the error file in file order whatever the answer order. */
static void
test_rejected_in_file_order(void **state)
{
	struct fixture *f = *state;
	drop(f, "mixed.jsonl", GOOD("a", 0) "garbage\n" GOOD("b", 0) GOOD("c", 0));
	run(f);
	answer(f, OUTBOX_REJECTED);
	run(f);
	assert_true(exists(f, "failed/mixed.jsonl"));
	char *err = slurp(f, "failed/mixed.jsonl.error");
	const char *l1 = strstr(err, "mixed.jsonl:1 a 0 rejected severity: bad");
	const char *l2 = strstr(err, "mixed.jsonl:2 - - rejected");
	const char *l4 = strstr(err, "mixed.jsonl:4 c 0 rejected severity: bad");
	assert_non_null(l1);
	assert_non_null(l2);
	assert_non_null(l4);
	assert_true(l1 < l2 && l2 < l4);
	assert_non_null(strstr(err, "4 of 4 records not delivered"));
}

/* A restart reads what is left; the same content takes the earlier outcome. */
static void
test_restart_and_names_taken(void **state)
{
	struct fixture *f = *state;
	drop(f, "r.jsonl", GOOD("a", 0));
	run(f);
	watch_destroy(&f->w);
	char err[256];
	f->w = watch_new(f->dir, f->in, f->ob, told, f, err, sizeof err);
	assert_non_null(f->w);
	run(f); /* read again: its row takes the first one's (pending) outcome */
	assert_int_equal(outbox_pending(f->ob), 2);
	answer(f, OUTBOX_ACCEPTED);
	run(f);
	assert_true(exists(f, "done/r.jsonl"));
	assert_int_equal(outbox_pending(f->ob), 0);
	/* The same name and content again: answered at once, and done/r.jsonl is kept. */
	drop(f, "r.jsonl", GOOD("a", 0));
	run(f);
	assert_true(exists(f, "done/r.jsonl.1"));
	assert_int_equal(outbox_pending(f->ob), 0);
}

/*
 * One watcher a directory: a second one (here in the same process: the
 * lock is the open directory's, not the process's) is refused with the
 * reason, and the directory is free again once the first stops.
 */
static void
test_one_watcher_a_directory(void **state)
{
	struct fixture *f = *state;
	char err[512] = "";
	struct watch *second = watch_new(f->dir, f->in, f->ob, told, f, err, sizeof err);
	assert_null(second);
	assert_non_null(strstr(err, "another est-adapter watches this directory already"));
	assert_non_null(strstr(err, f->dir));
	watch_destroy(&f->w);
	f->w = watch_new(f->dir, f->in, f->ob, told, f, err, sizeof err);
	assert_non_null(f->w);
	drop(f, "after.jsonl", GOOD("after", 0));
	run(f);
	assert_int_equal(outbox_pending(f->ob), 1);
}

/* Writes text to dir/rel as it is (no rename). */
static void
plant(struct fixture *f, const char *rel, const char *text)
{
	char path[200];
	snprintf(path, sizeof path, "%s/%s", f->dir, rel);
	FILE *out = fopen(path, "wb");
	assert_non_null(out);
	fputs(text, out);
	assert_int_equal(fclose(out), 0);
}

/*
 * failed/: NAME.error is there before NAME. One found without its file (a
 * crash between the two) is written over; a file there is never replaced.
 */
static void
test_failed_error_before_file(void **state)
{
	struct fixture *f = *state;
	plant(f, "failed/b.jsonl.error", "stale\n");
	plant(f, "failed/c.jsonl", "earlier\n");
	plant(f, "failed/c.jsonl.error", "earlier reasons\n");
	drop(f, "b.jsonl", "not json\n");
	drop(f, "c.jsonl", "not json either\n");
	run(f);
	assert_true(exists(f, "failed/b.jsonl"));
	assert_false(exists(f, "failed/b.jsonl.1"));
	char *err = slurp(f, "failed/b.jsonl.error");
	assert_non_null(strstr(err, "b.jsonl: 1 of 1 records not delivered\n"));
	assert_null(strstr(err, "stale"));
	assert_string_equal(slurp(f, "failed/c.jsonl"), "earlier\n");
	assert_string_equal(slurp(f, "failed/c.jsonl.error"), "earlier reasons\n");
	assert_string_equal(slurp(f, "failed/c.jsonl.1"), "not json either\n");
	assert_non_null(strstr(slurp(f, "failed/c.jsonl.1.error"), "c.jsonl:1 - - rejected"));
	assert_false(exists(f, "b.jsonl"));
	assert_false(exists(f, "c.jsonl"));
}

/* A file replaced while its records were out is read again, not moved. */
static void
test_replaced_while_waiting(void **state)
{
	struct fixture *f = *state;
	drop(f, "x.jsonl", GOOD("a", 0));
	run(f);
	drop(f, "x.jsonl", GOOD("a", 0) GOOD("b", 0));
	answer(f, OUTBOX_ACCEPTED); /* only a was out */
	run(f);                     /* not moved: read again, b goes out */
	assert_true(exists(f, "x.jsonl"));
	assert_false(exists(f, "done/x.jsonl"));
	assert_int_equal(outbox_pending(f->ob), 1);
	answer(f, OUTBOX_ACCEPTED);
	run(f);
	assert_true(exists(f, "done/x.jsonl"));
}

/* A file arriving is seen through inotify. */
static void
test_inotify(void **state)
{
	struct fixture *f = *state;
	long wait = 0;
	assert_int_equal(run(f), 0);
	drop(f, "late.jsonl", GOOD("z", 0));
	struct pollfd p = {.fd = watch_fd(f->w), .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(watch_run(f->w, true, &wait), SENDER_HOOK_ADDED);
	assert_int_equal(outbox_pending(f->ob), 1);
	assert_int_equal(wait, -1);
}

/* At the outbox's cap a file waits; one larger than the cap is refused whole. */
static void
test_cap(void **state)
{
	struct fixture *f = *state;
	watch_destroy(&f->w);
	intake_destroy(&f->in);
	outbox_destroy(&f->ob);
	unlink(f->outbox);
	open_all(f, 2);
	drop(f, "huge.jsonl", GOOD("a", 0) GOOD("b", 0) GOOD("c", 0));
	run(f);
	assert_true(exists(f, "failed/huge.jsonl"));
	assert_non_null(strstr(slurp(f, "failed/huge.jsonl.error"), "refused whole"));
	drop(f, "two.jsonl", GOOD("d", 0) GOOD("e", 0));
	run(f);
	drop(f, "one.jsonl", GOOD("g", 0));
	long wait = -1;
	assert_int_equal(watch_run(f->w, true, &wait), 0);
	assert_true(exists(f, "one.jsonl"));
	assert_int_equal(wait, -1); /* no polling: room in the outbox brings the next look */
	answer(f, OUTBOX_ACCEPTED);
	assert_int_equal(run(f), SENDER_HOOK_ADDED); /* room again: one.jsonl goes in */
	assert_true(exists(f, "done/two.jsonl"));
	assert_int_equal(outbox_pending(f->ob), 1);
}

static int
count_done(struct fixture *f)
{
	char path[160];
	int n = 0;
	snprintf(path, sizeof path, "%s/done", f->dir);
	DIR *d = opendir(path);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* More files than one look lists: every one is read, a few per round, and then the watch idles. */
static void
test_more_files_than_one_look(void **state)
{
	struct fixture *f = *state;
	enum { N = WATCH_SCAN_MAX + 40 };
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "f%04d.jsonl", i);
		drop(f, name, "");
	}
	int rounds = 0, waits = 0;
	for (; rounds < 10 * N && count_done(f) < N; rounds++) {
		long wait = 0;
		watch_run(f->w, true, &wait);
		if (wait > 0) {
			waits++;
			usleep((useconds_t)wait * 1000);
		}
	}
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "done/f%04d.jsonl", i);
		assert_true(exists(f, name));
	}
	assert_true(rounds >= N / WATCH_FILES_PER_ROUND);
	/* Whether a round had to wait for the next look depends on how long the rounds took (an
	 * outbox commit each, so the disk's speed): it is printed, not asserted. What must hold
	 * whatever the timing: with every file done and nothing new, the watch asks for no round
	 * at all (wait -1), not for one at once again and again. */
	printf("%d rounds, %d of them waiting for the next look\n", rounds, waits);
	while (count_done(f) == N && rounds++ < 10 * N) {
		long wait = 0;
		watch_run(f->w, false, &wait);
		if (wait < 0)
			break;
		usleep((useconds_t)wait * 1000);
	}
	for (int i = 0; i < 3; i++) {
		long wait = 0;
		watch_run(f->w, false, &wait);
		assert_int_equal(wait, -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_done_failed_and_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejected_in_file_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_and_names_taken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_watcher_a_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replaced_while_waiting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_error_before_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inotify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_more_files_than_one_look, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
