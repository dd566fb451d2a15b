/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-load: the load generator. N sender threads, each with its own
 * connection, send one ~300-byte report per message and count the answers:
 *
 *   --wait        one message in flight per sender (send, wait for the ack)
 *   --window W    W messages in flight per sender
 *   --rate R      R messages a second per sender on a fixed schedule
 *                 (open loop: a late answer does not delay the next send)
 *
 * against either a ZeroMQ endpoint speaking the ingest protocol (esthub, or
 * bench-ref, which answers with an Ack of the same request_id) over CURVE,
 * or Redis (--redis HOST:PORT), where each message is an XADD of the same
 * serialized envelope to one stream and the reply is the answer. Latency
 * is measured per message from its send to its answer.
 *
 * A timed run (--seconds) counts the answers that arrive inside the
 * measured window after --warmup; a counted run (--count N per sender)
 * sends exactly N each and waits for all of them. One result line on
 * stdout, key=value. Exit 0 when every message was answered and accepted,
 * 1 when some were refused or lost, 2 on a usage or environment error.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <zmq.h>

#include "common.h"

#define LOAD_MAX_SENDERS  64
#define LOAD_MAX_INFLIGHT 20000     /* per sender in --rate mode: beyond it the schedule slips */
#define LOAD_RETRY_NS     1000000LL /* a send ZeroMQ refused for now is tried again after 1 ms */
#define LOAD_CONNECT_MS   200       /* head start for the handshakes before the clock starts */
#define LOAD_FRAME_MAX    1024
#define LOAD_SLOW_NS      200000000LL /* an answer later than 200 ms is told on stderr */

enum mode { MODE_WAIT, MODE_WINDOW, MODE_RATE };

struct options {
	const char *hub;
	const char *hub_cert;
	const char *cert;
	char redis_host[256];
	int redis_port;
	long senders;
	enum mode mode;
	long window;
	double rate;
	double seconds;
	double warmup;
	double timeout;
	long count;
	long io_threads;
	char tag[17];
	char label[32];
};

/* The shared clock of a run, fixed before the senders start. */
struct run {
	int64_t t_start;  /* first send */
	int64_t t_warm;   /* measured window opens */
	int64_t t_end;    /* measured window closes; a timed run stops sending */
	int64_t deadline; /* nothing is waited for after this */
};

struct sender {
	const struct options *o;
	const struct run *run;
	unsigned idx;
	pthread_t thread;
	void *sock;      /* ZeroMQ DEALER, or NULL */
	redisContext *r; /* Redis connection, or NULL */
	char stream[64];
	int64_t *sent_at; /* by message index; -1 once answered */
	size_t sent_cap;
	uint64_t next;       /* index of the next message to send */
	uint64_t next_reply; /* Redis answers in order: index of the next one */
	uint64_t inflight;
	uint64_t acked;
	uint64_t acked_in_window;
	uint64_t rejected;
	uint64_t strays;  /* answers matching nothing in flight */
	uint64_t slipped; /* --rate sends delayed by the in-flight cap */
	/*
	 * Sends ZeroMQ refused for now (no connected peer, or a full pipe),
	 * retried every LOAD_RETRY_NS: waiting for an answer instead left a
	 * sender with nothing in flight idle to the end of the run (a --wait
	 * run once reported 0 reports/s that way).
	 */
	uint64_t blocked;
	bool blocked_now;
	int64_t first_send;
	int64_t last_ack;
	struct bench_samples lat;
	struct bench_payload pl;
	uint8_t frame[LOAD_FRAME_MAX];
	char error[256]; /* the first refusal or failure */
	int failed;
};

static struct bench_keys keys;

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: bench-load (--hub EP --hub-cert FILE --cert FILE | --redis HOST:PORT)\n"
	        "                  (--wait | --window W | --rate R) [--senders N]\n"
	        "                  [--seconds S [--warmup S] | --count N] [--timeout S]\n"
	        "                  [--tag TAG] [--label NAME] [--io-threads N]\n"
	        "\n"
	        "Sends one ~%d-byte report per message from N sender threads (default 1)\n"
	        "and prints one line: sent, acked, rejected, lost, per_s, p50_us, p99_us.\n"
	        "  --wait        one message in flight per sender\n"
	        "  --window W    W in flight per sender\n"
	        "  --rate R      R a second per sender, open loop; latency per message\n"
	        "  --seconds S   measure S seconds after --warmup (default 1) seconds\n"
	        "  --count N     send exactly N per sender and wait for every answer\n"
	        "  --timeout S   wait at most S seconds for answers (default 30)\n"
	        "  --tag TAG     makes source_ids unique per run (default from time and pid)\n"
	        "exit: 0 all answered and accepted, 1 some refused or lost, 2 error\n",
	        BENCH_ENVELOPE_BYTES);
}

