/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-subs: N feed subscribers in one thread, one DEALER with CURVE
 * each, counting what arrives and checking that nothing is missing.
 *
 * Against the hub they speak the feed protocol as est-feed does: a
 * Subscribe with a credit window (default 1000), the credit given back
 * once half of it is used, every FeedEvent decoded, every entry's seq
 * checked to come after the one before (from head_seq + 1 of the first
 * FeedStatus with --from 0, from --from otherwise; gaps are entries of
 * other topics, and --count entries must arrive). Once every subscriber
 * has its FeedStatus, "bench-subs: ready head_seq=N" is printed, so a load
 * can be started.
 *
 * With --raw they are the receivers of bench-fanout: each says hello, then
 * reads messages whose first 8 bytes are their sequence number from 1,
 * and says done at the end.
 *
 * Each subscriber stops after --count entries. The result line gives the
 * entries received by all, the ones missing, and the delivery rate: all
 * entries over the time from the first entry to the last, across
 * subscribers. Exit 0 when nothing is missing, 1 otherwise, 2 on errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "common.h"

#define SUBS_MAX          1024
#define SUBS_DRAIN_MAX    4096          /* messages taken from one socket per turn */
#define SUBS_KEEPALIVE_NS 10000000000LL /* a credit at least this often (the hub wants 20 s) */
#define SUBS_POLL_MS      100

struct options {
	const char *hub, *hub_cert, *cert, *topic;
	char label[32];
	bool raw;
	long subs, count, credit;
	uint64_t from;
	double timeout;
};

struct sub {
	void *sock;
	bool subscribed; /* its first FeedStatus came (raw: always) */
	bool done;
	uint64_t expect; /* the next seq */
	uint64_t received;
	uint64_t missing;  /* seqs skipped over */
	uint64_t consumed; /* since credit was last given back */
	int64_t credit_sent_ns;
};

struct subs {
	const struct options *o;
	struct sub *s;
	zmq_pollitem_t *items;
	size_t n_subscribed, n_done;
	uint64_t head_seq;
	uint64_t bytes;
	int64_t t_subscribe, t_first, t_last;
	char error[512];
};

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: bench-subs --hub EP --hub-cert FILE --cert FILE --subs N --count K\n"
	        "                  [--raw] [--from SEQ] [--topic T] [--credit C] [--timeout S]\n"
	        "                  [--label NAME]\n"
	        "N subscribers, each stopping after K entries; prints entries, missing, per_s.\n"
	        "  --from SEQ   0 (default): what is appended from now on; N: from seq N\n"
	        "  --topic T    default hageby/reports\n"
	        "  --credit C   the credit window (default 1000, as est-feed)\n"
	        "  --raw        receive from bench-fanout instead of the hub\n");
}

/* --- the feed protocol ----------------------------------------------------- */

static int
send_request(struct sub *s, const Est__V1__FeedRequest *req)
{
	uint8_t buf[512];
	size_t len = est__v1__feed_request__get_packed_size(req);
	if (len > sizeof buf)
		return -1;
	est__v1__feed_request__pack(req, buf);
	return zmq_send(s->sock, buf, len, 0) < 0 ? -1 : 0;
}

static int
subscribe(const struct options *o, struct sub *s)
{
	Est__V1__FeedRequest req;
	Est__V1__Subscribe sub;
	char *topics[1] = {(char *)(uintptr_t)o->topic};
	est__v1__feed_request__init(&req);
	est__v1__subscribe__init(&sub);
	sub.n_topics = 1;
	sub.topics = topics;
	sub.from_seq = o->from;
	sub.credit = (uint32_t)o->credit;
	req.body_case = EST__V1__FEED_REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	return send_request(s, &req);
}

static int
give_credit(struct sub *s, int64_t now)
{
	Est__V1__FeedRequest req;
	est__v1__feed_request__init(&req);
	req.body_case = EST__V1__FEED_REQUEST__BODY_CREDIT;
	req.credit = (uint32_t)s->consumed;
	s->consumed = 0;
	s->credit_sent_ns = now;
	return send_request(s, &req);
}

/* One entry with seq arrived for s at now. */
static void
count_entry(struct subs *ss, struct sub *s, uint64_t seq, size_t bytes, int64_t now)
{
	if (s->done)
		return;
	/* The raw fan-out numbers every message. The hub's log also holds
	 * entries of other topics (checkpoints, audit entries of the
	 * subscriptions themselves), so a subscriber of one topic sees gaps;
	 * there completeness is --count entries received, in rising order. */
	if (seq > s->expect && ss->o->raw)
		s->missing += seq - s->expect;
	else if (seq < s->expect)
		s->missing++; /* a repeat or a step back: just as wrong */
	s->expect = seq + 1;
	s->received++;
	s->consumed++;
	ss->bytes += bytes;
	if (ss->t_first == 0)
		ss->t_first = now;
	ss->t_last = now;
	if (s->received == (uint64_t)ss->o->count) {
		s->done = true;
		ss->n_done++;
	}
}

