/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench common: time, samples, options, CURVE sockets and the payload
 * shared by the benchmark programs (see common.h).
 */
#define _GNU_SOURCE /* ppoll */
#include "common.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "wire/cert.h"
#include "wire/crypto.h"

/* A point in Hageby (the sample week's police report at Hageby centrum). */
#define PAYLOAD_LAT 58.5671
#define PAYLOAD_LON 16.1869

/* --- time ---------------------------------------------------------------- */

int64_t
bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
bench_sleep_ns(int64_t ns)
{
	if (ns <= 0)
		return;
	struct timespec ts = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

atomic_ulong bench_missed_wakeups;

int
bench_wait_readable(void *sock, int64_t timeout_ns)
{
	int64_t deadline = bench_now_ns() + (timeout_ns > 0 ? timeout_ns : 0);
	int fd = -1;
	size_t len = sizeof fd;
	if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0)
		return -1;
	/*
	 * ZMQ_FD only signals that ZMQ_EVENTS should be read again; read it
	 * before every wait. Each wait is at most BENCH_WAIT_SLICE_NS: a quick
	 * run once saw a sender sit out the rest of its run with its answer
	 * already in the socket (an edge of ZMQ_FD missed somewhere), so a
	 * whole slice that ends quietly with an answer there is counted (a
	 * missed wake-up, or an answer that came just as the slice ended).
	 */
	bool timed_out = false;
	for (;;) {
		int events = 0;
		len = sizeof events;
		if (zmq_getsockopt(sock, ZMQ_EVENTS, &events, &len) != 0)
			return errno == EINTR ? 0 : -1;
		if (events & ZMQ_POLLIN) {
			if (timed_out)
				atomic_fetch_add(&bench_missed_wakeups, 1);
			return 1;
		}
		int64_t left = deadline - bench_now_ns();
		if (left <= 0)
			return 0;
		bool whole = left > BENCH_WAIT_SLICE_NS;
		if (whole)
			left = BENCH_WAIT_SLICE_NS;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		struct timespec ts = {.tv_sec = left / 1000000000LL,
		                      .tv_nsec = left % 1000000000LL};
		int rc = ppoll(&pfd, 1, &ts, NULL);
		if (rc < 0 && errno != EINTR)
			return -1;
		timed_out = rc == 0 && whole;
	}
}

/* --- samples ------------------------------------------------------------- */

int
bench_samples_add(struct bench_samples *s, uint32_t us)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		if (cap > BENCH_SAMPLES_MAX)
			cap = BENCH_SAMPLES_MAX;
		if (cap == s->cap)
			return -1;
		uint32_t *v = realloc(s->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = us;
	s->sorted = false;
	return 0;
}

int
bench_samples_merge(struct bench_samples *into, const struct bench_samples *from)
{
	for (size_t i = 0; i < from->n; i++)
		if (bench_samples_add(into, from->v[i]) != 0)
			return -1;
	return 0;
}

static int
by_value(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

uint32_t
bench_samples_pct(struct bench_samples *s, double p)
{
	if (s->n == 0)
		return 0;
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof *s->v, by_value);
		s->sorted = true;
	}
	/* Nearest rank: the smallest sample with at least p% of samples at or below it. */
	double rank = ceil(p / 100.0 * (double)s->n);
	size_t i = rank < 1 ? 0 : (size_t)rank - 1;
	return s->v[i < s->n ? i : s->n - 1];
}

void
bench_samples_fini(struct bench_samples *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* --- options ------------------------------------------------------------- */

int
bench_parse_long(const char *opt, const char *s, long min, long max, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "%s: \"%s\" is not a whole number in %ld..%ld\n", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int
bench_parse_double(const char *opt, const char *s, double min, double max, double *out)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max) {
		fprintf(stderr, "%s: \"%s\" is not a number in %g..%g\n", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* --- keys and sockets ---------------------------------------------------- */

int
bench_keys_load(struct bench_keys *k, const char *server_cert, const char *secret_cert, char *err,
                size_t errlen)
{
	memset(k, 0, sizeof *k);
	if (server_cert != NULL) {
		if (cert_read_public_key(server_cert, k->server_public, err, errlen) != 0)
			return -1;
		k->have_server = true;
	}
	zcert_t *cert = cert_load_secret(secret_cert, err, errlen);
	if (cert == NULL)
		return -1;
	memcpy(k->public_key, zcert_public_key(cert), 32);
	memcpy(k->secret_key, zcert_secret_key(cert), 32);
	cert_destroy(&cert);
	return 0;
}

void
bench_keys_wipe(struct bench_keys *k)
{
	crypto_wipe(k->secret_key, sizeof k->secret_key);
}

int
bench_set_int(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof v);
}

void *
bench_client_socket(void *ctx, int type, const char *ep, const struct bench_keys *k, char *err,
                    size_t errlen)
{
	void *s = zmq_socket(ctx, type);
	if (s == NULL || !k->have_server ||
	    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, k->server_public, 32) ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, k->public_key, 32) ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->secret_key, 32) ||
	    bench_set_int(s, ZMQ_LINGER, 0) || zmq_connect(s, ep) != 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", ep,
		         k->have_server ? zmq_strerror(zmq_errno()) : "no server key");
		if (s)
			zmq_close(s);
		return NULL;
	}
	return s;
}

