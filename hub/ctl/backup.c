/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup FILE: a copy of the store, one consistent snapshot taken beside a
 * running hub (log_backup), checked as verify checks the store before it
 * takes FILE's name, so a failed or damaged copy never replaces a good
 * older one; --into DIR names it by the time, --keep N removes the older
 * ones but N. restore FILE: with the hub stopped (its lock held meanwhile),
 * a backup that verifies becomes the store; the store it replaces is kept
 * beside it, with its WAL, under a new name.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "instance.h"
#include "log.h"
#include "retention.h"
#include "space.h"
#include "wire/diag.h"
#include "wire/durable.h"

/*
 * Whether file names the store or one of the files SQLite keeps beside it
 * (file need not exist; its directory must). Replacing them would destroy
 * the store the copy is taken from.
 */
static bool
is_the_store(const char *file, const char *store)
{
	char dir[PATH_MAX], real_dir[PATH_MAX], real_store[PATH_MAX], target[PATH_MAX + 256];
	const char *slash = strrchr(file, '/');
	if (durable_dir_part(file, dir, sizeof dir) != 0 || realpath(dir, real_dir) == NULL ||
	    realpath(store, real_store) == NULL)
		return false;
	snprintf(target, sizeof target, "%s/%s", strcmp(real_dir, "/") == 0 ? "" : real_dir,
	         slash ? slash + 1 : file);
	static const char *const beside[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof beside / sizeof beside[0]; i++) {
		char name[PATH_MAX + 16];
		snprintf(name, sizeof name, "%s%s", real_store, beside[i]);
		if (strcmp(target, name) == 0)
			return true;
	}
	return false;
}

/* restore's one FILE argument; NULL (said) when missing or more. */
static const char *
file_argument(int argc, char **argv, const char *command)
{
	if (argc < 2 || argv[1][0] == '\0') {
		diag_say("%s: FILE missing", command);
		return NULL;
	}
	if (argv[1][0] == '-' && argv[1][1] != '\0') {
		diag_say("%s: unknown option %s", command, argv[1]);
		return NULL;
	}
	if (ctl_no_more_args(argc, argv, 2))
		return NULL;
	return argv[1];
}

static void
file_size_text(const char *path, char *out, size_t outlen)
{
	struct stat st;
	space_text(stat(path, &st) == 0 ? (uint64_t)st.st_size : 0, out, outlen);
}

/*
 * Opens a copy of a store (a backup, or one being made) read-only and
 * checks it as verify checks the store (ctl_store_check). The exit code;
 * on EXIT_OK *lg is open (the caller closes it).
 */
static int
open_checked(const char *dir, const char *path, struct log **lg)
{
	char err[512];
	if (log_open(lg, path, LOG_READONLY, err, sizeof err) != 0) {
		printf("%s\n", err); /* err names the file: not an esthub store, damaged */
		return EXIT_INPUT;
	}
	int rc = ctl_store_check(dir, *lg, path);
	if (rc != EXIT_OK)
		log_close(lg);
	return rc;
}

/*
 * The copy being made, removed when a signal stops estctl (SIGINT, SIGTERM,
 * SIGHUP) before it is whole: a stopped backup leaves nothing behind.
 */
static char partial_path[PATH_MAX + 64];
static volatile sig_atomic_t partial_live;

static void
partial_on_signal(int sig)
{
	if (partial_live)
		(void)unlink(partial_path); /* async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Watches for the signals that would leave the copy half made (on), or stops watching. */
static void
partial_watch(bool on)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = on ? partial_on_signal : SIG_DFL};
	sigemptyset(&sa.sa_mask);
	partial_live = on;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

/* --into's names: esthub-YYYYMMDDTHHMMSS.db, local time; in name order from the oldest. */
#define BACKUP_PREFIX   "esthub-"
#define BACKUP_SUFFIX   ".db"
#define BACKUP_NAME_LEN (sizeof BACKUP_PREFIX - 1 + 15 + sizeof BACKUP_SUFFIX - 1)

static bool
is_backup_name(const char *name)
{
	const char *t = name + sizeof BACKUP_PREFIX - 1;
	if (strlen(name) != BACKUP_NAME_LEN ||
	    strncmp(name, BACKUP_PREFIX, sizeof BACKUP_PREFIX - 1) != 0 ||
	    strcmp(t + 15, BACKUP_SUFFIX) != 0 || t[8] != 'T')
		return false;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (t[i] < '0' || t[i] > '9'))
			return false;
	return true;
}

/*
 * The pid of a half-made copy's name, BASE.partial-PID (0 when name is not one), with BASE
 * copied into base.
 */
