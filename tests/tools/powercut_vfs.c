/* SPDX-License-Identifier: Apache-2.0 */
/*
 * powercut_vfs: a power cut for the tests. Preloaded into a program that
 * keeps its data in SQLite (LD_PRELOAD=libesthub-powercut.so), it becomes
 * the default VFS, over the unix one, and keeps what the program writes in
 * the program's own memory until the program syncs that file. A SIGKILL
 * then loses exactly what a power cut loses: everything written and not
 * yet synced. A plain SIGKILL does not (the kernel's page cache outlives
 * the process and writes it out later), so it cannot tell an acknowledgement
 * given after fdatasync from one given after write; with this, the tests
 * can (tests/integration/test_power_cut.py).
 *
 * The model is the page cache's, in pages of 4 KiB:
 * - a write changes pages held here (read from the file the first time);
 *   reads see them; the file's size is the larger of the file's and theirs;
 * - xSync writes every page held for the file and syncs it; only then does
 *   the data count as on disk;
 * - as the kernel writes dirty pages out whenever it likes, each page
 *   written is written out at once with probability ESTHUB_POWERCUT_WRITEBACK
 *   (default 0.02): a cut then leaves some of a transaction's pages and not
 *   others, in no particular order, as a real one can;
 * - truncation and deletion happen at once (metadata is not modelled).
 * Pages are whole, so a write never damages the bytes around it (SQLite's
 * "powersafe overwrite", which the unix VFS claims).
 *
 * ESTHUB_POWERCUT_FAIL_WHILE=PATH: a failing disk, while PATH exists (only
 * under the files whose names end with PATH's content when it has one: bad
 * blocks under the database file and not under its WAL, say). A page
 * written out then does not reach the file, and the next sync of each
 * handle open on the file fails (SQLITE_IOERR_FSYNC), as Linux (errseq)
 * reports a failed write-back once to each open file, at its next fsync
 * (even when the disk works again by then). What Linux does with such a
 * page is modelled too: it stays in the page cache, clean, with what was
 * written (reads see it) but not on disk, and no later sync writes it
 * unless it is written again; a cut loses it. So a program that takes a
 * later successful sync to mean its earlier writes are on disk loses them.
 *
 * ESTHUB_POWERCUT_SYNC_DELAY_US: each sync first waits this long with the
 * data still only here, as a slow disk would (default 0): a kill lands in
 * that window more often, and an answer given before the sync returned is
 * caught. ESTHUB_POWERCUT_SEED: the write-out choices (default: from the
 * time and pid). ESTHUB_POWERCUT_STATS=FILE: counters in FILE, mapped
 * shared, so they outlive a SIGKILL (struct powercut_stats; the test reads
 * how many pages a kill lost). Temporary files (no name) go straight through.
 *
 * Test code only: never built into the programs, never installed.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "vfspass.h"

#define PAGE 4096

/* ESTHUB_POWERCUT_STATS: eight little-endian 64-bit counters (Python: struct "<8Q"). */
struct powercut_stats {
	uint64_t magic; /* STATS_MAGIC once the process has the file mapped */
	uint64_t pid;
	uint64_t writes;       /* xWrite calls on files with a name */
	uint64_t syncs;        /* xSync calls that wrote their pages and synced */
	uint64_t written_out;  /* pages written out early, before a sync */
	uint64_t dirty;        /* pages held here and not on disk: what a cut now loses */
	uint64_t failed_syncs; /* syncs failed by ESTHUB_POWERCUT_FAIL_WHILE */
	uint64_t lost;         /* pages whose write-out failed: not on disk, not dirty either */
};
#define STATS_MAGIC 0x7475637265776f70ull /* "powercut" */

struct page {
	int64_t no; /* offset / PAGE */
	uint32_t
	    valid; /* bytes [0, valid) of the page are the file's; the rest lies past its end */
	bool dirty;
	bool lost; /* its write-out failed: held, clean, not on disk until written again */
	unsigned char data[PAGE];
};

/* One file by its full name, shared by every handle of it in the process. */
struct node {
	struct node *next;
	char *name;
	pthread_mutex_t mu;
	struct page **slots; /* open addressing by page number; cap a power of two */
	size_t cap, n;
	int64_t end; /* the end of the bytes held here (0 with none) */
	uint64_t rng;
	uint64_t
	    write_errors; /* write-outs failed: a handle that has seen fewer is told at its sync */
};