static void
feed_status(struct subs *ss, struct sub *s, const Est__V1__FeedStatus *st)
{
	if (s->subscribed)
		return; /* a later status ("caught up") changes nothing here */
	if (!st->ok && ss->error[0] == '\0')
		snprintf(ss->error, sizeof ss->error, "the hub refused the subscription: %s",
		         st->message);
	s->subscribed = true;
	ss->n_subscribed++;
	ss->head_seq = st->head_seq;
	s->expect = ss->o->from == 0 ? st->head_seq + 1 : ss->o->from;
}

/* One frame from the hub. */
static void
feed_frame(struct subs *ss, struct sub *s, const uint8_t *data, size_t len, int64_t now)
{
	Est__V1__FeedEvent *ev = est__v1__feed_event__unpack(NULL, len, data);
	if (ev == NULL) {
		snprintf(ss->error, sizeof ss->error, "a frame of %zu bytes is no FeedEvent", len);
		return;
	}
	if (ev->body_case == EST__V1__FEED_EVENT__BODY_STATUS)
		feed_status(ss, s, ev->status);
	else if (ev->body_case == EST__V1__FEED_EVENT__BODY_ENTRY)
		count_entry(ss, s, ev->entry->seq, len, now);
	est__v1__feed_event__free_unpacked(ev, NULL);
	if (!ss->o->raw && s->consumed >= (uint64_t)(ss->o->credit + 1) / 2)
		give_credit(s, now);
}

/* One frame from bench-fanout. */
static void
raw_frame(struct subs *ss, struct sub *s, const uint8_t *data, size_t len, int64_t now)
{
	uint64_t seq = 0;
	for (int b = 0; b < 8 && (size_t)b < len; b++)
		seq |= (uint64_t)data[b] << (8 * b);
	bool was_done = s->done;
	count_entry(ss, s, seq, len, now);
	if (s->done && !was_done)
		zmq_send(s->sock, "d", 1, ZMQ_DONTWAIT);
}

/* --- the loop ---------------------------------------------------------------- */

static void
drain(struct subs *ss, struct sub *s)
{
	for (int i = 0; i < SUBS_DRAIN_MAX; i++) {
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, s->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			return;
		}
		int64_t now = bench_now_ns();
		if (ss->o->raw)
			raw_frame(ss, s, zmq_msg_data(&msg), zmq_msg_size(&msg), now);
		else
			feed_frame(ss, s, zmq_msg_data(&msg), zmq_msg_size(&msg), now);
		zmq_msg_close(&msg);
	}
}

static void
keep_alive(struct subs *ss, int64_t now)
{
	if (ss->o->raw)
		return;
	for (long i = 0; i < ss->o->subs; i++)
		if (now - ss->s[i].credit_sent_ns >= SUBS_KEEPALIVE_NS)
			give_credit(&ss->s[i], now);
}

static int
run(struct subs *ss, int64_t deadline)
{
	const struct options *o = ss->o;
	bool said_ready = false;
	while (ss->n_done < (size_t)o->subs && ss->error[0] == '\0') {
		int64_t now = bench_now_ns();
		if (now >= deadline)
			return -1;
		if (!said_ready && ss->n_subscribed == (size_t)o->subs) {
			printf("bench-subs: ready head_seq=%" PRIu64 "\n", ss->head_seq);
			fflush(stdout);
			said_ready = true;
		}
		int n = zmq_poll(ss->items, (int)o->subs, SUBS_POLL_MS);
		if (n < 0 && zmq_errno() != EINTR)
			return -1;
		for (long i = 0; n > 0 && i < o->subs; i++)
			if (ss->items[i].revents & ZMQ_POLLIN)
				drain(ss, &ss->s[i]);
		keep_alive(ss, bench_now_ns());
	}
	return ss->error[0] ? -1 : 0;
}

/* --- set-up and report --------------------------------------------------- */

static int
open_subs(struct subs *ss, void *ctx, const struct bench_keys *k)
{
	const struct options *o = ss->o;
	int64_t now = bench_now_ns();
	ss->t_subscribe = now;
	for (long i = 0; i < o->subs; i++) {
		struct sub *s = &ss->s[i];
		s->sock =
		    bench_client_socket(ctx, ZMQ_DEALER, o->hub, k, ss->error, sizeof ss->error);
		if (s->sock == NULL)
			return -1;
		ss->items[i] = (zmq_pollitem_t){s->sock, 0, ZMQ_POLLIN, 0};
		s->credit_sent_ns = now;
		if (o->raw) {
			s->subscribed = true;
			s->expect = 1;
			ss->n_subscribed++;
			if (zmq_send(s->sock, "h", 1, 0) < 0)
				return -1;
		} else if (subscribe(o, s) != 0) {
			snprintf(ss->error, sizeof ss->error, "cannot send Subscribe");
			return -1;
		}
	}
	return 0;
}

