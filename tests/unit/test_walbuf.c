/* SPDX-License-Identifier: Apache-2.0 */
/*
 * walbuf: a WAL file's writes, gathered, reach the file whole and in the
 * order SQLite made them, whatever asks next (sync, read, size, truncate,
 * close); and a store written through it reads back intact with the default
 * VFS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "walbuf.h"

struct fx {
	char dir[64];
	char db[128];  /* the database file (empty): the unix VFS looks for it */
	char wal[160]; /* its WAL, opened through walbuf */
	sqlite3_vfs *vfs;
	sqlite3_file *f;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/test_walbuf.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->db, sizeof fx->db, "%s/t.db", fx->dir);
	snprintf(fx->wal, sizeof fx->wal, "%s-wal", fx->db);
	int fd = open(fx->db, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || close(fd) != 0 || walbuf_register() != SQLITE_OK)
		return -1;
	fx->vfs = sqlite3_vfs_find(WALBUF_VFS);
	if (fx->vfs == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	if (fx->f != NULL && fx->f->pMethods != NULL)
		fx->f->pMethods->xClose(fx->f);
	free(fx->f);
	char p[200];
	static const char *const rest[] = {"-wal", "-shm", "-journal", ""};
	for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) {
		snprintf(p, sizeof p, "%s%s", fx->db, rest[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void
open_wal(struct fx *fx)
{
	fx->f = calloc(1, (size_t)fx->vfs->szOsFile);
	assert_non_null(fx->f);
	int out = 0;
	assert_int_equal(
	    fx->vfs->xOpen(fx->vfs, fx->wal, fx->f,
	                   SQLITE_OPEN_WAL | SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE, &out),
	    SQLITE_OK);
}

/* The file's bytes as the file system has them (not through the VFS). */
static size_t
disk_read(const struct fx *fx, unsigned char *out, size_t cap)
{
	int fd = open(fx->wal, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, out, cap);
	assert_true(n >= 0);
	close(fd);
	return (size_t)n;
}

static void
fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 131u + (i >> 9));
}

/*
 * 128 KiB exactly, in frame-sized writes: the unix VFS masks a write's
 * length to 17 bits, so one write of all of it would store nothing and
 * say SQLITE_FULL.
 */
static void
test_a_run_of_128_kib_reaches_the_file(void **state)
{
	struct fx *fx = *state;
	enum { TOTAL = 128 * 1024, PIECE = 4096 };
	static unsigned char want[TOTAL], got[TOTAL + 1];
	fill(want, TOTAL, 7);
	open_wal(fx);
	const sqlite3_io_methods *m = fx->f->pMethods;
	for (size_t off = 0; off < TOTAL; off += PIECE)
		assert_int_equal(m->xWrite(fx->f, want + off, PIECE, (sqlite3_int64)off),
		                 SQLITE_OK);
	assert_int_equal(disk_read(fx, got, sizeof got), 0); /* gathered, not written yet */
	assert_int_equal(m->xSync(fx->f, SQLITE_SYNC_NORMAL), SQLITE_OK);
	assert_int_equal(disk_read(fx, got, sizeof got), TOTAL);
	assert_memory_equal(got, want, TOTAL);
}

/* A write that does not follow the last one, over bytes still gathered: the later one wins. */
static void
test_writes_keep_their_order(void **state)
{
	struct fx *fx = *state;
	static unsigned char a[3 * 4120], b[4120], want[3 * 4120], got[sizeof want + 1];
	fill(a, sizeof a, 1);
	fill(b, sizeof b, 2);
	memcpy(want, a, sizeof a);
	memcpy(want + 4120, b, sizeof b);
	open_wal(fx);
	const sqlite3_io_methods *m = fx->f->pMethods;
	assert_int_equal(m->xWrite(fx->f, a, 24, 0), SQLITE_OK); /* a frame header, then its page */
	assert_int_equal(m->xWrite(fx->f, a + 24, (int)sizeof a - 24, 24), SQLITE_OK);
	assert_int_equal(m->xWrite(fx->f, b, (int)sizeof b, 4120), SQLITE_OK); /* rewritten */
	sqlite3_int64 size = 0;
	assert_int_equal(m->xFileSize(fx->f, &size), SQLITE_OK);
	assert_int_equal(size, (sqlite3_int64)sizeof want);
	unsigned char mid[100];
	assert_int_equal(m->xRead(fx->f, mid, sizeof mid, 4100), SQLITE_OK);
	assert_memory_equal(mid, want + 4100, sizeof mid);
	assert_int_equal(m->xWrite(fx->f, a, 100, sizeof want), SQLITE_OK); /* gathered again */
	assert_int_equal(m->xTruncate(fx->f, sizeof want), SQLITE_OK);      /* written, then cut */
	assert_int_equal(m->xClose(fx->f), SQLITE_OK);
	fx->f->pMethods = NULL;
	assert_int_equal(disk_read(fx, got, sizeof got), sizeof want);
	assert_memory_equal(got, want, sizeof want);
}

static int
count_cb(void *arg, int n, char **vals, char **names)
{
	(void)n;
	(void)names;
	*(long *)arg = strtol(vals[0], NULL, 10);
	return 0;
}

/*
 * A store written through walbuf in WAL mode, transactions large and small
 * (a large one spills pages to the WAL before it commits), read back with
 * the default VFS after the writer has gone without a checkpoint.
 */
static void
test_a_store_reads_back_with_the_default_vfs(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = NULL;
	assert_int_equal(
	    sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, WALBUF_VFS),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	                              "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-64;"
	                              "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB);",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	for (int round = 0; round < 3; round++) {
		char sql[160];
		snprintf(
		    sql, sizeof sql,
		    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
		    "INSERT INTO t(v) SELECT randomblob(700) FROM n",
		    round == 1 ? 3000 : 7);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	/* The file is copied while the writer is still open: what a crash would leave. */
	char copy[200], cmd[512];
	snprintf(copy, sizeof copy, "%s/c.db", fx->dir);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s' && cp '%s' '%s-wal'", fx->db, copy, fx->wal, copy);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(sqlite3_open_v2(copy, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	long rows = -1;
	char ok[16] = "";
	assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM t", count_cb, &rows, NULL),
	                 SQLITE_OK);
	assert_int_equal(rows, 3014);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(ok, sizeof ok, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	assert_string_equal(ok, "ok");
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm'", copy, copy, copy);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_a_run_of_128_kib_reaches_the_file, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_writes_keep_their_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_store_reads_back_with_the_default_vfs, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