static long
partial_pid(const char *name, char *base, size_t baselen)
{
	const char *tag = NULL;
	for (const char *p = strstr(name, ".partial-"); p != NULL; p = strstr(p + 1, ".partial-"))
		tag = p; /* the last one: FILE's own name may hold the word */
	if (tag == NULL || tag == name || (size_t)(tag - name) >= baselen || tag[9] < '0' ||
	    tag[9] > '9')
		return 0;
	char *end;
	errno = 0;
	long pid = strtol(tag + 9, &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 0)
		return 0;
	snprintf(base, baselen, "%.*s", (int)(tag - name), name);
	return pid;
}

/*
 * Removes the half-made copies in the directory of file that a backup left when it was
 * stopped where no handler runs (SIGKILL, a power cut): FILE.partial-PID, or with into_dir
 * any --into backup's, whose PID is not running. One that is running is another backup at
 * work, and stays. Said on stdout; a failure is said and does not stop the backup.
 */
static void
remove_stale_partials(const char *file, bool into_dir)
{
	char dirpath[PATH_MAX];
	const char *slash = strrchr(file, '/');
	const char *own = slash ? slash + 1 : file;
	DIR *d = durable_dir_part(file, dirpath, sizeof dirpath) == 0 ? opendir(dirpath) : NULL;
	if (d == NULL)
		return;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		char base[NAME_MAX + 1];
		long pid = partial_pid(e->d_name, base, sizeof base);
		if (pid == 0 || (into_dir ? !is_backup_name(base) : strcmp(base, own) != 0))
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* running (or not ours to ask): perhaps another backup at work */
		char path[PATH_MAX + NAME_MAX + 2];
		snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
		if (unlink(path) == 0)
			printf("backup: removed %s, a copy left half-made by a backup that was "
			       "stopped "
			       "(process %ld)\n",
			       path, pid);
		else
			diag_say("backup: cannot remove %s, left half-made by a stopped backup: %s",
			         path, strerror(errno));
	}
	closedir(d);
}

/* Copies DIR's store to file, checked before it takes the name. The exit code (said). */
static int
backup_to(const char *dir, const char *file, bool into_dir)
{
	char store[4096], err[1024];
	char *partial = partial_path;
	if (ctl_path(store, sizeof store, dir, INSTANCE_STORE))
		return EXIT_ENV;
	if (access(store, F_OK) != 0) {
		diag_say("%s: no store: %s", store, strerror(errno));
		return EXIT_ENV;
	}
	if (is_the_store(file, store)) {
		diag_say("%s: is the store itself (or a file of it); back up to another file",
		         file);
		return EXIT_INPUT;
	}
	if (snprintf(partial, sizeof partial_path, "%s.partial-%ld", file, (long)getpid()) >=
	    (int)sizeof partial_path) {
		diag_say("%s: path too long", file);
		return EXIT_INPUT;
	}
	remove_stale_partials(file, into_dir);
	struct log *lg = NULL;
	if (log_open(&lg, store, LOG_READONLY, err, sizeof err) != 0) {
		diag_say("cannot open the store: %s", err);
		return EXIT_ENV;
	}
	partial_watch(true);
	int rc = log_backup(lg, partial, err, sizeof err);
	log_close(&lg);
	if (rc != 0) {
		partial_watch(false);
		diag_say("backup: %s", err);
		return EXIT_ENV;
	}
	rc = open_checked(dir, partial, &lg);
	uint64_t head = rc == EXIT_OK ? log_head_seq(lg) : 0;
	log_close(&lg);
	if (rc != EXIT_OK) {
		unlink(partial);
		partial_watch(false);
		diag_say("backup: the copy does not verify (does the store? estctl verify says); "
		         "%s was not written",
		         file);
		return rc;
	}
	int renamed = rename(partial, file);
	int why = errno;
	if (renamed != 0)
		unlink(partial);
	partial_watch(false);
	if (renamed != 0) {
		diag_say("backup: cannot name the copy %s: %s", file, strerror(why));
		return EXIT_ENV;
	}
	if (durable_dir_of(file) != 0) {
		diag_say("backup: %s: cannot sync its directory: %s", file, strerror(errno));
		return EXIT_ENV;
	}
	char size[32];
	file_size_text(file, size, sizeof size);
	printf("backup: %s (%s), the store through seq %llu; estctl restore %s puts it back\n",
	       file, size, (unsigned long long)head, file);
	return EXIT_OK;
}