struct pc_file {
	struct vfspass_file pass;
	struct node *node;    /* NULL: a temporary file, straight through */
	uint64_t errors_seen; /* node->write_errors when this handle last synced (or opened) */
};

static sqlite3_vfs pc_vfs;
static struct node *nodes;
static pthread_mutex_t nodes_mu = PTHREAD_MUTEX_INITIALIZER;
static struct powercut_stats no_stats, *stats = &no_stats;
static double writeback = 0.02;
static useconds_t sync_delay_us;
static const char *fail_while;
static uint64_t seed;

#define REAL(f)         VFSPASS_REAL(f)
#define COUNT(field, d) __atomic_fetch_add(&stats->field, (uint64_t)(d), __ATOMIC_RELAXED)

static uint64_t
rng_next(struct node *nd)
{
	/* xorshift64* */
	nd->rng ^= nd->rng >> 12;
	nd->rng ^= nd->rng << 25;
	nd->rng ^= nd->rng >> 27;
	return nd->rng * 0x2545f4914f6cdd1dull;
}

/* --- the pages held for a file ------------------------------------------------ */

static size_t
slot_of(const struct node *nd, int64_t no)
{
	return (size_t)(((uint64_t)no * 0x9e3779b97f4a7c15ull) >> 17) & (nd->cap - 1);
}

static struct page *
page_find(const struct node *nd, int64_t no)
{
	if (nd->n == 0)
		return NULL;
	for (size_t i = slot_of(nd, no);; i = (i + 1) & (nd->cap - 1)) {
		if (nd->slots[i] == NULL)
			return NULL;
		if (nd->slots[i]->no == no)
			return nd->slots[i];
	}
}

static void
slot_put(struct node *nd, struct page *pg)
{
	size_t i = slot_of(nd, pg->no);
	while (nd->slots[i] != NULL)
		i = (i + 1) & (nd->cap - 1);
	nd->slots[i] = pg;
	nd->n++;
}

static int
table_resize(struct node *nd, size_t cap)
{
	struct page **old = nd->slots;
	size_t old_cap = nd->cap;
	nd->slots = calloc(cap, sizeof *nd->slots);
	if (nd->slots == NULL) {
		nd->slots = old;
		return SQLITE_NOMEM;
	}
	nd->cap = cap;
	nd->n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i] != NULL)
			slot_put(nd, old[i]);
	free(old);
	return SQLITE_OK;
}

/*
 * Drops every page at or past `from` bytes (all of them with 0) but the
 * lost ones when keep_lost (after a sync: they are still not on disk), and
 * trims the one across `from`.
 */
static void
pages_drop(struct node *nd, int64_t from, bool keep_lost)
{
	int64_t end = 0;
	size_t kept = 0;
	for (size_t i = 0; i < nd->cap; i++) {
		struct page *pg = nd->slots[i];
		if (pg == NULL)
			continue;
		int64_t at = pg->no * PAGE;
		if (at >= from && !(keep_lost && pg->lost)) {
			if (pg->dirty)
				COUNT(dirty, -1);
			if (pg->lost)
				COUNT(lost, -1);
			free(pg);
			nd->slots[i] = NULL;
			continue;
		}
		if (at < from && at + pg->valid > from)
			pg->valid = (uint32_t)(from - at);
		if (at + pg->valid > end)
			end = at + pg->valid;
		kept++;
	}
	nd->end = end;
	if (kept == 0)
		nd->n = 0; /* every slot is empty again */
	else
		(void)table_resize(nd, nd->cap); /* the probe chains again without the holes */
}

static int
real_size(sqlite3_file *real, int64_t *size)
{
	sqlite3_int64 s = 0;
	int rc = real->pMethods->xFileSize(real, &s);
	*size = s;
	return rc;
}

