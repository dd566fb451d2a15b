/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl: estctl's commands. Each takes the instance directory and its own
 * arguments (argv[0] is the command's last word, as getopt expects) and
 * returns the exit code of the contract: 0 ok, 1 usage or input error,
 * 2 environment error, having said why on stderr.
 *
 * client.c  client add / list / revoke (files in DIR; revoke through the hub)
 * status.c  status (the running hub through control.h, the store beside it)
 * store.c   what estctl reads from the store: verify and counts (log.h)
 * picture.c picture compile (through the running hub)
 * measure.c measure add / set / show / list (through the running hub)
 * purge.c   purge [--dry-run]: gallring (plan read-only; purge through the running hub)
 * backup.c  backup FILE (a verified copy of the store beside a running hub) and
 *           restore FILE (with the hub stopped)
 */
#ifndef ESTHUB_CTL_H
#define ESTHUB_CTL_H

#include <stddef.h>
#include <stdio.h>

/* Waiting for a running hub on the control channel. */
#define CTL_CONTROL_TIMEOUT_MS 3000
/*
 * Waiting for `picture compile`: the hub answers once the pictures are in
 * the log, and its compile thread yields to ingest, so under a flood of
 * reports a compile can take seconds (a hub that is not running is told
 * at once by its missing control socket, not by this timeout).
 */
#define CTL_COMPILE_TIMEOUT_MS 60000

typedef int (*ctl_command_fn)(const char *dir, int argc, char **argv);

int ctl_client_add(const char *dir, int argc, char **argv);
int ctl_client_list(const char *dir, int argc, char **argv);
int ctl_client_revoke(const char *dir, int argc, char **argv);
int ctl_client_rotate(const char *dir, int argc, char **argv);
int ctl_status(const char *dir, int argc, char **argv);
int ctl_verify(const char *dir, int argc, char **argv);
int ctl_picture_compile(const char *dir, int argc, char **argv);
int ctl_measure_add(const char *dir, int argc, char **argv);
int ctl_measure_set(const char *dir, int argc, char **argv);
int ctl_measure_show(const char *dir, int argc, char **argv);
int ctl_measure_list(const char *dir, int argc, char **argv);
int ctl_purge(const char *dir, int argc, char **argv);

int ctl_backup(const char *dir, int argc, char **argv);
int ctl_restore(const char *dir, int argc, char **argv);

/*
 * Checks lg, the store file at path opened read-only, as verify checks
 * DIR's: the hash chain and every signed checkpoint in it (with
 * DIR/keys/sign.pem), printing "log OK: ..." and "checkpoints ..." or the
 * first seq that does not hold. Returns the exit code (1: broken).
 */
struct log;
int ctl_store_check(const char *dir, struct log *lg, const char *path);

/*
 * Prints the store's figures (head seq, reports per organisation) to out.
 * Returns 0, or an exit code when the store cannot be read (said on stderr).
 */
int ctl_store_figures(const char *dir, FILE *out);

/*
 * Sends req to the running hub over the control channel and waits at most
 * timeout_ms. 0 with *reply (caller frees, also a refusal: reply->ok), or
 * EXIT_ENV after saying "hub not running (...)" followed by hint (may be
 * "") or what went wrong on the channel.
 */
struct Est__V1__ControlRequest;
struct Est__V1__ControlReply;
int ctl_ask_hub(const char *dir, const struct Est__V1__ControlRequest *req, int timeout_ms,
                const char *hint, struct Est__V1__ControlReply **reply);

/* DIR/rel into out; says so and returns -1 when it does not fit. */
int ctl_path(char *out, size_t outlen, const char *dir, const char *rel);

/* Says what getopt (with opterr 0 and a leading ':') found wrong: c is ':' or '?'. */
void ctl_bad_option(int c, char **argv);

/* Says "unexpected argument" for argv[optind..] and returns -1 when there are any. */
int ctl_no_more_args(int argc, char **argv, int first);

#endif