/* --- the two transports -------------------------------------------------- */

/* The answer to message i arrived at now; ok is false when it was a refusal. */
static void
answered(struct sender *s, uint64_t i, int64_t now, bool ok, const char *why)
{
	if (i >= s->next || s->sent_at[i] < 0) {
		s->strays++;
		return;
	}
	int64_t sent = s->sent_at[i];
	s->sent_at[i] = -1;
	s->inflight--;
	s->acked++;
	s->last_ack = now;
	const struct run *run = s->run;
	/*
	 * An answer slower than LOAD_SLOW_NS is told, with when it was sent
	 * against the measured window: one sent in the warm-up is not in the
	 * latency figures, and a run that stood still needs to say where.
	 */
	if (now - sent > LOAD_SLOW_NS)
		fprintf(stderr,
		        "bench-load: sender %u: message %" PRIu64 " sent at %+.3f s from the "
		        "window's opening, answered %.3f s later\n",
		        s->idx, i, (double)(sent - run->t_warm) / 1e9, (double)(now - sent) / 1e9);
	if (now >= run->t_warm && now <= run->t_end)
		s->acked_in_window++;
	if (sent >= run->t_warm && sent <= run->t_end) {
		int64_t us = (now - sent) / 1000;
		bench_samples_add(&s->lat, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us);
	}
	if (!ok) {
		s->rejected++;
		if (s->error[0] == '\0')
			snprintf(s->error, sizeof s->error, "%s", why);
	}
}

/* Checks one Ack frame from the hub or bench-ref. */
static void
zmq_answer(struct sender *s, const void *data, size_t len, int64_t now)
{
	Est__V1__Ack *ack = est__v1__ack__unpack(NULL, len, data);
	if (ack == NULL) {
		s->strays++;
		return;
	}
	const char *why = NULL;
	if (ack->error != NULL && ack->error[0] != '\0')
		why = ack->error;
	else if (ack->n_results > 0 && ack->results[0]->status != EST__V1__STATUS__STATUS_ACCEPTED)
		why = ack->results[0]->error[0] ? ack->results[0]->error : "not accepted";
	if (ack->request_id == 0)
		s->strays++;
	else
		answered(s, ack->request_id - 1, now, why == NULL, why ? why : "");
	est__v1__ack__free_unpacked(ack, NULL);
}

/* Receives every answer waiting, without blocking. */
static int
zmq_drain(struct sender *s)
{
	for (;;) {
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, s->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		}
		zmq_answer(s, zmq_msg_data(&msg), zmq_msg_size(&msg), bench_now_ns());
		zmq_msg_close(&msg);
	}
}

static void
redis_answer(struct sender *s, redisReply *reply, int64_t now)
{
	bool ok = reply->type != REDIS_REPLY_ERROR;
	answered(s, s->next_reply++, now, ok, ok ? "" : reply->str);
}

/* Handles every complete Redis reply, reading the socket only when poll says it has bytes. */
static int
redis_drain(struct sender *s)
{
	for (;;) {
		void *reply = NULL;
		if (redisGetReplyFromReader(s->r, &reply) != REDIS_OK)
			return -1;
		if (reply != NULL) {
			redis_answer(s, reply, bench_now_ns());
			freeReplyObject(reply);
			continue;
		}
		struct pollfd pfd = {.fd = s->r->fd, .events = POLLIN};
		if (poll(&pfd, 1, 0) <= 0)
			return 0;
		if (redisBufferRead(s->r) != REDIS_OK)
			return -1;
	}
}

