/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store: what estctl reads from the shared log, read-only and beside a
 * running hub (log.h: LOG_READONLY takes no write lock): for verify the
 * hash chain, the signed checkpoints in the log (checkpoint.h) and, with
 * --against FILE, checkpoints a partner saved earlier; the head and the
 * reports per organisation for status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "checkpoint.h"
#include "ctl.h"
#include "instance.h"
#include "log.h"
#include "space.h"
#include "wire/crypto.h"
#include "wire/diag.h"
#include "wire/json.h"
#include "wire/sign.h"
#include "wire/timefmt.h"

/* Opens DIR's store read-only into *lg; 0, or EXIT_ENV (reported). */
static int
store_open(const char *dir, struct log **lg, char *path, size_t pathlen)
{
	char err[512];
	if (ctl_path(path, pathlen, dir, INSTANCE_STORE))
		return EXIT_ENV;
	if (access(path, F_OK) != 0) {
		diag_say("%s: no store: %s", path, strerror(errno));
		return EXIT_ENV;
	}
	if (log_open(lg, path, LOG_READONLY, err, sizeof err) != 0) {
		diag_say("cannot open the store: %s", err); /* err names the file */
		return EXIT_ENV;
	}
	return 0;
}

/* The head hash in hex (zeros for an empty log). */
static void
head_hex(const struct log *lg, char out[2 * CRYPTO_HASH_BYTES + 1])
{
	static const uint8_t zero[CRYPTO_HASH_BYTES];
	const uint8_t *h = log_head_hash(lg);
	crypto_hex(h ? h : zero, CRYPTO_HASH_BYTES, out);
}

/* "seq N: reason[ hint]", whether or not the reason names the seq already. */
static void
print_broken(uint64_t bad, const char *why, const char *hint)
{
	char prefix[32];
	int n = snprintf(prefix, sizeof prefix, "seq %llu", (unsigned long long)bad);
	const char *reason = why;
	if (strncmp(why, prefix, (size_t)n) == 0 && (why[n] == ':' || why[n] == ' ')) {
		reason = why + n;
		while (*reason == ':' || *reason == ' ')
			reason++;
	}
	printf("%s: %s%s\n", prefix, reason[0] ? reason : "does not hold", hint);
}

/*
 * The hub's public signing key DIR/keys/sign.pem into *key; a missing file
 * leaves *key NULL (an instance from before signing: checked only when a
 * checkpoint needs it). 0, or EXIT_ENV (said).
 */
static int
public_key_load(const char *dir, struct sign_key **key, char *path, size_t pathlen)
{
	char err[4400];
	*key = NULL;
	if (ctl_path(path, pathlen, dir, INSTANCE_SIGN_PUBLIC))
		return EXIT_ENV;
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	*key = sign_load_public(path, err, sizeof err);
	if (*key == NULL) {
		diag_say("%s", err);
		return EXIT_ENV;
	}
	return 0;
}

/* One saved checkpoint of the --against file, as read from a line. */
struct saved {
	Est__V1__LogEntry *entry;  /* when the line was an est-feed --json LogEntry */
	Est__V1__Checkpoint *bare; /* when it was a Checkpoint of its own */
	const Est__V1__Checkpoint *cp;
};

static void
saved_free(struct saved *sv)
{
	if (sv->entry != NULL)
		est__v1__log_entry__free_unpacked(sv->entry, NULL);
	if (sv->bare != NULL)
		est__v1__checkpoint__free_unpacked(sv->bare, NULL);
	memset(sv, 0, sizeof *sv);
}

/*
 * Reads one line of the --against file: a LogEntry in the protobuf JSON
 * mapping (est-feed --json) or a bare Checkpoint in the same mapping
 * ({"size": ..., "headHash": ..., "time": ..., "signature": ...}). The
 * JSON mapping is wire/json.c's (fuzzed by fuzz_json). Returns 1 with
 * sv->cp set, 0 for an entry of another kind (skipped), -1 with err.
 */
static int
saved_parse(const char *text, size_t len, struct saved *sv, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	memset(sv, 0, sizeof *sv);
	if (j == NULL) {
		wire_json_error(&je, err, errlen);
		return -1;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "not a JSON object");
		json_decref(j);
		return -1;
	}
	/* A LogEntry has a seq, a topic or a body; a bare Checkpoint has none of them. */
	bool is_entry = json_object_get(j, "checkpoint") != NULL ||
	                json_object_get(j, "seq") != NULL || json_object_get(j, "topic") != NULL;
	char why[400];
	if (is_entry) {
		sv->entry = (Est__V1__LogEntry *)wire_from_json(&est__v1__log_entry__descriptor, j,
		                                                why, sizeof why);
		if (sv->entry != NULL &&
		    sv->entry->body_case == EST__V1__LOG_ENTRY__BODY_CHECKPOINT)
			sv->cp = sv->entry->checkpoint;
	} else {
		sv->bare = (Est__V1__Checkpoint *)wire_from_json(&est__v1__checkpoint__descriptor,
		                                                 j, why, sizeof why);
		sv->cp = sv->bare;
	}
	json_decref(j);
	if (sv->entry == NULL && sv->bare == NULL) {
		snprintf(err, errlen, "not a %s: %s", is_entry ? "LogEntry" : "Checkpoint", why);
		return -1;
	}
	return sv->cp != NULL ? 1 : 0;
}

