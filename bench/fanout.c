/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-fanout: the raw libzmq reference for the feed benchmarks. A ROUTER
 * with CURVE (and a ZAP handler admitting only the keys of a certificate
 * directory, as the hub's) waits for --peers DEALERs to say hello
 * (bench-subs --raw), then sends --count messages of --size bytes to every
 * one of them in turn, as fast as libzmq takes them: the fan-out to 50
 * peers, or with one peer the one-way throughput. No protocol, no credit,
 * no store: a blocking send on a full peer waits (ROUTER_MANDATORY), so
 * nothing is dropped. Each message starts with its sequence number (8
 * bytes, little-endian) so the receivers can check that nothing is lost.
 * bench-subs measures the delivery rate; this program exits once every
 * peer has said it is done.
 *
 * Prints "bench-fanout: ready ep=EP" once bound, and a summary line at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "common.h"

#define FANOUT_MAX_PEERS 1024
#define FANOUT_RID_MAX   256
#define FANOUT_SNDHWM    10000 /* the hub's feed socket has the same */

struct peer {
	uint8_t rid[FANOUT_RID_MAX];
	size_t rid_len;
	bool done;
};

struct options {
	const char *bind, *cert, *certs;
	long peers, count, size;
	double timeout;
};

struct fanout {
	const struct options *o;
	void *sock;
	struct peer *peers;
	size_t n_peers;
	int64_t deadline;
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: bench-fanout --bind EP --cert SECRET --certs DIR --peers M --count N\n"
	             "                    [--size BYTES] [--timeout S]\n"
	             "Sends N messages of BYTES bytes (default: the size of the hub's feed frame\n"
	             "for the benchmark's report) to each of M bench-subs --raw peers.\n");
}

/*
 * Receives one [rid, body] message: the sender's peer index, -1 when it is
 * ignored (a stranger past --peers), -2 when nothing is waiting.
 */
static long
receive_from(struct fanout *f, bool *hello)
{
	uint8_t rid[FANOUT_RID_MAX], body[16];
	int rlen = zmq_recv(f->sock, rid, sizeof rid, ZMQ_DONTWAIT);
	if (rlen < 0)
		return -2;
	int blen = zmq_recv(f->sock, body, sizeof body, 0);
	*hello = blen > 0 && body[0] == 'h';
	if (rlen == 0 || rlen > (int)sizeof rid)
		return -1;
	for (size_t i = 0; i < f->n_peers; i++)
		if (f->peers[i].rid_len == (size_t)rlen && memcmp(f->peers[i].rid, rid, rlen) == 0)
			return (long)i;
	if (!*hello || f->n_peers == (size_t)f->o->peers)
		return -1;
	struct peer *p = &f->peers[f->n_peers];
	memcpy(p->rid, rid, (size_t)rlen);
	p->rid_len = (size_t)rlen;
	return (long)f->n_peers++;
}

/* Waits until every peer has said hello (or, until_done, done); 0, or -1 on timeout. */
static int
await_peers(struct fanout *f, bool until_done)
{
	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < f->n_peers; i++)
			done += f->peers[i].done;
		if (!until_done && f->n_peers == (size_t)f->o->peers)
			return 0;
		if (until_done && done == f->n_peers)
			return 0;
		int64_t left = f->deadline - bench_now_ns();
		if (left <= 0)
			return -1;
		if (bench_wait_readable(f->sock, left) <= 0)
			continue;
		bool hello = false;
		long i;
		while ((i = receive_from(f, &hello)) != -2)
			if (i >= 0 && !hello)
				f->peers[i].done = true;
	}
}

/* Sends message seq to every peer. 0, or -1 when a peer stayed full past the timeout or left. */
static int
send_round(struct fanout *f, uint8_t *buf, uint64_t seq)
{
	for (int b = 0; b < 8; b++)
		buf[b] = (uint8_t)(seq >> (8 * b));
	for (size_t i = 0; i < f->n_peers; i++) {
		struct peer *p = &f->peers[i];
		if (zmq_send(f->sock, p->rid, p->rid_len, ZMQ_SNDMORE) < 0 ||
		    zmq_send(f->sock, buf, (size_t)f->o->size, 0) < 0) {
			fprintf(stderr, "bench-fanout: send of %llu to peer %zu: %s\n",
			        (unsigned long long)seq, i, zmq_strerror(zmq_errno()));
			return -1;
		}
	}
	return 0;
}

