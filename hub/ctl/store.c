/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store: what estctl reads from the shared log, read-only and beside a
 * running hub (log.h: LOG_READONLY takes no write lock): the hash chain
 * for verify, the head and the reports per organisation for status.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "instance.h"
#include "log.h"
#include "wire/crypto.h"
#include "wire/diag.h"

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

/* "seq N: reason", whether or not log_verify's reason names the seq already. */
static void
print_broken(uint64_t bad, const char *why)
{
	char prefix[32];
	int n = snprintf(prefix, sizeof prefix, "seq %llu", (unsigned long long)bad);
	const char *reason = why;
	if (strncmp(why, prefix, (size_t)n) == 0 && (why[n] == ':' || why[n] == ' ')) {
		reason = why + n;
		while (*reason == ':' || *reason == ' ')
			reason++;
	}
	printf("%s: %s\n", prefix, reason[0] ? reason : "does not hold");
}

int
ctl_verify(const char *dir, int argc, char **argv)
{
	if (ctl_no_more_args(argc, argv, 1))
		return EXIT_INPUT;
	struct log *lg = NULL;
	char path[4096], why[512], hex[2 * CRYPTO_HASH_BYTES + 1];
	uint64_t bad = 0;
	int rc = store_open(dir, &lg, path, sizeof path);
	if (rc != 0)
		return rc;
	why[0] = '\0';
	int v = log_verify(lg, &bad, why, sizeof why);
	if (v == 0) {
		head_hex(lg, hex);
		printf("log OK: %llu entries, head %s\n", (unsigned long long)log_head_seq(lg),
		       hex);
		rc = EXIT_OK;
	} else if (v > 0) {
		print_broken(bad, why);
		rc = EXIT_INPUT;
	} else {
		diag_say("%s: cannot verify: %s", path, why);
		rc = EXIT_ENV;
	}
	log_close(&lg);
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

int
ctl_store_figures(const char *dir, FILE *out)
{
	struct log *lg = NULL;
	char path[4096], err[512];
	int rc = store_open(dir, &lg, path, sizeof path);
	if (rc != 0)
		return rc;
	fprintf(out, "store: %s, head seq %llu\n", path, (unsigned long long)log_head_seq(lg));
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