/* A new name in into for now (waiting out the second when one of this second exists). */
static int
backup_name(const char *into, char *out, size_t outlen)
{
	for (int tries = 0; tries < 3; tries++) {
		char when[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(when, sizeof when, "%Y%m%dT%H%M%S", localtime_r(&now, &tm));
		if (snprintf(out, outlen, "%s/" BACKUP_PREFIX "%s" BACKUP_SUFFIX, into, when) >=
		    (int)outlen) {
			diag_say("%s: path too long", into);
			return -1;
		}
		if (access(out, F_OK) != 0)
			return 0;
		sleep(1);
	}
	diag_say("%s: exists already", out);
	return -1;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes all but the newest keep backups in into, never made (just written). */
static int
prune(const char *into, const char *made, long keep)
{
	DIR *d = opendir(into);
	if (d == NULL) {
		diag_say("%s: cannot list it: %s", into, strerror(errno));
		return EXIT_ENV;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = EXIT_OK;
	const char *made_name = strrchr(made, '/') + 1;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (!is_backup_name(e->d_name) || strcmp(e->d_name, made_name) == 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **p = realloc(names, cap * sizeof *p);
			if (p == NULL) {
				rc = EXIT_ENV;
				break;
			}
			names = p;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			rc = EXIT_ENV;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc != EXIT_OK)
		diag_say("backup: out of memory listing %s", into);
	if (n > 1)
		qsort(names, n, sizeof *names, name_cmp);
	/* The one just written counts as one of keep, whatever the clock did. */
	size_t others = (size_t)keep - 1;
	for (size_t i = 0; rc == EXIT_OK && n > others && i < n - others; i++) {
		char path[PATH_MAX + 64];
		snprintf(path, sizeof path, "%s/%s", into, names[i]);
		if (unlink(path) != 0) {
			diag_say("backup: cannot remove the older backup %s: %s", path,
			         strerror(errno));
			rc = EXIT_ENV;
		} else {
			printf("backup: removed the older backup %s (--keep %ld)\n", path, keep);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
ctl_backup(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"into", required_argument, NULL, 'i'},
	    {"keep", required_argument, NULL, 'k'},
	    {NULL, 0, NULL, 0},
	};
	const char *into = NULL;
	long keep = 0;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'i') {
			into = optarg;
		} else if (c == 'k') {
			char *end;
			errno = 0;
			keep = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || keep < 1 ||
			    keep > 10000) {
				diag_say("--keep: \"%s\" is not a number of backups (1 to 10000)",
				         optarg);
				return EXIT_INPUT;
			}
		} else {
			ctl_bad_option(c, argv);
			return EXIT_INPUT;
		}
	}
	if (into == NULL) {
		if (keep > 0) {
			diag_say("backup: --keep goes with --into DIR");
			return EXIT_INPUT;
		}
		if (optind >= argc) {
			diag_say("backup: FILE missing (or --into DIR)");
			return EXIT_INPUT;
		}
		if (ctl_no_more_args(argc, argv, optind + 1))
			return EXIT_INPUT;
		return backup_to(dir, argv[optind], false);
	}
	if (ctl_no_more_args(argc, argv, optind))
		return EXIT_INPUT;
	if (mkdir(into, 0700) != 0 && errno != EEXIST) {
		diag_say("%s: cannot make it: %s", into, strerror(errno));
		return EXIT_ENV;
	}
	char file[PATH_MAX];
	if (backup_name(into, file, sizeof file) != 0)
		return EXIT_ENV;
	int rc = backup_to(dir, file, true);
	if (rc == EXIT_OK && keep > 0)
		rc = prune(into, file, keep);
	return rc;
}

/* Moves the store at store, with its WAL, to store.replaced-TIME; *kept gets the new name. */
static int
keep_replaced(const char *store, char *kept, size_t keptlen, char *err, size_t errlen)
{
	char when[32], wal[4200], kept_wal[4300], shm[4200];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof when, "%Y%m%dT%H%M%S", localtime_r(&now, &tm));
	snprintf(kept, keptlen, "%s.replaced-%s", store, when);
	snprintf(wal, sizeof wal, "%s-wal", store);
	snprintf(kept_wal, sizeof kept_wal, "%s-wal", kept);
	snprintf(shm, sizeof shm, "%s-shm", store);
	if (access(kept, F_OK) == 0) {
		snprintf(err, errlen, "%s: exists already; try again in a second", kept);
		return -1;
	}
	/* The WAL goes first: a store without its WAL would lose what the WAL holds. */
	if (access(wal, F_OK) == 0 && rename(wal, kept_wal) != 0) {
		snprintf(err, errlen, "%s: cannot move it aside: %s", wal, strerror(errno));
		return -1;
	}
	if (rename(store, kept) != 0) {
		snprintf(err, errlen, "%s: cannot move it aside: %s", store, strerror(errno));
		(void)rename(kept_wal, wal);
		return -1;
	}
	(void)unlink(shm); /* an index of the WAL, made again by whoever opens the store next */
	return 0;
}

