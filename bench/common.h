/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench common: what the benchmark programs share. Monotonic time and
 * precise waits, latency samples and their percentiles, number options
 * checked for range, CURVE keys read from the same certificate files the
 * hub's clients use, CURVE sockets (clients and servers, every server with
 * a ZAP handler that admits only the keys in a certificate directory, as
 * the hub's does), and the ~300-byte report every program sends.
 *
 * Nothing here is part of the hub; the programs in bench/ are built with
 * the project but never installed.
 */
#ifndef ESTHUB_BENCH_COMMON_H
#define ESTHUB_BENCH_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "est.pb-c.h"

/* --- time ---------------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* Sleeps ns nanoseconds (nothing when ns <= 0). */
void bench_sleep_ns(int64_t ns);

/*
 * Waits until sock has a message to receive or timeout_ns passes, with
 * microsecond precision (zmq_poll counts in milliseconds). 1 readable,
 * 0 timed out, -1 on a socket error.
 */
int bench_wait_readable(void *sock, int64_t timeout_ns);
/* Waits of bench_wait_readable that found an answer no wake-up had announced. */
extern atomic_ulong bench_missed_wakeups;
#define BENCH_WAIT_SLICE_NS 5000000LL

/* --- samples ------------------------------------------------------------- */

/* Latencies in microseconds; grows as needed up to BENCH_SAMPLES_MAX. */
#define BENCH_SAMPLES_MAX (64u * 1024 * 1024)
struct bench_samples {
	uint32_t *v;
	size_t n;
	size_t cap;
	bool sorted;
};

/* Adds one sample; -1 when out of memory or past the cap (the sample is dropped). */
int bench_samples_add(struct bench_samples *s, uint32_t us);
/* Appends every sample of from to into; -1 when out of memory. */
int bench_samples_merge(struct bench_samples *into, const struct bench_samples *from);
/* The p-th percentile (0..100, nearest rank), sorting once; 0 when there are no samples. */
uint32_t bench_samples_pct(struct bench_samples *s, double p);
void bench_samples_fini(struct bench_samples *s);

/* --- options ------------------------------------------------------------- */

/* Parses s as an integer in min..max; on failure says why (naming opt) and returns -1. */
int bench_parse_long(const char *opt, const char *s, long min, long max, long *out);
/* Parses s as a number in min..max; on failure says why and returns -1. */
int bench_parse_double(const char *opt, const char *s, double min, double max, double *out);

/* --- keys and sockets ---------------------------------------------------- */

/* A CURVE identity: our own keys and (clients) the server's public key. */
struct bench_keys {
	uint8_t server_public[32];
	uint8_t public_key[32];
	uint8_t secret_key[32];
	bool have_server;
};

/*
 * Reads our keys from a secret certificate file (mode 0600) and, when
 * server_cert is not NULL, the server's public key from its certificate.
 * 0, or -1 with the reason in err.
 */
int bench_keys_load(struct bench_keys *k, const char *server_cert, const char *secret_cert,
                    char *err, size_t errlen);
/* Wipes the secret key. */
void bench_keys_wipe(struct bench_keys *k);

/* A new CURVE client socket of type (DEALER) connected to ep; NULL with the reason in err. */
void *bench_client_socket(void *ctx, int type, const char *ep, const struct bench_keys *k,
                          char *err, size_t errlen);

/*
 * Starts czmq's ZAP handler admitting only the public keys in certs_dir
 * (deny by default, as the hub's auth module does). Call it before any
 * CURVE server binds. NULL with the reason in err.
 */
zactor_t *bench_zap_start(const char *certs_dir, char *err, size_t errlen);

/*
 * A new CURVE server socket of type (ROUTER) bound to ep in the czmq
 * context (zsys_init), linger linger_ms. The real endpoint goes to bound.
 * NULL with the reason in err.
 */
void *bench_server_socket(int type, const char *ep, const struct bench_keys *k, int linger_ms,
                          char *bound, size_t boundlen, char *err, size_t errlen);

/* Sets an int socket option; 0 or -1. */
int bench_set_int(void *sock, int opt, int v);

/* --- the payload ----------------------------------------------------------- */

/* The size every benchmark's report envelope is padded to, in bytes. */
#define BENCH_ENVELOPE_BYTES 300

/*
 * One valid report as a partner would send it: a gathering in Hageby given
 * by its position (the hub assigns the area), with a description padded so
 * that the Envelope carrying it packs to about BENCH_ENVELOPE_BYTES.
 * source_id is "b-TAG-SENDER-INDEX" with fixed-width numbers, unique per
 * (tag, sender, index). The struct owns its strings.
 */
struct bench_payload {
	Est__V1__Envelope env;
	Est__V1__ReportBatch batch;
	Est__V1__Report report;
	Est__V1__Report *reports[1];
	Est__V1__Position pos;
	char tag[24];
	char source_id[64];
	char description[512];
};

/* Initialises p with tag (at most 16 characters) and observed_at = now - 60 s. */
void bench_payload_init(struct bench_payload *p, const char *tag);

/* Sets the report's source_id for (sender, index) and the envelope's request_id. */
void bench_payload_set(struct bench_payload *p, unsigned sender, uint64_t index,
                       uint64_t request_id);

/* Packed size of the envelope as it stands. */
size_t bench_payload_size(const struct bench_payload *p);

/* Packs the envelope into buf (bench_payload_size bytes); returns the length. */
size_t bench_payload_pack(const struct bench_payload *p, uint8_t *buf);

/*
 * The size of the FeedEvent frame the hub sends for this report (LogEntry
 * with seq, logged_at, org, topic, hash and the report with its area set).
 */
size_t bench_payload_feed_frame_size(const struct bench_payload *p, const char *org);

#endif