/* What --against found, for the closing line. */
struct against {
	size_t n;
	uint64_t size;
	int64_t time;
};

/* Checks one line; 0 holds or skipped, else the exit code (said). */
static int
against_line(struct log *lg, const struct sign_key *key, const char *file, size_t lineno,
             const char *text, size_t len, struct against *a)
{
	char why[512];
	struct saved sv;
	int p = saved_parse(text, len, &sv, why, sizeof why);
	if (p < 0) {
		printf("%s:%zu: %s\n", file, lineno, why);
		return EXIT_INPUT;
	}
	int rc = EXIT_OK;
	if (p == 1) {
		uint64_t entry_seq = sv.entry ? sv.entry->seq : 0;
		int v = checkpoint_verify_against(
		    lg, key, sv.cp, entry_seq, sv.entry ? &sv.entry->hash : NULL, why, sizeof why);
		if (v < 0) {
			diag_say("%s:%zu: cannot check: %s", file, lineno, why);
			rc = EXIT_ENV;
		} else if (v > 0) {
			printf("%s:%zu: %s\n", file, lineno, why);
			rc = EXIT_INPUT;
		} else {
			a->n++;
			if (sv.cp->size >= a->size) {
				a->size = sv.cp->size;
				a->time = sv.cp->time;
			}
		}
	}
	saved_free(&sv);
	return rc;
}

/* Lines longer than this are not a saved checkpoint (one is about 300 bytes). */
#define AGAINST_LINE_MAX (1024 * 1024)

/*
 * --against FILE: every checkpoint in it (one a line; blank lines and
 * lines starting with # are skipped) must be extended by the log. Stops at
 * the first that is not. Returns the exit code (said).
 */
static int
verify_against(struct log *lg, const struct sign_key *key, const char *file)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		diag_say("%s: cannot read: %s", file, strerror(errno));
		return EXIT_ENV;
	}
	struct against a = {0};
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = EXIT_OK;
	while (rc == EXIT_OK && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
		                   line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		size_t skip = strspn(line, " \t");
		if (line[skip] == '\0' || line[skip] == '#')
			continue;
		if (len > AGAINST_LINE_MAX) {
			printf("%s:%zu: longer than %d bytes: not a saved checkpoint\n", file,
			       lineno, AGAINST_LINE_MAX);
			rc = EXIT_INPUT;
			break;
		}
		rc = against_line(lg, key, file, lineno, line + skip, (size_t)len - skip, &a);
	}
	if (rc == EXIT_OK && ferror(f)) {
		diag_say("%s: cannot read: %s", file, strerror(errno));
		rc = EXIT_ENV;
	}
	free(line);
	fclose(f);
	if (rc == EXIT_OK && a.n == 0) {
		printf("%s: no checkpoint in it (est-feed --topic all/checkpoints --json writes "
		       "them)\n",
		       file);
		rc = EXIT_INPUT;
	}
	if (rc == EXIT_OK) {
		char when[64];
		timefmt_iso_local(a.time, when, sizeof when);
		printf(
		    "against %s: the log extends %s %zu saved checkpoint%s (the latest: size %llu, "
		    "%s)\n",
		    file, a.n == 1 ? "the" : "all", a.n, a.n == 1 ? "" : "s",
		    (unsigned long long)a.size, when);
	}
	return rc;
}

/* The chain (log_verify), then every checkpoint in the log before the first bad seq. */
static int
verify_log(struct log *lg, const struct sign_key *key, const char *path)
{
	char why[512], cwhy[512], hex[2 * CRYPTO_HASH_BYTES + 1];
	uint64_t bad = 0, n = 0, last = 0, cbad = 0;
	why[0] = cwhy[0] = '\0';
	int v = log_verify(lg, &bad, why, sizeof why);
	if (v < 0) {
		diag_say("%s: cannot verify: %s", path, why);
		return EXIT_ENV;
	}
	if (v > 0 && bad == 0) {
		printf("%s\n", why); /* the file itself is damaged: no seq to name */
		return EXIT_INPUT;
	}
	uint64_t upto = v > 0 ? bad - 1 : log_head_seq(lg);
	int c = checkpoint_verify_log(lg, key, upto, &n, &last, &cbad, cwhy, sizeof cwhy);
	if (c < 0) {
		diag_say("%s: cannot check the checkpoints: %s", path, cwhy);
		return EXIT_ENV;
	}
	if (c > 0) {
		print_broken(cbad, cwhy, "");
		return EXIT_INPUT;
	}
	if (v > 0) {
		print_broken(bad, why, " (the entry was changed, removed or reordered)");
		return EXIT_INPUT;
	}
	head_hex(lg, hex);
	printf("log OK: %llu entries, head %s\n", (unsigned long long)log_head_seq(lg), hex);
	if (n > 0)
		printf("checkpoints OK: %llu signed, the last at seq %llu\n", (unsigned long long)n,
		       (unsigned long long)last);
	else
		printf("checkpoints: none in the log yet\n");
	return EXIT_OK;
}

