/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-ref: the reference the hub's durable ingest is compared with, the
 * naive group-commit loop of this stack written as plainly as it gets: one
 * thread, a ZeroMQ ROUTER with CURVE (and a ZAP handler admitting only the
 * keys in a certificate directory, as the hub's), and SQLite in WAL mode
 * with synchronous=FULL and the automatic checkpoint left on. Each round
 * takes what is queued, up to --batch frames, inserts every raw frame with
 * one prepared statement in one transaction, and after COMMIT answers each
 * with an est.v1.Ack carrying the sender's request_id, so bench-load treats
 * it like the hub. No decoding, no validation, no hashing, no index.
 *
 * --no-disk runs the same loop without SQLite: the CURVE messaging ceiling
 * of the machine and the load generator.
 *
 * Prints "bench-ref: ready ingest=EP" once serving; SIGTERM or SIGINT ends
 * it with "bench-ref: rounds=N frames=M" on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <zmq.h>

#include "common.h"
#include "wire/codec.h"

#define REF_MAX_BATCH 100000
#define REF_IDLE_MS   250

struct frame {
	zmq_msg_t rid;
	zmq_msg_t body;
};

struct ref {
	void *sock;
	sqlite3 *db;
	sqlite3_stmt *begin, *insert, *commit;
	struct frame *frames;
	long batch;
	unsigned long long rounds, total;
};

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: bench-ref --bind EP --cert SECRET --certs DIR (--db FILE | --no-disk)\n"
	        "                 [--batch N]\n"
	        "The reference group-commit loop (see the file's comment). --batch: frames\n"
	        "per transaction at most (default 1000).\n");
}

/* --- the store ----------------------------------------------------------- */

static int
db_fail(struct ref *r, const char *what)
{
	fprintf(stderr, "bench-ref: %s: %s\n", what, sqlite3_errmsg(r->db));
	return -1;
}