/* The page `no`, held here: read from the file the first time. */
static int
page_get(struct node *nd, sqlite3_file *real, int64_t no, struct page **out)
{
	struct page *pg = page_find(nd, no);
	if (pg != NULL) {
		*out = pg;
		return SQLITE_OK;
	}
	if ((nd->n + 1) * 2 > nd->cap) {
		int rc = table_resize(nd, nd->cap ? nd->cap * 2 : 64);
		if (rc != SQLITE_OK)
			return rc;
	}
	pg = calloc(1, sizeof *pg);
	if (pg == NULL)
		return SQLITE_NOMEM;
	pg->no = no;
	int64_t size = 0;
	int rc = real_size(real, &size);
	if (rc == SQLITE_OK && size > no * PAGE) {
		int64_t have = size - no * PAGE;
		pg->valid = have < PAGE ? (uint32_t)have : PAGE;
		rc = real->pMethods->xRead(real, pg->data, (int)pg->valid, no * PAGE);
	}
	if (rc != SQLITE_OK) {
		free(pg);
		return rc;
	}
	slot_put(nd, pg);
	*out = pg;
	return SQLITE_OK;
}

/* The disk under nd fails now (ESTHUB_POWERCUT_FAIL_WHILE). */
static bool
disk_failing(const struct node *nd)
{
	if (fail_while == NULL || access(fail_while, F_OK) != 0)
		return false;
	char only[64];
	ssize_t n = 0;
	int fd = open(fail_while, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, only, sizeof only - 1);
		close(fd);
	}
	while (n > 0 && (only[n - 1] == '\n' || only[n - 1] == ' '))
		n--;
	if (n <= 0)
		return true; /* empty (or gone meanwhile): every file */
	size_t len = strlen(nd->name);
	return (size_t)n <= len && memcmp(nd->name + len - (size_t)n, only, (size_t)n) == 0;
}

static int
page_write_out(struct node *nd, struct page *pg, sqlite3_file *real)
{
	if (disk_failing(nd)) {
		/* Linux: the page is clean now, keeps what was written, and the disk has not got
		 * it. */
		if (pg->dirty) {
			pg->dirty = false;
			COUNT(dirty, -1);
		}
		if (!pg->lost) {
			pg->lost = true;
			COUNT(lost, 1);
		}
		nd->write_errors++;
		return SQLITE_OK;
	}
	int rc = real->pMethods->xWrite(real, pg->data, (int)pg->valid, pg->no * PAGE);
	if (rc == SQLITE_OK && pg->dirty) {
		pg->dirty = false;
		COUNT(dirty, -1);
	}
	return rc;
}

/* --- the file's methods --------------------------------------------------------- */

static int
pc_read(sqlite3_file *f, void *out, int amt, sqlite3_int64 off)
{
	struct node *nd = ((struct pc_file *)f)->node;
	if (nd == NULL)
		return REAL(f)->pMethods->xRead(REAL(f), out, amt, off);
	pthread_mutex_lock(&nd->mu);
	int rc = REAL(f)->pMethods->xRead(REAL(f), out, amt, off);
	if ((rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) || nd->n == 0) {
		pthread_mutex_unlock(&nd->mu); /* nothing held: the file's answer is the answer */
		return rc;
	}
	int64_t end = off + amt, size = 0;
	for (int64_t no = off / PAGE; no * PAGE < end; no++) {
		struct page *pg = page_find(nd, no);
		if (pg == NULL)
			continue;
		int64_t at = no * PAGE;
		int64_t lo = off > at ? off : at;
		int64_t hi = end < at + pg->valid ? end : at + pg->valid;
		if (lo < hi)
			memcpy((unsigned char *)out + (lo - off), pg->data + (lo - at),
			       (size_t)(hi - lo));
	}
	int rc2 = real_size(REAL(f), &size);
	if (nd->end > size)
		size = nd->end;
	pthread_mutex_unlock(&nd->mu);
	if (rc2 != SQLITE_OK)
		return rc2;
	/* Past the end the unix VFS has already filled in zeros, and no page held reaches there. */
	return end <= size ? SQLITE_OK : SQLITE_IOERR_SHORT_READ;
}