int
ctl_verify(const char *dir, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"against", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	const char *against = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != 'a') {
			ctl_bad_option(c, argv);
			return EXIT_INPUT;
		}
		against = optarg;
	}
	if (ctl_no_more_args(argc, argv, optind))
		return EXIT_INPUT;
	struct log *lg = NULL;
	struct sign_key *key = NULL;
	char path[4096], key_path[4096];
	int rc = store_open(dir, &lg, path, sizeof path);
	if (rc == 0)
		rc = public_key_load(dir, &key, key_path, sizeof key_path);
	if (rc == 0)
		rc = verify_log(lg, key, path);
	/* Against the saved copies also when the log failed: what they say is evidence too. */
	bool store_read = rc == EXIT_OK || rc == EXIT_INPUT;
	if (store_read && against != NULL && key == NULL) {
		diag_say("%s: missing: cannot check a saved checkpoint without the hub's public "
		         "key",
		         key_path);
		rc = rc == EXIT_OK ? EXIT_ENV : rc;
	} else if (store_read && against != NULL) {
		int ra = verify_against(lg, key, against);
		rc = rc == EXIT_OK ? ra : rc;
	}
	sign_key_destroy(&key);
	log_close(&lg);
	return rc;
}

int
ctl_store_check(const char *dir, struct log *lg, const char *path)
{
	char key_path[4096];
	struct sign_key *key = NULL;
	int rc = public_key_load(dir, &key, key_path, sizeof key_path);
	if (rc == 0)
		rc = verify_log(lg, key, path);
	sign_key_destroy(&key);
	return rc;
}

struct org_lines {
	FILE *out;
	size_t n;
};

static void
print_org(void *arg, const char *org, uint64_t reports)
{
	struct org_lines *l = arg;
	fprintf(l->out, "  %-20s %llu reports\n", org, (unsigned long long)reports);
	l->n++;
}

/* "space: the store 143 MiB (its WAL 16 MiB), 12.3 GiB free of 20 GiB on its filesystem" */
static void
print_space(FILE *out, const char *store)
{
	char wal[4200], dir[4096];
	snprintf(wal, sizeof wal, "%s-wal", store);
	snprintf(dir, sizeof dir, "%s", store);
	char *slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	struct stat db_st, wal_st;
	uint64_t avail, size;
	if (stat(store, &db_st) != 0 || space_of(slash != NULL ? dir : ".", &avail, &size) != 0)
		return;
	uint64_t wal_bytes = stat(wal, &wal_st) == 0 ? (uint64_t)wal_st.st_size : 0;
	char t_store[32], t_wal[32], t_free[32], t_size[32];
	space_text((uint64_t)db_st.st_size + wal_bytes, t_store, sizeof t_store);
	space_text(wal_bytes, t_wal, sizeof t_wal);
	space_text(avail, t_free, sizeof t_free);
	space_text(size, t_size, sizeof t_size);
	if (wal_bytes > 0)
		fprintf(out, "space: the store %s (its WAL %s), %s free of %s on its filesystem\n",
		        t_store, t_wal, t_free, t_size);
	else
		fprintf(out, "space: the store %s, %s free of %s on its filesystem\n", t_store,
		        t_free, t_size);
}

int
ctl_store_figures(const char *dir, FILE *out)
{
	struct log *lg = NULL;
	char path[4096], err[512];
	int rc = store_open(dir, &lg, path, sizeof path);
	if (rc != 0)
		return rc;
	fprintf(out, "store: %s, head seq %llu\n", path, (unsigned long long)log_head_seq(lg));
	print_space(out, path);
	fprintf(out, "reports by organisation:\n");
	struct org_lines lines = {.out = out};
	if (log_count_by_org(lg, print_org, &lines, err, sizeof err) != 0) {
		diag_say("%s: cannot count reports: %s", path, err);
		rc = EXIT_ENV;
	} else if (lines.n == 0) {
		fprintf(out, "  (none yet)\n");
	}
	log_close(&lg);
	return rc;
}