static int
db_open(struct ref *r, const char *path)
{
	if (sqlite3_open(path, &r->db) != SQLITE_OK)
		return db_fail(r, path);
	/* The naive settings: durable commits, and SQLite's default autocheckpoint. */
	if (sqlite3_exec(r->db,
	                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	                 "CREATE TABLE IF NOT EXISTS frames(id INTEGER PRIMARY KEY, body BLOB NOT "
	                 "NULL)",
	                 NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(r, "set-up");
	if (sqlite3_prepare_v2(r->db, "BEGIN", -1, &r->begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "INSERT INTO frames(body) VALUES (?1)", -1, &r->insert,
	                       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "COMMIT", -1, &r->commit, NULL) != SQLITE_OK)
		return db_fail(r, "prepare");
	return 0;
}

static int
step(struct ref *r, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(r, what);
}

/* One transaction holding the n frames. */
static int
store(struct ref *r, size_t n)
{
	if (step(r, r->begin, "BEGIN") != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		zmq_msg_t *b = &r->frames[i].body;
		if (sqlite3_bind_blob(r->insert, 1, zmq_msg_data(b), (int)zmq_msg_size(b),
		                      SQLITE_STATIC) != SQLITE_OK ||
		    step(r, r->insert, "INSERT") != 0)
			return -1;
	}
	sqlite3_clear_bindings(r->insert);
	return step(r, r->commit, "COMMIT");
}

/* --- the loop -------------------------------------------------------------- */

/* Takes one [routing id, body] message into slot i; 0 none waiting, 1 got one. */
static int
take(struct ref *r, size_t i)
{
	struct frame *f = &r->frames[i];
	zmq_msg_init(&f->rid);
	zmq_msg_init(&f->body);
	if (zmq_msg_recv(&f->rid, r->sock, ZMQ_DONTWAIT) < 0)
		return 0;
	if (!zmq_msg_more(&f->rid) || zmq_msg_recv(&f->body, r->sock, 0) < 0)
		return 0;
	/* A well-behaved sender sends one frame; drop any further parts. */
	while (zmq_msg_more(&f->body)) {
		zmq_msg_t drop;
		zmq_msg_init(&drop);
		int rc = zmq_msg_recv(&drop, r->sock, 0);
		zmq_msg_close(&drop);
		if (rc < 0)
			break;
	}
	return 1;
}

static void
acknowledge(struct ref *r, struct frame *f)
{
	Est__V1__Ack ack;
	est__v1__ack__init(&ack);
	ack.request_id = wire_peek_request_id(zmq_msg_data(&f->body), zmq_msg_size(&f->body));
	if (zmq_msg_send(&f->rid, r->sock, ZMQ_SNDMORE) < 0)
		return;
	wire_send(r->sock, &ack.base, 0);
}

static void
round_trip(struct ref *r)
{
	size_t n = 0;
	while (n < (size_t)r->batch && take(r, n))
		n++;
	if (n == 0) {
		zmq_msg_close(&r->frames[0].rid);
		zmq_msg_close(&r->frames[0].body);
		return;
	}
	/* The slot after the last taken one was initialised and found empty. */
	if (n < (size_t)r->batch) {
		zmq_msg_close(&r->frames[n].rid);
		zmq_msg_close(&r->frames[n].body);
	}
	if (r->db != NULL && store(r, n) != 0) {
		stop_requested = 1;
		n = 0; /* no acks for what is not stored */
	}
	for (size_t i = 0; i < n; i++)
		acknowledge(r, &r->frames[i]);
	for (size_t i = 0; i < n; i++) {
		zmq_msg_close(&r->frames[i].rid);
		zmq_msg_close(&r->frames[i].body);
	}
	r->rounds++;
	r->total += n;
}

static void
serve(struct ref *r)
{
	while (!stop_requested) {
		zmq_pollitem_t item = {r->sock, 0, ZMQ_POLLIN, 0};
		int rc = zmq_poll(&item, 1, REF_IDLE_MS);
		if (rc < 0 && zmq_errno() != EINTR) {
			fprintf(stderr, "bench-ref: poll: %s\n", zmq_strerror(zmq_errno()));
			return;
		}
		if (rc > 0)
			round_trip(r);
	}
}

/* --- set-up -------------------------------------------------------------- */

struct options {
	const char *bind, *cert, *certs, *db;
	bool no_disk;
	long batch;
};

static int
parse_options(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bind", required_argument, NULL, 'b'},  {"cert", required_argument, NULL, 'c'},
	    {"certs", required_argument, NULL, 'C'}, {"db", required_argument, NULL, 'd'},
	    {"no-disk", no_argument, NULL, 'n'},     {"batch", required_argument, NULL, 'B'},
	    {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	*o = (struct options){.batch = 1000};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bind = optarg;
			break;
		case 'c':
			o->cert = optarg;
			break;
		case 'C':
			o->certs = optarg;
			break;
		case 'd':
			o->db = optarg;
			break;
		case 'n':
			o->no_disk = true;
			break;
		case 'B':
			if (bench_parse_long("--batch", optarg, 1, REF_MAX_BATCH, &o->batch) != 0)
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc || !o->bind || !o->cert || !o->certs || (!o->db == !o->no_disk)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	if (parse_options(&o, argc, argv) != 0)
		return 1;
	zsys_handler_set(NULL);
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	char err[512] = "", bound[256];
	struct bench_keys k = {0};
	struct ref r = {.batch = o.batch};
	int rc = 2;
	zactor_t *zap = NULL;
	if (bench_keys_load(&k, NULL, o.cert, err, sizeof err) != 0)
		goto out;
	r.frames = calloc((size_t)o.batch, sizeof *r.frames);
	if (r.frames == NULL || (o.db && db_open(&r, o.db) != 0))
		goto out;
	/* The ZAP handler must be in place before the CURVE socket binds. */
	zap = bench_zap_start(o.certs, err, sizeof err);
	if (zap == NULL)
		goto out;
	r.sock =
	    bench_server_socket(ZMQ_ROUTER, o.bind, &k, 2000, bound, sizeof bound, err, sizeof err);
	if (r.sock == NULL)
		goto out;
	printf("bench-ref: ready ingest=%s disk=%s\n", bound, o.db ? o.db : "none");
	fflush(stdout);
	serve(&r);
	printf("bench-ref: rounds=%llu frames=%llu\n", r.rounds, r.total);
	fflush(stdout);
	rc = 0;
out:
	if (rc != 0 && err[0])
		fprintf(stderr, "bench-ref: %s\n", err);
	if (r.sock)
		zmq_close(r.sock);
	zactor_destroy(&zap);
	sqlite3_finalize(r.begin);
	sqlite3_finalize(r.insert);
	sqlite3_finalize(r.commit);
	sqlite3_close(r.db);
	free(r.frames);
	bench_keys_wipe(&k);
	return rc;
}