static int
parse_options(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bind", required_argument, NULL, 'b'},
	    {"cert", required_argument, NULL, 'c'},
	    {"certs", required_argument, NULL, 'C'},
	    {"peers", required_argument, NULL, 'p'},
	    {"count", required_argument, NULL, 'n'},
	    {"size", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bench_payload pl;
	bench_payload_init(&pl, "size");
	/* By default as large as the hub's frame for the benchmark's report. */
	*o = (struct options){.peers = 1,
	                      .size = (long)bench_payload_feed_frame_size(&pl, "municipality"),
	                      .timeout = 120};
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'b')
			o->bind = optarg;
		else if (c == 'c')
			o->cert = optarg;
		else if (c == 'C')
			o->certs = optarg;
		else if (c == 'p')
			rc = bench_parse_long("--peers", optarg, 1, FANOUT_MAX_PEERS, &o->peers);
		else if (c == 'n')
			rc = bench_parse_long("--count", optarg, 1, 100000000, &o->count);
		else if (c == 's')
			rc = bench_parse_long("--size", optarg, 8, 1 << 20, &o->size);
		else if (c == 'T')
			rc = bench_parse_double("--timeout", optarg, 1, 3600, &o->timeout);
		else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else
			rc = -1;
	}
	if (rc != 0 || optind != argc || !o->bind || !o->cert || !o->certs || o->count == 0) {
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
	char err[512] = "", bound[256];
	struct bench_keys k = {0};
	struct fanout f = {.o = &o};
	zactor_t *zap = NULL;
	uint8_t *buf = calloc(1, (size_t)o.size);
	f.peers = calloc((size_t)o.peers, sizeof *f.peers);
	int rc = 2;
	if (buf == NULL || f.peers == NULL || bench_keys_load(&k, NULL, o.cert, err, sizeof err))
		goto out;
	memset(buf, 'x', (size_t)o.size);
	zap = bench_zap_start(o.certs, err, sizeof err);
	f.sock = zap ? bench_server_socket(ZMQ_ROUTER, o.bind, &k, 0, bound, sizeof bound, err,
	                                   sizeof err)
	             : NULL;
	if (f.sock == NULL)
		goto out;
	bench_set_int(f.sock, ZMQ_ROUTER_MANDATORY, 1);
	bench_set_int(f.sock, ZMQ_SNDHWM, FANOUT_SNDHWM);
	bench_set_int(f.sock, ZMQ_SNDTIMEO, (int)(o.timeout * 1000));
	printf("bench-fanout: ready ep=%s\n", bound);
	fflush(stdout);
	f.deadline = bench_now_ns() + (int64_t)(o.timeout * 1e9);
	if (await_peers(&f, false) != 0) {
		snprintf(err, sizeof err, "only %zu of %ld peers said hello", f.n_peers, o.peers);
		goto out;
	}
	int64_t t0 = bench_now_ns();
	for (long i = 1; i <= o.count; i++)
		if (send_round(&f, buf, (uint64_t)i) != 0)
			goto out;
	int64_t t1 = bench_now_ns();
	rc = await_peers(&f, true) == 0 ? 0 : 1;
	printf("bench-fanout: peers=%zu count=%ld size=%ld sent=%ld send_seconds=%.3f%s\n",
	       f.n_peers, o.count, o.size, o.count * (long)f.n_peers, (double)(t1 - t0) / 1e9,
	       rc == 0 ? "" : " (not every peer said done)");
	fflush(stdout);
out:
	if (rc == 2 && err[0])
		fprintf(stderr, "bench-fanout: %s\n", err);
	if (f.sock)
		zmq_close(f.sock);
	zactor_destroy(&zap);
	bench_keys_wipe(&k);
	free(f.peers);
	free(buf);
	return rc;
}