static int
report(struct subs *ss, int ran)
{
	const struct options *o = ss->o;
	uint64_t received = 0, missing = 0;
	for (long i = 0; i < o->subs; i++) {
		received += ss->s[i].received;
		missing += ss->s[i].missing + ((uint64_t)o->count - ss->s[i].received);
	}
	double seconds = (double)(ss->t_last - ss->t_first) / 1e9;
	double total = (double)(ss->t_last - ss->t_subscribe) / 1e9;
	printf("bench-subs: label=%s mode=%s subs=%ld count=%ld received=%" PRIu64
	       " missing=%" PRIu64 " seconds=%.3f per_s=%.1f since_subscribe=%.3f "
	       "bytes_per_entry=%.0f head_seq=%" PRIu64 " error=\"%s\"\n",
	       o->label, o->raw ? "raw" : "hub", o->subs, o->count, received, missing, seconds,
	       seconds > 0 ? (double)received / seconds : 0.0, ss->t_last ? total : 0.0,
	       received ? (double)ss->bytes / (double)received : 0.0, ss->head_seq,
	       ran != 0 && ss->error[0] == '\0' ? "timed out" : ss->error);
	fflush(stdout);
	return missing == 0 && ran == 0 ? 0 : 1;
}

static int
parse_options(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"hub", required_argument, NULL, 'H'},
	    {"hub-cert", required_argument, NULL, 'C'},
	    {"cert", required_argument, NULL, 'c'},
	    {"subs", required_argument, NULL, 'n'},
	    {"count", required_argument, NULL, 'N'},
	    {"raw", no_argument, NULL, 'r'},
	    {"from", required_argument, NULL, 'f'},
	    {"topic", required_argument, NULL, 't'},
	    {"credit", required_argument, NULL, 'k'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"label", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct options){.topic = "hageby/reports", .subs = 1, .credit = 1000, .timeout = 120};
	snprintf(o->label, sizeof o->label, "-");
	long from = 0;
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'H')
			o->hub = optarg;
		else if (c == 'C')
			o->hub_cert = optarg;
		else if (c == 'c')
			o->cert = optarg;
		else if (c == 'n')
			rc = bench_parse_long("--subs", optarg, 1, SUBS_MAX, &o->subs);
		else if (c == 'N')
			rc = bench_parse_long("--count", optarg, 1, 100000000, &o->count);
		else if (c == 'r')
			o->raw = true;
		else if (c == 'f')
			rc = bench_parse_long("--from", optarg, 0, 1L << 62, &from);
		else if (c == 't')
			o->topic = optarg;
		else if (c == 'k')
			rc = bench_parse_long("--credit", optarg, 1, 100000, &o->credit);
		else if (c == 'T')
			rc = bench_parse_double("--timeout", optarg, 1, 3600, &o->timeout);
		else if (c == 'l')
			snprintf(o->label, sizeof o->label, "%s", optarg);
		else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else
			rc = -1;
	}
	o->from = (uint64_t)from;
	if (rc != 0 || optind != argc || !o->hub || !o->hub_cert || !o->cert || o->count == 0) {
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
		return 2;
	struct bench_keys k;
	struct subs ss = {.o = &o};
	char err[512];
	if (bench_keys_load(&k, o.hub_cert, o.cert, err, sizeof err) != 0) {
		fprintf(stderr, "bench-subs: %s\n", err);
		return 2;
	}
	void *ctx = zmq_ctx_new();
	ss.s = calloc((size_t)o.subs, sizeof *ss.s);
	ss.items = calloc((size_t)o.subs, sizeof *ss.items);
	int rc = 2;
	if (ctx == NULL || ss.s == NULL || ss.items == NULL || open_subs(&ss, ctx, &k) != 0) {
		fprintf(stderr, "bench-subs: %s\n", ss.error[0] ? ss.error : "out of memory");
	} else {
		int ran = run(&ss, ss.t_subscribe + (int64_t)(o.timeout * 1e9));
		rc = report(&ss, ran);
	}
	for (long i = 0; ss.s && i < o.subs; i++) {
		if (ss.s[i].sock == NULL)
			continue;
		/* bench-fanout waits for the "done" of every peer: let it leave. */
		if (o.raw)
			bench_set_int(ss.s[i].sock, ZMQ_LINGER, 2000);
		zmq_close(ss.s[i].sock);
	}
	free(ss.s);
	free(ss.items);
	if (ctx)
		zmq_ctx_term(ctx);
	bench_keys_wipe(&k);
	return rc;
}