/* Queues message i; 0 queued, 1 not now (the socket is full), -1 failed. */
static int
send_one(struct sender *s, uint64_t i)
{
	bench_payload_set(&s->pl, s->idx, i, i + 1);
	size_t len = bench_payload_size(&s->pl);
	if (len > sizeof s->frame)
		return -1;
	bench_payload_pack(&s->pl, s->frame);
	if (s->r != NULL)
		return redisAppendCommand(s->r, "XADD %s * r %b", s->stream, s->frame, len) ==
		               REDIS_OK
		           ? 0
		           : -1;
	if (zmq_send(s->sock, s->frame, len, ZMQ_DONTWAIT) >= 0)
		return 0;
	return errno == EAGAIN ? 1 : -1;
}

/* Writes what redisAppendCommand queued (ZeroMQ sends by itself). */
static int
flush_sent(struct sender *s)
{
	if (s->r == NULL)
		return 0;
	int done = 0;
	while (!done)
		if (redisBufferWrite(s->r, &done) != REDIS_OK)
			return -1;
	return 0;
}

static int
drain(struct sender *s)
{
	return s->r != NULL ? redis_drain(s) : zmq_drain(s);
}

/* Waits for an answer at most timeout_ns; 1 something to read, 0 not, -1 failed. */
static int
wait_answer(struct sender *s, int64_t timeout_ns)
{
	if (s->r == NULL)
		return bench_wait_readable(s->sock, timeout_ns);
	struct pollfd pfd = {.fd = s->r->fd, .events = POLLIN};
	int64_t t = timeout_ns > 0 ? timeout_ns : 0;
	struct timespec ts = {.tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL};
	int rc = ppoll(&pfd, 1, &ts, NULL);
	return rc < 0 ? (errno == EINTR ? 0 : -1) : rc;
}

/* --- the sender's loop --------------------------------------------------- */

static int64_t
due_ns(const struct sender *s, uint64_t i)
{
	double interval = 1e9 / s->o->rate;
	/* Senders are spread over one interval so they do not fire together. */
	double offset = interval * s->idx / (double)s->o->senders;
	return s->run->t_start + (int64_t)(offset + interval * (double)i);
}

static bool
may_send(struct sender *s, int64_t now)
{
	switch (s->o->mode) {
	case MODE_WAIT:
		return s->inflight == 0;
	case MODE_WINDOW:
		return s->inflight < (uint64_t)s->o->window;
	case MODE_RATE:
		if (now < due_ns(s, s->next))
			return false;
		if (s->inflight >= LOAD_MAX_INFLIGHT) {
			s->slipped++;
			return false;
		}
		return true;
	}
	return false;
}

static bool
still_sending(const struct sender *s, int64_t now)
{
	if (s->o->count > 0)
		return s->next < (uint64_t)s->o->count;
	return now < s->run->t_end;
}

/* Makes room to remember the send time of message s->next. */
static int
sent_reserve(struct sender *s)
{
	if (s->next < s->sent_cap)
		return 0;
	size_t cap = s->sent_cap ? s->sent_cap * 2 : 65536;
	int64_t *p = realloc(s->sent_at, cap * sizeof *p);
	if (p == NULL)
		return -1;
	s->sent_at = p;
	s->sent_cap = cap;
	return 0;
}

/* Sends what the mode allows now; -1 when the connection failed. */
static int
send_allowed(struct sender *s)
{
	int64_t now = bench_now_ns();
	while (still_sending(s, now) && may_send(s, now)) {
		if (sent_reserve(s) != 0)
			return -1;
		int rc = send_one(s, s->next);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			s->blocked++;
			s->blocked_now = true;
			break;
		}
		s->blocked_now = false;
		if (s->first_send == 0)
			s->first_send = now;
		s->sent_at[s->next++] = now;
		s->inflight++;
		now = bench_now_ns();
	}
	return flush_sent(s);
}

