/* SPDX-License-Identifier: Apache-2.0 */
/*
 * watch: the drop directory. inotify marks the directory for a look; a
 * look (scan) lists the files not yet held, oldest first, and reads a few
 * of them per round into the outbox; answers count down each held file's
 * pending records; a file with none left moves to done/ or failed/.
 * See watch.h.
 */
#include "runtime/watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/outcome.h"
#include "runtime/sender.h"
#include "runtime/stop.h"
#include "wire/diag.h"
#include "wire/durable.h"
#include "wire/timefmt.h"

/* After an outbox failure or an unreadable directory, look again after this. */
#define RETRY_MS 5000
/* After a look that listed WATCH_SCAN_MAX files, the next one after this. */
#define MORE_MS 100
/* inotify reads per round: more events wait for the next round. */
#define EVENT_READS_PER_ROUND 16
/* Names tried in done/ or failed/ before giving up: NAME, NAME.1, ... */
#define MOVE_TRIES 100

/* One line of NAME.error. */
struct bad_line {
	int64_t record;
	char *text;
};

/* A file found in the directory, to be read. */
struct candidate {
	char *name;
	struct stat st;
};

/* A file read into the outbox, waiting for the outcomes of its records. */
struct held {
	char *name;
	struct stat st;            /* as read: a file replaced meanwhile is read again */
	int64_t first_id, last_id; /* its outbox rows */
	size_t records, pending;
	size_t bad;              /* records rejected or not translated */
	struct bad_line *errors; /* their lines for NAME.error, as the answers came */
	size_t n_errors;
	size_t errors_bytes; /* at most WATCH_ERROR_MAX_BYTES */
	size_t errors_extra; /* bad records without a line */
};

struct watch {
	char *dir;
	int fd;
	int wd;
	int lock_fd; /* the directory, flock'd while we watch it (lock_dir) */
	struct intake *in;
	struct outbox *ob;
	outbox_row_fn tell;
	void *arg;
	struct held **held; /* by first_id, ascending (ids only grow) */
	size_t n_held;
	struct held *reading;    /* the file intake is reading: rows told at once */
	bool scan;               /* look at the directory (again) */
	struct candidate *queue; /* the files of the last look, oldest first */
	size_t q_n, q_next;      /* how many, and the next one to read */
	bool q_more;             /* the last look saw more than it could list */
	bool finished;           /* a held file may have no record pending */
	int64_t retry_at_ms;     /* look again then (0: not planned) */
	size_t full_pending;     /* the outbox's pending count when it was full; 0: not full */
	bool said_full, said_held, said_dir;
};

/* ---- held files ---- */

static void
held_free(struct held *h)
{
	if (h == NULL)
		return;
	free(h->name);
	for (size_t i = 0; i < h->n_errors; i++)
		free(h->errors[i].text);
	free(h->errors);
	free(h);
}

/* The held file with row id among its rows, or NULL. */
static struct held *
held_find(const struct watch *w, int64_t id)
{
	size_t lo = 0, hi = w->n_held;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct held *h = w->held[mid];
		if (id < h->first_id)
			hi = mid;
		else if (id > h->last_id)
			lo = mid + 1;
		else
			return w->held[mid];
	}
	return NULL;
}

static bool
held_named(const struct watch *w, const char *name)
{
	for (size_t i = 0; i < w->n_held; i++)
		if (strcmp(w->held[i]->name, name) == 0)
			return true;
	return false;
}

/* Keeps the line of a bad record for NAME.error (up to the cap). */
static void
held_note(struct held *h, const struct outbox_row *row)
{
	if (row->status != OUTBOX_REJECTED)
		return;
	h->bad++;
	struct outbox_row named = *row;
	named.file = h->name;
	char *line = outcome_format(&named);
	struct bad_line *v = NULL;
	if (line && h->errors_bytes + strlen(line) + 1 <= WATCH_ERROR_MAX_BYTES)
		v = realloc(h->errors, (h->n_errors + 1) * sizeof *v);
	if (v == NULL) {
		h->errors_extra++;
		free(line);
		return;
	}
	h->errors = v;
	h->errors[h->n_errors++] = (struct bad_line){.record = row->record, .text = line};
	h->errors_bytes += strlen(line) + 1;
}