int
ctl_restore(const char *dir, int argc, char **argv)
{
	const char *file = file_argument(argc, argv, "restore");
	if (file == NULL)
		return EXIT_INPUT;
	char store[4096], incoming[4200], kept[4400], mark[4096], err[8800];
	if (ctl_path(store, sizeof store, dir, INSTANCE_STORE) ||
	    ctl_path(mark, sizeof mark, dir, RETENTION_MARK))
		return EXIT_ENV;
	if (access(file, R_OK) != 0) {
		diag_say("%s: cannot read: %s", file, strerror(errno));
		return EXIT_ENV;
	}
	if (is_the_store(file, store)) {
		diag_say("%s: is the store itself; restore from a backup elsewhere", file);
		return EXIT_INPUT;
	}
	/*
	 * A store in use, or copied with its WAL as it ran: not a backup, and
	 * one made from it would be of whatever that store holds right now.
	 */
	char file_wal[PATH_MAX + 8];
	struct stat wal_st;
	snprintf(file_wal, sizeof file_wal, "%s-wal", file);
	if (stat(file_wal, &wal_st) == 0 && wal_st.st_size > 0) {
		diag_say(
		    "%s: has a WAL beside it (%s): it is a store in use or a copy of one, not a "
		    "backup; make one with estctl backup",
		    file, file_wal);
		return EXIT_INPUT;
	}
	int lock = instance_lock(dir, err, sizeof err);
	if (lock < 0) {
		if (errno == EWOULDBLOCK)
			diag_say(
			    "a hub is running on %s: stop it first (systemctl stop esthub@NAME, "
			    "or SIGTERM)",
			    dir);
		else
			diag_say("%s", err);
		return EXIT_ENV;
	}
	struct log *lg = NULL;
	int rc = open_checked(dir, file, &lg);
	if (rc != EXIT_OK) {
		diag_say("restore: %s does not verify; the store was left as it is", file);
		close(lock);
		return rc;
	}
	uint64_t head = log_head_seq(lg);
	char data[4096];
	if (ctl_path(data, sizeof data, dir, INSTANCE_DATA) == 0)
		(void)mkdir(data, 0700); /* an instance copied without its data */
	snprintf(incoming, sizeof incoming, "%s.restoring", store);
	(void)unlink(incoming); /* left by a restore that was stopped */
	bool had_store = access(store, F_OK) == 0;
	kept[0] = '\0';
	/* Copied as backup copies the store: synced, 0600, one file (log_backup). */
	rc = log_backup(lg, incoming, err, sizeof err);
	log_close(&lg);
	if (rc != 0 ||
	    (had_store && keep_replaced(store, kept, sizeof kept, err, sizeof err) != 0)) {
		diag_say("restore: %s; the store was left as it is", err);
		(void)unlink(incoming);
		close(lock);
		return EXIT_ENV;
	}
	if (rename(incoming, store) != 0 || durable_dir_of(store) != 0) {
		diag_say("restore: %s: %s%s%s", store, strerror(errno),
		         kept[0] ? "; the store it replaces is " : "", kept);
		close(lock);
		return EXIT_ENV;
	}
	/* The next start purges what expired since the backup was taken (gallring). */
	(void)unlink(mark);
	/* ... and notes the restore in the audit (hub.c, restored_audit), each one since it last
	 * ran. */
	char note[4096], note_text[9000];
	int len = snprintf(note_text, sizeof note_text, "from %s through seq %llu%s%s\n", file,
	                   (unsigned long long)head,
	                   kept[0] ? "; the store it replaced is kept as " : "", kept);
	FILE *nf =
	    ctl_path(note, sizeof note, dir, INSTANCE_RESTORED) == 0 ? fopen(note, "a") : NULL;
	if (nf == NULL || fwrite(note_text, 1, (size_t)len, nf) != (size_t)len || fflush(nf) != 0 ||
	    fsync(fileno(nf)) != 0 || durable_dir_of(note) != 0)
		diag_say("%s: cannot write it (the hub will not audit this restore): %s", note,
		         strerror(errno));
	if (nf != NULL)
		fclose(nf);
	close(lock);
	printf("restored: %s is now the store, through seq %llu\n", file, (unsigned long long)head);
	if (kept[0])
		printf("the store it replaces is kept as %s (and its -wal): remove them once they "
		       "are no longer needed\n",
		       kept);
	printf("what was logged after the backup is not in it: each partner's adapter sends "
	       "its part again with est-adapter --resend-after %llu (its usual options, no FILE); "
	       "the hub's next start purges what expired since (esthub run %s)\n",
	       (unsigned long long)head, dir);
	return EXIT_OK;
}