/* How long to wait for an answer before there is something to send again. */
static int64_t
wait_budget(struct sender *s, int64_t now)
{
	int64_t until = s->run->deadline;
	if (still_sending(s, now)) {
		if (s->o->mode == MODE_RATE && s->inflight < LOAD_MAX_INFLIGHT)
			until = due_ns(s, s->next);
		if (s->o->count == 0 && s->run->t_end < until)
			until = s->run->t_end;
		if (s->blocked_now && now + LOAD_RETRY_NS < until)
			until = now + LOAD_RETRY_NS;
	}
	return until - now;
}

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	bench_sleep_ns(s->run->t_start - bench_now_ns());
	for (;;) {
		int64_t now = bench_now_ns();
		if (!still_sending(s, now) && s->inflight == 0)
			break;
		if (now >= s->run->deadline)
			break;
		/*
		 * Take the answers first, then send what they made room for, and
		 * only then wait. Sending, draining and then waiting, as this
		 * loop did, went wrong when the drain found the answer that made
		 * room (a sender late to drain, with --wait): the wait that
		 * followed, with nothing in flight, lasted to the end of the run,
		 * and runs of the hub and the reference alike "stood still".
		 * wait_answer returns at once when an answer is already there.
		 */
		if (drain(s) != 0 || send_allowed(s) != 0)
			goto fail;
		now = bench_now_ns();
		if (!still_sending(s, now) && s->inflight == 0)
			break;
		if (wait_answer(s, wait_budget(s, now)) < 0)
			goto fail;
	}
	return NULL;
fail:
	s->failed = 1;
	snprintf(s->error, sizeof s->error, "connection failed: %s",
	         s->r ? (s->r->errstr[0] ? s->r->errstr : "redis") : zmq_strerror(zmq_errno()));
	return NULL;
}

/* --- set-up and report --------------------------------------------------- */

static int
connect_sender(struct sender *s, void *ctx, char *err, size_t errlen)
{
	const struct options *o = s->o;
	if (o->redis_port > 0) {
		struct timeval tv = {.tv_sec = 5};
		s->r = redisConnectWithTimeout(o->redis_host, o->redis_port, tv);
		if (s->r == NULL || s->r->err) {
			snprintf(err, errlen, "redis %s:%d: %s", o->redis_host, o->redis_port,
			         s->r ? s->r->errstr : "out of memory");
			return -1;
		}
		/* The connect timeout also bounds every read and write. */
		tv.tv_sec = (time_t)o->timeout + 1;
		redisSetTimeout(s->r, tv);
		snprintf(s->stream, sizeof s->stream, "bench:%s", o->tag);
		return 0;
	}
	s->sock = bench_client_socket(ctx, ZMQ_DEALER, o->hub, &keys, err, errlen);
	if (s->sock == NULL)
		return -1;
	/* Room for a whole --rate backlog; the window modes never come near it. */
	bench_set_int(s->sock, ZMQ_SNDHWM, LOAD_MAX_INFLIGHT);
	bench_set_int(s->sock, ZMQ_RCVHWM, LOAD_MAX_INFLIGHT);
	return 0;
}

static void
sender_fini(struct sender *s)
{
	if (s->sock)
		zmq_close(s->sock);
	if (s->r)
		redisFree(s->r);
	free(s->sent_at);
	bench_samples_fini(&s->lat);
}

/* Removes the run's stream so Redis does not keep it in memory. */
static void
redis_cleanup(const struct options *o)
{
	struct timeval tv = {.tv_sec = 5};
	redisContext *r = redisConnectWithTimeout(o->redis_host, o->redis_port, tv);
	if (r != NULL && r->err == 0) {
		redisReply *reply = redisCommand(r, "DEL bench:%s", o->tag);
		if (reply)
			freeReplyObject(reply);
	}
	if (r)
		redisFree(r);
}

static const char *
mode_name(enum mode m)
{
	return m == MODE_WAIT ? "wait" : m == MODE_WINDOW ? "window" : "rate";
}