static int
bad_line_cmp(const void *a, const void *b)
{
	const struct bad_line *x = a, *y = b;
	return x->record < y->record ? -1 : x->record > y->record;
}

/* The text of NAME.error: a head line, then the bad records in file order. Caller frees. */
static char *
held_error_text(struct held *h, size_t *len)
{
	char head[512], tail[128] = "";
	snprintf(head, sizeof head, "%s: %zu of %zu records not delivered\n", h->name, h->bad,
	         h->records);
	if (h->errors_extra > 0)
		snprintf(tail, sizeof tail, "... and %zu more\n", h->errors_extra);
	qsort(h->errors, h->n_errors, sizeof h->errors[0], bad_line_cmp);
	size_t cap = strlen(head) + h->errors_bytes + strlen(tail) + 1;
	char *text = malloc(cap);
	if (text == NULL)
		return NULL;
	size_t used = (size_t)snprintf(text, cap, "%s", head);
	for (size_t i = 0; i < h->n_errors; i++)
		used += (size_t)snprintf(text + used, cap - used, "%s\n", h->errors[i].text);
	used += (size_t)snprintf(text + used, cap - used, "%s", tail);
	*len = used;
	return text;
}

/* ---- moving files out of the directory ---- */

/* "dir/name" into buf; -1 when it does not fit. */
static int
path_join(char *buf, size_t len, const char *dir, const char *sub, const char *name)
{
	int n = sub ? snprintf(buf, len, "%s/%s/%s", dir, sub, name)
	            : snprintf(buf, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * Syncs dir/sub (the file's new name) or the drop directory itself (sub
 * NULL: the name it left). A failure is said, not returned: the move is
 * done, and what a power cut could bring back is a file already read,
 * whose records the outbox or the hub then answer as sent before.
 */
static void
sync_dir(const struct watch *w, const char *sub)
{
	char joined[PATH_MAX];
	const char *path = w->dir;
	if (sub != NULL) {
		if (path_join(joined, sizeof joined, w->dir, NULL, sub) != 0)
			return; /* dir/sub/NAME was joined before: cannot happen */
		path = joined;
	}
	if (durable_dir(path) != 0)
		diag_say("%s: cannot sync the directory: %s; after a power cut a file may be read "
		         "again (its records are answered as sent before)",
		         path, strerror(errno));
}

/*
 * Writes text to dir/failed/to.error: synced under its name, failed/
 * synced after (durable_replace), so that it is there before the file it
 * names. An .error found there without its file is written over: names in
 * failed/ are never replaced, so it is one whose move a crash cut short.
 */
static void
error_file_write(const struct watch *w, const char *to, const char *text, size_t len)
{
	char name[NAME_MAX + 16], path[PATH_MAX], err[PATH_MAX + 128];
	int n = snprintf(name, sizeof name, "%s.error", to);
	if (n < 0 || (size_t)n >= sizeof name ||
	    path_join(path, sizeof path, w->dir, "failed", name) != 0) {
		diag_say("%s/failed/%s.error: cannot write it: name too long", w->dir, to);
		return;
	}
	if (durable_replace(path, text, len, err, sizeof err) != 0)
		diag_say("%s; the file goes to failed/ without it (each record's outcome was "
		         "printed on standard output)",
		         err);
}

/*
 * Moves dir/name into dir/sub/ under name, or name.N when that is taken
 * (never replacing anything); the name it got goes into to. With error
 * text (failed/), sub/TO.error is written first. The move survives a
 * power cut: sub/ is synced with the new name before the old one goes,
 * then dir; a cut leaves the file in dir, to be read again, or in sub/
 * with its reasons. 0, or -1 with errno set.
 */
static int
move_into(const struct watch *w, const char *name, const char *sub, const char *error,
          size_t error_len, char *to, size_t tolen)
{
	char from[PATH_MAX], target[PATH_MAX];
	if (path_join(from, sizeof from, w->dir, NULL, name) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (int i = 0; i < MOVE_TRIES; i++) {
		int n = i == 0 ? snprintf(to, tolen, "%s", name)
		               : snprintf(to, tolen, "%s.%d", name, i);
		if (n < 0 || (size_t)n >= tolen ||
		    path_join(target, sizeof target, w->dir, sub, to)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		struct stat st;
		if (lstat(target, &st) == 0)
			continue;
		if (error != NULL)
			error_file_write(w, to, error, error_len);
		/* link() fails on an existing name where rename() would replace it. */
		if (link(from, target) == 0) {
			sync_dir(w, sub);
			if (unlink(from) != 0)
				return -1;
			sync_dir(w, NULL);
			return 0;
		}
		if (errno == EEXIST)
			continue;
		if (errno != EPERM && errno != ENOTSUP && errno != EMLINK)
			return -1;
		/* A file system without hard links: looked at above, then renamed. */
		if (rename(from, target) != 0)
			return -1;
		sync_dir(w, sub);
		sync_dir(w, NULL);
		return 0;
	}
	errno = EEXIST;
	return -1;
}

/* Moves name to failed/ with its NAME.error holding text. */
static void
move_failed(struct watch *w, const char *name, const char *text, size_t len)
{
	char to[NAME_MAX + 1];
	if (move_into(w, name, "failed", text, len, to, sizeof to) != 0)
		diag_say("%s/%s: cannot move it to failed/: %s", w->dir, name, strerror(errno));
}

/* The file was refused whole: to failed/ with the reason. */
static void
refuse_whole(struct watch *w, const char *name, const char *why)
{
	char text[1024];
	int n = snprintf(text, sizeof text, "%s: refused whole, nothing of it was queued: %s\n",
	                 name, why);
	diag_say("%s/%s: refused whole: %s; moved to failed/", w->dir, name, why);
	move_failed(w, name, text,
	            n < 0                     ? 0
	            : (size_t)n < sizeof text ? (size_t)n
	                                      : sizeof text - 1);
}

/* Whether dir/name is still the file that was read (not replaced meanwhile). */
static bool
held_unchanged(const struct watch *w, const struct held *h)
{
	struct stat st;
	char path[PATH_MAX];
	if (path_join(path, sizeof path, w->dir, NULL, h->name) != 0 || lstat(path, &st) != 0)
		return false;
	return st.st_dev == h->st.st_dev && st.st_ino == h->st.st_ino &&
	       st.st_size == h->st.st_size && st.st_mtim.tv_sec == h->st.st_mtim.tv_sec &&
	       st.st_mtim.tv_nsec == h->st.st_mtim.tv_nsec;
}

/* Every record of h has its outcome: done/ or failed/. */
static void
held_finish(struct watch *w, struct held *h)
{
	if (!held_unchanged(w, h)) {
		/* Replaced or removed since it was read: whatever is there now is new. */
		diag_say("%s/%s changed while its records were sent; reading it again", w->dir,
		         h->name);
		w->scan = true;
		return;
	}
	if (h->bad == 0) {
		char to[NAME_MAX + 1];
		if (move_into(w, h->name, "done", NULL, 0, to, sizeof to) != 0)
			diag_say("%s/%s: cannot move it to done/: %s", w->dir, h->name,
			         strerror(errno));
		else
			diag_debug("%s/%s: %zu records, moved to done/%s", w->dir, h->name,
			           h->records, to);
		return;
	}
	size_t len = 0;
	char *text = held_error_text(h, &len);
	diag_say("%s/%s: %zu of %zu records not delivered; moved to failed/", w->dir, h->name,
	         h->bad, h->records);
	if (text == NULL)
		move_failed(w, h->name, "(no memory for the reasons)\n",
		            strlen("(no memory for the reasons)\n"));
	else
		move_failed(w, h->name, text, len);
	free(text);
}

/* Finishes and forgets every held file with nothing pending. */
static void
watch_finish(struct watch *w)
{
	size_t kept = 0;
	for (size_t i = 0; i < w->n_held; i++) {
		struct held *h = w->held[i];
		if (h->pending > 0) {
			w->held[kept++] = h;
			continue;
		}
		held_finish(w, h);
		held_free(h);
		if (w->said_held)
			w->scan = true; /* room for the files that waited */
		w->said_held = false;
	}
	w->n_held = kept;
	w->finished = false;
}

/* ---- reading files ---- */

/* intake's callback for rows done at once: noted against the file being read, then told. */
static void
watch_told(void *arg, const struct outbox_row *row)
{
	struct watch *w = arg;
	if (w->reading)
		held_note(w->reading, row);
	if (w->tell)
		w->tell(w->arg, row);
}

static int
held_keep(struct watch *w, struct held *h)
{
	struct held **v = realloc(w->held, (w->n_held + 1) * sizeof *v);
	if (v == NULL)
		return -1;
	w->held = v;
	w->held[w->n_held++] = h;
	return 0;
}

/* The outbox could not take the file now: it waits in the directory. */
static void
read_full(struct watch *w, const char *name, const char *why)
{
	size_t pending = outbox_pending(w->ob);
	if (!w->said_full)
		diag_say("%s/%s waits in %s: %s; it is read once the hub has taken some", w->dir,
		         name, w->dir, why);
	w->said_full = true;
	w->full_pending = pending > 0 ? pending : 1;
}

/* A file that was read: held until its records have outcomes, or finished now. */
static int
read_done(struct watch *w, struct held *h, const struct intake_span *span)
{
	h->first_id = span->first_id;
	h->last_id = span->last_id;
	h->records = span->first_id ? (size_t)(span->last_id - span->first_id + 1) : 0;
	h->pending = h->records - (span->done < h->records ? span->done : h->records);
	w->said_full = false;
	w->full_pending = 0;
	diag_debug("%s/%s: %zu records queued, %zu waiting for the hub", w->dir, h->name,
	           h->records, h->pending);
	if (h->pending == 0) {
		held_finish(w, h);
		held_free(h);
		return 0;
	}
	if (held_keep(w, h) != 0) {
		/* Queued, but not followed here: left in the directory, to be read again later. */
		held_free(h);
		w->retry_at_ms = timefmt_mono_ms() + RETRY_MS;
	}
	return 1;
}

/*
 * Reads one file into the outbox. Returns 1 when rows were added, 0 when
 * not, -1 when no more files should be read in this round.
 */
static int
read_file(struct watch *w, const char *name, const struct stat *st)
{
	char path[PATH_MAX], err[1024];
	struct intake_span span;
	struct held *h = calloc(1, sizeof *h);
	if (h == NULL || (h->name = strdup(name)) == NULL ||
	    path_join(path, sizeof path, w->dir, NULL, name) != 0) {
		held_free(h);
		return -1;
	}
	h->st = *st;
	w->reading = h;
	struct intake_hear hear = {.done = watch_told, .arg = w};
	int rc = intake_path(w->in, w->ob, path, &hear, &span, err, sizeof err);
	w->reading = NULL;
	if (rc == INTAKE_OK)
		return read_done(w, h, &span);
	held_free(h);
	switch (rc) {
	case INTAKE_FULL:
		if (outbox_pending(w->ob) == 0) {
			refuse_whole(w, name, err); /* more than the outbox may ever hold */
			return 0;
		}
		read_full(w, name, err);
		return -1;
	case INTAKE_OPEN:
	case INTAKE_INVALID:
		refuse_whole(w, name, err);
		return 0;
	case INTAKE_STOPPED:
		return -1;
	default:
		diag_say("%s/%s waits: %s; trying again in %d s", w->dir, name, err,
		         RETRY_MS / 1000);
		w->retry_at_ms = timefmt_mono_ms() + RETRY_MS;
		return -1;
	}
}

/* ---- looking at the directory ---- */

static int
candidate_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	if (x->st.st_mtim.tv_sec != y->st.st_mtim.tv_sec)
		return x->st.st_mtim.tv_sec < y->st.st_mtim.tv_sec ? -1 : 1;
	if (x->st.st_mtim.tv_nsec != y->st.st_mtim.tv_nsec)
		return x->st.st_mtim.tv_nsec < y->st.st_mtim.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Whether a name is one the partner is still writing (or not one to read at all). */
static bool
name_ignored(const char *name)
{
	size_t len = strlen(name);
	return name[0] == '.' || (len >= 4 && strcmp(name + len - 4, ".tmp") == 0);
}

/*
 * Lists up to WATCH_SCAN_MAX regular files of the directory that are not
 * held, into v. Returns how many, or -1 when the directory cannot be read;
 * *more is set when there were more.
 */
static long
scan_list(struct watch *w, struct candidate *v, bool *more)
{
	DIR *d = opendir(w->dir);
	if (d == NULL)
		return -1;
	long n = 0;
	struct dirent *de;
	*more = false;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (name_ignored(de->d_name) || held_named(w, de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == WATCH_SCAN_MAX) {
			*more = true;
			break;
		}
		v[n].name = strdup(de->d_name);
		if (v[n].name == NULL) {
			*more = true;
			break;
		}
		v[n++].st = st;
	}
	closedir(d);
	return n;
}

static void
queue_clear(struct watch *w)
{
	for (size_t i = 0; i < w->q_n; i++)
		free(w->queue[i].name);
	w->q_n = w->q_next = 0;
}

/* Looks at the directory: the files to read, oldest first. */
static void
queue_fill(struct watch *w)
{
	queue_clear(w);
	w->scan = false;
	long n = scan_list(w, w->queue, &w->q_more);
	if (n < 0) {
		if (!w->said_dir)
			diag_say("cannot read %s: %s; trying again every %d s", w->dir,
			         strerror(errno), RETRY_MS / 1000);
		w->said_dir = true;
		w->retry_at_ms = timefmt_mono_ms() + RETRY_MS;
		return;
	}
	w->said_dir = false;
	w->q_n = (size_t)n;
	qsort(w->queue, w->q_n, sizeof w->queue[0], candidate_cmp);
}

/* Whether c is still in the directory as it was listed. */
static bool
queue_current(const struct watch *w, const struct candidate *c)
{
	char path[PATH_MAX];
	struct stat st;
	return path_join(path, sizeof path, w->dir, NULL, c->name) == 0 && lstat(path, &st) == 0 &&
	       st.st_ino == c->st.st_ino && st.st_dev == c->st.st_dev && !held_named(w, c->name);
}

/*
 * Reads a few files of the queue. Returns whether rows were added. When a
 * file cannot be read now (the outbox is full or failed, too many files are
 * held), the queue is dropped: what plans the next look says when.
 */
static bool
queue_read(struct watch *w)
{
	bool added = false;
	for (int i = 0; i < WATCH_FILES_PER_ROUND && w->q_next < w->q_n && !stop_requested(); i++) {
		struct candidate *c = &w->queue[w->q_next];
		if (w->n_held >= WATCH_MAX_HELD) {
			if (!w->said_held)
				diag_say(
				    "%zu files wait for the hub's answers; %s/%s and later files "
				    "wait in %s",
				    w->n_held, w->dir, c->name, w->dir);
			w->said_held = true;
			queue_clear(w);
			return added;
		}
		int rc = queue_current(w, c) ? read_file(w, c->name, &c->st) : 0;
		if (rc < 0) {
			queue_clear(w);
			return added;
		}
		added = added || rc > 0;
		w->q_next++;
	}
	/* More files than one look lists: the next look soon, but never in a tight loop. */
	if (w->q_next == w->q_n && w->q_more && w->retry_at_ms == 0)
		w->retry_at_ms = timefmt_mono_ms() + MORE_MS;
	return added;
}

/* Takes the pending inotify events: any file arriving means a look. */
static void
watch_events(struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (int r = 0; r < EVENT_READS_PER_ROUND; r++) {
		ssize_t len = read(w->fd, buf, sizeof buf);
		if (len <= 0)
			return;
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			if (ev->mask & IN_Q_OVERFLOW)
				w->scan = true;
			else if (ev->mask & IN_IGNORED)
				diag_say("%s is no longer watched (removed or moved?)", w->dir);
			else if (ev->len > 0 && !name_ignored(ev->name))
				w->scan = true;
			p += sizeof *ev + ev->len;
		}
	}
}

int
watch_run(void *arg, bool readable, long *wait_ms)
{
	struct watch *w = arg;
	int64_t now = timefmt_mono_ms();
	bool added = false;
	if (readable)
		watch_events(w);
	if (w->finished)
		watch_finish(w);
	if (w->full_pending > 0) {
		/* Full: only room in the outbox is worth another look. */
		w->scan = outbox_pending(w->ob) < w->full_pending;
		if (w->scan)
			w->full_pending = 0;
	}
	if (w->retry_at_ms != 0 && now >= w->retry_at_ms) {
		w->retry_at_ms = 0;
		w->scan = true;
	}
	if (!stop_requested()) {
		if (w->q_next == w->q_n && w->scan)
			queue_fill(w);
		added = queue_read(w);
	}
	*wait_ms = -1;
	if (w->scan || w->q_next < w->q_n)
		*wait_ms = 0;
	else if (w->retry_at_ms != 0)
		*wait_ms = w->retry_at_ms > now ? (long)(w->retry_at_ms - now) : 0;
	return added ? SENDER_HOOK_ADDED : 0;
}

void
watch_row(struct watch *w, const struct outbox_row *row)
{
	struct held *h = held_find(w, row->id);
	if (h == NULL || h->pending == 0)
		return;
	held_note(h, row);
	if (--h->pending == 0)
		w->finished = true;
}

/* ---- life ---- */

/* Makes dir/sub unless it is there. */
static int
make_sub(const char *dir, const char *sub, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	if (path_join(path, sizeof path, dir, NULL, sub) != 0) {
		snprintf(err, errlen, "%s/%s: name too long", dir, sub);
		return -1;
	}
	if (mkdir(path, 0750) == 0 ||
	    (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	snprintf(err, errlen, "cannot make %s: %s", path,
	         errno == EEXIST ? "it is there and not a directory" : strerror(errno));
	return -1;
}

/*
 * One est-adapter a drop directory: a second one (with an outbox of its
 * own: two on one outbox are refused there) would read every file too and
 * race the first for its move, and one of them would leave a NAME.error in
 * failed/ for a name it never got. The directory itself is locked
 * (flock) while the adapter runs; the lock goes with the process, however
 * it ends. A file system that cannot lock goes without, said once. The
 * directory's descriptor, or -1 with the reason in err.
 */
static int
lock_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--watch %s: %s", dir, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno == EWOULDBLOCK) {
		snprintf(
		    err, errlen,
		    "--watch %s: another est-adapter watches this directory already (each file "
		    "would be read by both); stop that one, or give this one a directory of "
		    "its own",
		    dir);
		close(fd);
		return -1;
	}
	diag_say("--watch %s: cannot lock it (%s), so a second est-adapter watching it would "
	         "not be refused",
	         dir, strerror(errno));
	return fd;
}

struct watch *
watch_new(const char *dir, struct intake *in, struct outbox *ob, outbox_row_fn tell, void *arg,
          char *err, size_t errlen)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "--watch %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--watch %s: not a directory", dir);
		return NULL;
	}
	int lock_fd = lock_dir(dir, err, errlen);
	if (lock_fd < 0)
		return NULL;
	if (make_sub(dir, "done", err, errlen) || make_sub(dir, "failed", err, errlen)) {
		close(lock_fd);
		return NULL;
	}
	struct watch *w = calloc(1, sizeof *w);
	if (w == NULL || (w->dir = strdup(dir)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(w);
		close(lock_fd);
		return NULL;
	}
	/* Without a trailing slash, names read dir/name. */
	for (size_t len = strlen(w->dir); len > 1 && w->dir[len - 1] == '/'; len--)
		w->dir[len - 1] = '\0';
	*w = (struct watch){.dir = w->dir,
	                    .fd = -1,
	                    .lock_fd = lock_fd,
	                    .in = in,
	                    .ob = ob,
	                    .tell = tell,
	                    .arg = arg,
	                    .scan = true};
	w->queue = calloc(WATCH_SCAN_MAX, sizeof *w->queue);
	w->fd = w->queue ? inotify_init1(IN_NONBLOCK | IN_CLOEXEC) : -1;
	if (w->fd >= 0)
		w->wd = inotify_add_watch(w->fd, w->dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR);
	if (w->fd < 0 || w->wd < 0) {
		snprintf(err, errlen, "cannot watch %s: %s", dir, strerror(errno));
		watch_destroy(&w);
		return NULL;
	}
	return w;
}

void
watch_destroy(struct watch **w)
{
	if (w == NULL || *w == NULL)
		return;
	if ((*w)->fd >= 0)
		close((*w)->fd);
	if ((*w)->lock_fd >= 0)
		close((*w)->lock_fd);
	for (size_t i = 0; i < (*w)->n_held; i++)
		held_free((*w)->held[i]);
	queue_clear(*w);
	free((*w)->queue);
	free((*w)->held);
	free((*w)->dir);
	free(*w);
	*w = NULL;
}

int
watch_fd(const struct watch *w)
{
	return w->fd;
}