static int
pc_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off)
{
	struct node *nd = ((struct pc_file *)f)->node;
	if (nd == NULL)
		return REAL(f)->pMethods->xWrite(REAL(f), data, amt, off);
	COUNT(writes, 1);
	int rc = SQLITE_OK;
	pthread_mutex_lock(&nd->mu);
	int64_t end = off + amt;
	for (int64_t no = off / PAGE; rc == SQLITE_OK && no * PAGE < end; no++) {
		struct page *pg = NULL;
		rc = page_get(nd, REAL(f), no, &pg);
		if (rc != SQLITE_OK)
			break;
		int64_t at = no * PAGE;
		int64_t lo = off > at ? off : at;
		int64_t hi = end < at + PAGE ? end : at + PAGE;
		if (lo - at > pg->valid) /* a hole before the write reads as zeros */
			memset(pg->data + pg->valid, 0, (size_t)(lo - at - pg->valid));
		memcpy(pg->data + (lo - at), (const unsigned char *)data + (lo - off),
		       (size_t)(hi - lo));
		if (hi - at > pg->valid)
			pg->valid = (uint32_t)(hi - at);
		if (at + pg->valid > nd->end)
			nd->end = at + pg->valid;
		if (!pg->dirty) {
			pg->dirty = true;
			COUNT(dirty, 1);
		}
		if (pg->lost) { /* the whole page goes out again, what was lost with it */
			pg->lost = false;
			COUNT(lost, -1);
		}
		/* The kernel writes a dirty page out when it likes: sometimes before the sync. */
		if (writeback > 0 && (double)(rng_next(nd) >> 11) * 0x1p-53 < writeback) {
			rc = page_write_out(nd, pg, REAL(f));
			COUNT(written_out, 1);
		}
	}
	pthread_mutex_unlock(&nd->mu);
	return rc;
}

static int
pc_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct node *nd = ((struct pc_file *)f)->node;
	if (nd == NULL)
		return REAL(f)->pMethods->xTruncate(REAL(f), size);
	pthread_mutex_lock(&nd->mu);
	int rc = REAL(f)->pMethods->xTruncate(REAL(f), size);
	if (rc == SQLITE_OK && nd->n > 0)
		pages_drop(nd, size, false);
	pthread_mutex_unlock(&nd->mu);
	return rc;
}

static int
pc_sync(sqlite3_file *f, int flags)
{
	struct node *nd = ((struct pc_file *)f)->node;
	if (nd == NULL)
		return REAL(f)->pMethods->xSync(REAL(f), flags);
	if (sync_delay_us > 0)
		usleep(sync_delay_us); /* a slow disk: the data is still only in memory */
	pthread_mutex_lock(&nd->mu);
	int rc = SQLITE_OK;
	for (size_t i = 0; rc == SQLITE_OK && i < nd->cap; i++) {
		struct page *pg = nd->slots[i];
		if (pg != NULL && pg->dirty)
			rc = page_write_out(nd, pg, REAL(f));
	}
	struct pc_file *pf = (struct pc_file *)f;
	if (rc == SQLITE_OK && pf->errors_seen != nd->write_errors) {
		pf->errors_seen =
		    nd->write_errors; /* reported once to each handle, as Linux does */
		COUNT(failed_syncs, 1);
		rc = SQLITE_IOERR_FSYNC;
	} else if (rc == SQLITE_OK) {
		rc = REAL(f)->pMethods->xSync(REAL(f), flags);
	}
	if (rc == SQLITE_OK) {
		/* All on disk but the lost pages: only they need holding any more. */
		pages_drop(nd, 0, true);
		COUNT(syncs, 1);
	}
	pthread_mutex_unlock(&nd->mu);
	return rc;
}

static int
pc_file_size(sqlite3_file *f, sqlite3_int64 *out)
{
	struct node *nd = ((struct pc_file *)f)->node;
	if (nd == NULL)
		return REAL(f)->pMethods->xFileSize(REAL(f), out);
	int64_t size = 0;
	pthread_mutex_lock(&nd->mu);
	int rc = real_size(REAL(f), &size);
	if (nd->end > size)
		size = nd->end;
	pthread_mutex_unlock(&nd->mu);
	*out = size;
	return rc;
}

/* No memory mapping: a mapped page would show the file, not the pages held here. */
static int
pc_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	(void)f;
	(void)off;
	(void)amt;
	*pp = NULL;
	return SQLITE_OK;
}

static int
pc_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	(void)f;
	(void)off;
	(void)p;
	return SQLITE_OK;
}

/* The files' calls: vfspass_methods with those above (powercut_init fills it); xClose passes
 * through, and the node stays with its pages: still "in the page cache". */