zactor_t *
bench_zap_start(const char *certs_dir, char *err, size_t errlen)
{
	zactor_t *zap = zactor_new(zauth, NULL);
	if (zap == NULL) {
		snprintf(err, errlen, "cannot start the ZAP handler");
		return NULL;
	}
	if (zstr_sendx(zap, "CURVE", certs_dir, NULL) != 0 || zsock_wait(zap) != 0) {
		snprintf(err, errlen, "cannot configure CURVE authentication for %s", certs_dir);
		zactor_destroy(&zap);
		return NULL;
	}
	return zap;
}

void *
bench_server_socket(int type, const char *ep, const struct bench_keys *k, int linger_ms,
                    char *bound, size_t boundlen, char *err, size_t errlen)
{
	void *s = zmq_socket(zsys_init(), type);
	if (s == NULL || bench_set_int(s, ZMQ_CURVE_SERVER, 1) ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->secret_key, 32) ||
	    bench_set_int(s, ZMQ_LINGER, linger_ms) || zmq_bind(s, ep) != 0) {
		snprintf(err, errlen, "cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
		if (s)
			zmq_close(s);
		return NULL;
	}
	size_t len = boundlen;
	if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, bound, &len) != 0)
		snprintf(bound, boundlen, "%s", ep);
	return s;
}

/* --- the payload ----------------------------------------------------------- */

static const char payload_text[] =
    "Grupp om cirka tjugo ungdomar vid entrén till Hageby centrum under kvällen; "
    "besökare och personal upplevde oro, en dörr skadades och pyroteknik avfyrades "
    "mot parkeringen. Fältassistenterna var på plats och samtalade med gruppen. "
    "Platsen behöver ses över: belysningen vid trapphuset är trasig.";

void
bench_payload_init(struct bench_payload *p, const char *tag)
{
	memset(p, 0, sizeof *p);
	snprintf(p->tag, sizeof p->tag, "%.16s", tag);
	est__v1__envelope__init(&p->env);
	est__v1__report_batch__init(&p->batch);
	est__v1__report__init(&p->report);
	est__v1__position__init(&p->pos);
	p->pos.lat = PAYLOAD_LAT;
	p->pos.lon = PAYLOAD_LON;
	p->report.category = EST__V1__CATEGORY__CATEGORY_GATHERING;
	p->report.subcategory = "gathering_entrance";
	p->report.place = "Hageby centrum, huvudentrén";
	p->report.position = &p->pos;
	p->report.observed_at = (int64_t)time(NULL) - 60;
	p->report.severity = 3;
	p->report.people_count = 20;
	p->report.reporter_role = "fältassistent";
	p->report.source_id = p->source_id;
	p->report.description = p->description;
	p->reports[0] = &p->report;
	p->batch.n_reports = 1;
	p->batch.reports = p->reports;
	p->env.version = 1;
	p->env.body_case = EST__V1__ENVELOPE__BODY_REPORTS;
	p->env.reports = &p->batch;
	/* Pad the description so the envelope lands on the target size (a typical request_id). */
	bench_payload_set(p, 0, 0, 100000);
	size_t base = bench_payload_size(p);
	size_t want = base < BENCH_ENVELOPE_BYTES ? BENCH_ENVELOPE_BYTES - base : 0;
	if (want >= sizeof p->description)
		want = sizeof p->description - 1;
	if (want > sizeof payload_text - 1)
		want = sizeof payload_text - 1;
	memcpy(p->description, payload_text, want);
	/* Never cut a UTF-8 sequence in half: back off to a character boundary. */
	while (want > 0 && ((unsigned char)p->description[want] & 0xc0) == 0x80)
		want--;
	p->description[want] = '\0';
	/* Growing the string by one byte may widen its length prefix: trim until it fits. */
	while (want > 0 && bench_payload_size(p) > BENCH_ENVELOPE_BYTES) {
		p->description[--want] = '\0';
		while (want > 0 && ((unsigned char)p->description[want] & 0xc0) == 0x80)
			p->description[--want] = '\0';
	}
}

void
bench_payload_set(struct bench_payload *p, unsigned sender, uint64_t index, uint64_t request_id)
{
	snprintf(p->source_id, sizeof p->source_id, "b-%s-%03u-%010llu", p->tag, sender % 1000,
	         (unsigned long long)index);
	p->env.request_id = request_id;
}

size_t
bench_payload_size(const struct bench_payload *p)
{
	return est__v1__envelope__get_packed_size(&p->env);
}

size_t
bench_payload_pack(const struct bench_payload *p, uint8_t *buf)
{
	return est__v1__envelope__pack(&p->env, buf);
}

size_t
bench_payload_feed_frame_size(const struct bench_payload *p, const char *org)
{
	Est__V1__Report r = p->report;
	r.area = "hageby";
	uint8_t hash[32] = {0};
	Est__V1__LogEntry e;
	est__v1__log_entry__init(&e);
	e.seq = 1000000;
	e.logged_at = (int64_t)time(NULL);
	e.org = (char *)(uintptr_t)org;
	e.topic = "hageby/reports";
	e.hash.data = hash;
	e.hash.len = sizeof hash;
	e.body_case = EST__V1__LOG_ENTRY__BODY_REPORT;
	e.report = &r;
	Est__V1__FeedEvent ev;
	est__v1__feed_event__init(&ev);
	ev.body_case = EST__V1__FEED_EVENT__BODY_ENTRY;
	ev.entry = &e;
	return est__v1__feed_event__get_packed_size(&ev);
}