/* This process's CPU time (user and system, all threads) in microseconds. */
static double
cpu_us(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int
report(const struct options *o, const struct run *run, struct sender *s, size_t n)
{
	uint64_t sent = 0, acked = 0, in_window = 0, rejected = 0, strays = 0, slipped = 0,
	         blocked = 0;
	int64_t first = 0, last = 0;
	const char *error = "";
	struct bench_samples all = {0};
	for (size_t i = 0; i < n; i++) {
		sent += s[i].next;
		acked += s[i].acked;
		in_window += s[i].acked_in_window;
		rejected += s[i].rejected;
		strays += s[i].strays;
		slipped += s[i].slipped;
		blocked += s[i].blocked;
		if (s[i].first_send && (first == 0 || s[i].first_send < first))
			first = s[i].first_send;
		if (s[i].last_ack > last)
			last = s[i].last_ack;
		if (error[0] == '\0' && s[i].error[0])
			error = s[i].error;
		bench_samples_merge(&all, &s[i].lat);
	}
	double seconds =
	    o->count > 0 ? (double)(last - first) / 1e9 : (double)(run->t_end - run->t_warm) / 1e9;
	double per_s = seconds > 0 ? (double)(o->count > 0 ? acked : in_window) / seconds : 0;
	uint64_t lost = sent - acked;
	printf("bench-load: label=%s target=%s mode=%s senders=%ld window=%ld rate=%.0f "
	       "bytes=%zu sent=%" PRIu64 " acked=%" PRIu64 " in_window=%" PRIu64
	       " rejected=%" PRIu64 " lost=%" PRIu64 " strays=%" PRIu64 " slipped=%" PRIu64
	       " blocked=%" PRIu64 " missed_wakeups=%lu"
	       " seconds=%.3f per_s=%.1f samples=%zu p50_us=%u p99_us=%u max_us=%u"
	       " client_cpu_us=%.1f error=\"%s\"\n",
	       o->label, o->redis_port > 0 ? "redis" : "zmq", mode_name(o->mode), o->senders,
	       o->mode == MODE_WINDOW ? o->window
	       : o->mode == MODE_WAIT ? 1
	                              : 0,
	       o->mode == MODE_RATE ? o->rate : 0.0, bench_payload_size(&s[0].pl), sent, acked,
	       in_window, rejected, lost, strays, slipped, blocked,
	       atomic_load(&bench_missed_wakeups), seconds, per_s, all.n,
	       bench_samples_pct(&all, 50), bench_samples_pct(&all, 99),
	       bench_samples_pct(&all, 100), sent ? cpu_us() / (double)sent : 0.0, error);
	fflush(stdout);
	bench_samples_fini(&all);
	return rejected == 0 && lost == 0 && sent > 0 ? 0 : 1;
}

/* --- options --------------------------------------------------------------- */

static int
parse_redis(struct options *o, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	long port = 0;
	if (colon == NULL || (size_t)(colon - arg) >= sizeof o->redis_host ||
	    bench_parse_long("--redis port", colon + 1, 1, 65535, &port) != 0) {
		fprintf(stderr, "bench-load: --redis wants HOST:PORT\n");
		return -1;
	}
	snprintf(o->redis_host, sizeof o->redis_host, "%.*s", (int)(colon - arg), arg);
	o->redis_port = (int)port;
	return 0;
}

static int
parse_one(struct options *o, int c, const char *arg)
{
	switch (c) {
	case 'H':
		o->hub = arg;
		return 0;
	case 'C':
		o->hub_cert = arg;
		return 0;
	case 'c':
		o->cert = arg;
		return 0;
	case 'R':
		return parse_redis(o, arg);
	case 'n':
		return bench_parse_long("--senders", arg, 1, LOAD_MAX_SENDERS, &o->senders);
	case 'w':
		o->mode = MODE_WAIT;
		return 0;
	case 'W':
		o->mode = MODE_WINDOW;
		return bench_parse_long("--window", arg, 1, LOAD_MAX_INFLIGHT, &o->window);
	case 'r':
		o->mode = MODE_RATE;
		return bench_parse_double("--rate", arg, 1, 1e6, &o->rate);
	case 's':
		return bench_parse_double("--seconds", arg, 0.1, 3600, &o->seconds);
	case 'u':
		return bench_parse_double("--warmup", arg, 0, 600, &o->warmup);
	case 'T':
		return bench_parse_double("--timeout", arg, 1, 3600, &o->timeout);
	case 'N':
		return bench_parse_long("--count", arg, 1, 100000000, &o->count);
	case 'i':
		return bench_parse_long("--io-threads", arg, 1, 16, &o->io_threads);
	case 't':
		snprintf(o->tag, sizeof o->tag, "%s", arg);
		return 0;
	case 'l':
		snprintf(o->label, sizeof o->label, "%s", arg);
		return 0;
	}
	return -1;
}

static int
parse_options(struct options *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"hub", required_argument, NULL, 'H'},
	    {"hub-cert", required_argument, NULL, 'C'},
	    {"cert", required_argument, NULL, 'c'},
	    {"redis", required_argument, NULL, 'R'},
	    {"senders", required_argument, NULL, 'n'},
	    {"wait", no_argument, NULL, 'w'},
	    {"window", required_argument, NULL, 'W'},
	    {"rate", required_argument, NULL, 'r'},
	    {"seconds", required_argument, NULL, 's'},
	    {"warmup", required_argument, NULL, 'u'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"count", required_argument, NULL, 'N'},
	    {"io-threads", required_argument, NULL, 'i'},
	    {"tag", required_argument, NULL, 't'},
	    {"label", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct options){
	    .senders = 1, .mode = -1, .seconds = 5, .warmup = 1, .timeout = 30, .io_threads = 1};
	snprintf(o->tag, sizeof o->tag, "%lx%x", (unsigned long)time(NULL) & 0xffffff,
	         (unsigned)getpid() & 0xffff);
	snprintf(o->label, sizeof o->label, "-");
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (parse_one(o, c, optarg) != 0)
			return -1;
	}
	if (optind != argc || (int)o->mode < 0) {
		usage(stderr);
		return -1;
	}
	if (o->redis_port == 0 && (o->hub == NULL || o->hub_cert == NULL || o->cert == NULL)) {
		fprintf(stderr, "bench-load: give --hub, --hub-cert and --cert, or --redis\n");
		return -1;
	}
	for (const char *p = o->tag; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
			fprintf(stderr, "bench-load: --tag: [a-z0-9-] only\n");
			return -1;
		}
	return 0;
}