static sqlite3_io_methods pc_methods;

/* --- the VFS -------------------------------------------------------------------- */

/* The node of `name`, made on first use when create; NULL when none (or out of memory). */
static struct node *
node_of(const char *name, bool create)
{
	pthread_mutex_lock(&nodes_mu);
	struct node *nd = nodes;
	while (nd != NULL && strcmp(nd->name, name) != 0)
		nd = nd->next;
	if (nd == NULL && create && (nd = calloc(1, sizeof *nd)) != NULL) {
		nd->name = strdup(name);
		if (nd->name == NULL) {
			free(nd);
			nd = NULL;
		} else {
			pthread_mutex_init(&nd->mu, NULL);
			nd->rng = seed ^ ((uint64_t)(uintptr_t)nd * 0x9e3779b97f4a7c15ull);
			if (nd->rng == 0)
				nd->rng = 1;
			nd->next = nodes;
			nodes = nd;
		}
	}
	pthread_mutex_unlock(&nodes_mu);
	return nd;
}

static int
vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags)
{
	struct pc_file *f = (struct pc_file *)file;
	memset(f, 0, sizeof *f);
	if (name != NULL && !(flags & SQLITE_OPEN_DELETEONCLOSE)) {
		f->node = node_of(name, true);
		if (f->node == NULL)
			return SQLITE_NOMEM;
		pthread_mutex_lock(&f->node->mu);
		f->errors_seen = f->node->write_errors; /* errors before the open are not its own */
		pthread_mutex_unlock(&f->node->mu);
	}
	int rc = vfspass_open_real(vfs, name, file, sizeof *f, flags, out_flags);
	if (rc == SQLITE_OK)
		f->pass.base.pMethods = &pc_methods;
	return rc;
}

static int
vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	sqlite3_vfs *below = vfs->pAppData;
	struct node *nd = node_of(name, false); /* a file never opened holds nothing */
	if (nd != NULL)
		pthread_mutex_lock(&nd->mu);
	int rc = below->xDelete(below, name, sync_dir);
	if (nd != NULL) {
		if (nd->n > 0)
			pages_drop(nd, 0, false);
		pthread_mutex_unlock(&nd->mu);
	}
	return rc;
}

static void
stats_map(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (ftruncate(fd, PAGE) == 0) {
		void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			stats = p;
			stats->pid = (uint64_t)getpid();
			__atomic_store_n(&stats->magic, STATS_MAGIC, __ATOMIC_RELEASE);
		}
	}
	close(fd);
}

__attribute__((constructor)) static void
powercut_init(void)
{
	const char *s;
	if ((s = getenv("ESTHUB_POWERCUT_WRITEBACK")) != NULL)
		writeback = strtod(s, NULL);
	if ((s = getenv("ESTHUB_POWERCUT_SYNC_DELAY_US")) != NULL)
		sync_delay_us = (useconds_t)strtoul(s, NULL, 10);
	if ((s = getenv("ESTHUB_POWERCUT_FAIL_WHILE")) != NULL && *s != '\0')
		fail_while = s;
	if ((s = getenv("ESTHUB_POWERCUT_SEED")) != NULL)
		seed = strtoull(s, NULL, 10);
	else
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if ((s = getenv("ESTHUB_POWERCUT_STATS")) != NULL && *s != '\0')
		stats_map(s);
	/* Over the unix VFS this was written against; a test must not run without it. */
	if (sqlite3_initialize() != SQLITE_OK ||
	    vfspass_vfs(&pc_vfs, sqlite3_vfs_find(NULL), "esthub-powercut",
	                sizeof(struct pc_file)) != 0)
		abort();
	pc_vfs.xOpen = vfs_open;
	pc_vfs.xDelete = vfs_delete;
	pc_methods = vfspass_methods;
	pc_methods.xRead = pc_read;
	pc_methods.xWrite = pc_write;
	pc_methods.xTruncate = pc_truncate;
	pc_methods.xSync = pc_sync;
	pc_methods.xFileSize = pc_file_size;
	pc_methods.xFetch = pc_fetch;
	pc_methods.xUnfetch = pc_unfetch;
	if (sqlite3_vfs_register(&pc_vfs, 1) != SQLITE_OK)
		abort();
}