static void
plan_run(const struct options *o, struct run *run)
{
	run->t_start = bench_now_ns() + LOAD_CONNECT_MS * 1000000LL;
	if (o->count > 0) {
		run->t_warm = run->t_start;
		run->t_end = INT64_MAX / 2;
		run->deadline = run->t_start + (int64_t)(o->timeout * 1e9);
	} else {
		run->t_warm = run->t_start + (int64_t)(o->warmup * 1e9);
		run->t_end = run->t_warm + (int64_t)(o->seconds * 1e9);
		run->deadline = run->t_end + (int64_t)(o->timeout * 1e9);
	}
}

int
main(int argc, char **argv)
{
	struct options o;
	if (parse_options(&o, argc, argv) != 0)
		return 2;
	char err[512];
	if (o.redis_port == 0 && bench_keys_load(&keys, o.hub_cert, o.cert, err, sizeof err)) {
		fprintf(stderr, "bench-load: %s\n", err);
		return 2;
	}
	void *ctx = NULL;
	if (o.redis_port == 0) {
		ctx = zmq_ctx_new();
		if (ctx == NULL || zmq_ctx_set(ctx, ZMQ_IO_THREADS, (int)o.io_threads) != 0) {
			fprintf(stderr, "bench-load: cannot make a ZeroMQ context\n");
			return 2;
		}
	}
	struct run run;
	struct sender *s = calloc((size_t)o.senders, sizeof *s);
	int rc = s ? 0 : 2;
	size_t started = 0;
	for (long i = 0; rc == 0 && i < o.senders; i++) {
		s[i] = (struct sender){.o = &o, .run = &run, .idx = (unsigned)i};
		bench_payload_init(&s[i].pl, o.tag);
		if (connect_sender(&s[i], ctx, err, sizeof err) != 0) {
			fprintf(stderr, "bench-load: %s\n", err);
			rc = 2;
		}
	}
	plan_run(&o, &run);
	for (long i = 0; rc == 0 && i < o.senders; i++, started++)
		if (pthread_create(&s[i].thread, NULL, sender_main, &s[i]) != 0)
			rc = 2;
	for (size_t i = 0; i < started; i++)
		pthread_join(s[i].thread, NULL);
	if (rc == 0) {
		rc = report(&o, &run, s, (size_t)o.senders);
		for (long i = 0; i < o.senders; i++)
			if (s[i].failed) {
				fprintf(stderr, "bench-load: sender %ld: %s\n", i, s[i].error);
				rc = 2;
			}
	}
	for (long i = 0; s && i < o.senders; i++)
		sender_fini(&s[i]);
	free(s);
	if (o.redis_port > 0)
		redis_cleanup(&o);
	if (ctx)
		zmq_ctx_term(ctx);
	bench_keys_wipe(&keys);
	return rc;
}
