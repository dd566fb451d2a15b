/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hub: start-up in the order the data flows, the event loop, and an orderly
 * stop (see hub.h). The loop body reads as a table of contents: poll,
 * ingest (receive, judge, commit, acknowledge), feed, control, pictures
 * back from the compile thread (compiler.h), timers.
 */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "hub.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>

#include "areas.h"
#include "audit.h"
#include "auth.h"
#include "checkpoint.h"
#include "compiler.h"
#include "config.h"
#include "control.h"
#include "feed.h"
#include "ingest.h"
#include "instance.h"
#include "iosched.h"
#include "log.h"
#include "measure.h"
#include "measure_ctl.h"
#include "picture.h"
#include "retention.h"
#include "schedule.h"
#include "space.h"
#include "week.h"
#include "wire/cert.h"
#include "wire/codec.h"
#include "wire/diag.h"
#include "wire/ids.h"
#include "wire/timefmt.h"
#include "zfd.h"

#define HUB_TICK_MS 500
#define HUB_IDLE_MS 250
/* Messages that may wait for one subscriber (its credit bounds them first). */
#define FEED_SNDHWM 10000
/*
 * The reports the picture store holds in detail: those of the last 15
 * weeks, so the 14 weeks a weekly or live compile merges (the week before
 * the current one back 12 more, and the week after) are always there, and
 * the horizon moves on a week at a time (picture.h). Held for a year's
 * log, every report took 40 bytes: 38 MiB of the hub's 61 at a million.
 */
#define HUB_PICTURE_DETAIL_S (15 * 7 * 86400)
#define HUB_PICTURE_SLACK_S  (7 * 86400)

/* No envelope for this long: a pause in which a due live picture is compiled (schedule.h). */
#define HUB_QUIET_MS 500

/* What the compile on the compiler thread is for (compiler.h: one at a time). */
enum compile_for {
	COMPILE_NONE,
	COMPILE_WEEK, /* the scheduled picture of the week that ended */
	COMPILE_LIVE, /* the live picture of the current week */
	COMPILE_CTL,  /* estctl picture compile: answered when done */
};

struct compile_job {
	enum compile_for kind;
	char week[16];
	char area[IDS_TOPIC_MAX + 1]; /* the one picture logged, "" for every area and `all` */
	int64_t snapshot_ms;          /* how long the loop took for the snapshot */
	int64_t started_ms;           /* when the thread got it (timefmt_mono_ms) */
};

static volatile sig_atomic_t stop_requested;

static void
on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

struct hub {
	const char *dir;
	struct config cfg;
	struct areas *areas;
	struct auth *auth;
	struct log *lg;
	void *ctx;
	void *ingest_sock;
	void *feed_sock;
	struct zfd ingest_z, feed_z; /* the two polled by their ZMQ_FD (zfd.h) */
	void *handshakes[2]; /* monitors of the ingest and feed sockets (see monitor_open) */
	struct control *control;
	struct feed *feed;
	struct ingest *ingest;
	struct picture_store *pictures;
	struct picture_rules rules;
	struct scheduler sched;
	struct compiler *compiler;      /* the pictures' thread */
	struct compile_job job;         /* the compile in flight (COMPILE_NONE: none) */
	struct compile_job ctl_waiting; /* estctl's, asked while another ran (COMPILE_NONE: none) */
	bool ctl_open; /* a control request awaits its reply: the socket is not read meanwhile */
	struct checkpoints *checkpoints; /* signing key and checkpoint timer */
	struct measures *measures;
	struct retention_rules retention; /* gallring (retention.h) */
	int64_t purge_next;               /* when the daily purge is due next */
	struct space_watch space;         /* the store's filesystem (space.h) */
	struct iosched iosched;           /* ZeroMQ's I/O threads' policy by the load (iosched.h) */
	char data_dir[4096];
	int lock_fd;
	int64_t started_at;
	char ingest_ep[256];
	char feed_ep[256];
};

static int
set_int(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof v);
}

/*
 * A CURVE server ROUTER bound to ep that queues at most sndhwm messages a
 * peer and never drops one silently (ZMQ_ROUTER_MANDATORY: a send to a
 * full or gone peer fails instead); the real endpoint goes to bound. Every
 * option is set before zmq_bind: the connections it accepts take the
 * options as they were at bind time.
 */
static void *
bind_router(struct hub *h, zcert_t *cert, const char *ep, int sndhwm, char *bound, size_t boundlen,
            char *err, size_t errlen)
{
	void *s = zmq_socket(h->ctx, ZMQ_ROUTER);
	/* A hard ceiling well above the configured limit: libzmq drops the
	 * connection silently past it, so frames between the two get an Ack. */
	int64_t ceiling = h->cfg.max_frame_bytes * 4 + 4096;
	if (s == NULL || set_int(s, ZMQ_CURVE_SERVER, 1) ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, zcert_secret_key(cert), 32) ||
	    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &ceiling, sizeof ceiling) ||
	    set_int(s, ZMQ_LINGER, 2000) || set_int(s, ZMQ_HEARTBEAT_IVL, 2000) ||
	    set_int(s, ZMQ_HEARTBEAT_TIMEOUT, 6000) || set_int(s, ZMQ_SNDHWM, sndhwm) ||
	    set_int(s, ZMQ_ROUTER_MANDATORY, 1) || zmq_bind(s, ep) != 0) {
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

/*
 * Whether ZeroMQ's I/O threads may be put in SCHED_BATCH: only when the hub
 * runs in the normal policy (one an administrator chose, such as a
 * real-time one, stays theirs), and only where this thread can take
 * SCHED_BATCH and leave it again. libzmq aborts where its threads cannot
 * (a sandbox that filters sched_setscheduler), so this asks first. When
 * not, why in err.
 */
static bool
batch_allowed(char *err, size_t errlen)
{
	struct sched_param was, zero = {0};
	int policy = -1, rc = pthread_getschedparam(pthread_self(), &policy, &was);
	const char *step = "cannot read its scheduling policy";
	if (rc == 0 && policy != SCHED_OTHER) {
		snprintf(err, errlen, "it runs in %s",
		         policy == SCHED_FIFO    ? "SCHED_FIFO"
		         : policy == SCHED_RR    ? "SCHED_RR"
		         : policy == SCHED_BATCH ? "SCHED_BATCH"
		         : policy == SCHED_IDLE  ? "SCHED_IDLE"
		                                 : "another scheduling policy");
		return false;
	}
	if (rc == 0) {
		step = "cannot set SCHED_BATCH";
		rc = pthread_setschedparam(pthread_self(), SCHED_BATCH, &zero);
	}
	if (rc == 0) {
		step = "cannot leave SCHED_BATCH again";
		rc = pthread_setschedparam(pthread_self(), SCHED_OTHER, &was);
	}
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", step, strerror(rc));
	return rc == 0;
}

/* Only one hub may write an instance's log. */
static int
take_lock(struct hub *h, char *err, size_t errlen)
{
	h->lock_fd = instance_lock(h->dir, err, errlen);
	return h->lock_fd < 0 ? -1 : 0;
}

static int
load_settings(struct hub *h)
{
	char path[4096];
	instance_path(path, sizeof path, h->dir, INSTANCE_CONF);
	int problems = config_load(&h->cfg, path, stderr);
	instance_path(path, sizeof path, h->dir, INSTANCE_AREAS);
	int area_problems = 0;
	h->areas = areas_load(path, stderr, &area_problems);
	if (problems != 0 || h->areas == NULL) {
		diag_say("configuration has problems (see above); esthub check %s lists them",
		         h->dir);
		return -1;
	}
	return 0;
}

static int
open_sockets(struct hub *h, char *err, size_t errlen)
{
	char path[4096];
	instance_path(path, sizeof path, h->dir, INSTANCE_HUB_SECRET);
	zcert_t *cert = cert_load_secret(path, err, errlen);
	if (cert == NULL)
		return -1;
	/*
	 * Ingest: a sender may leave INGEST_ACK_HWM acks unread before ingest
	 * counts and tells their loss (libzmq's default of 1,000 dropped acks
	 * silently when a sender with more in flight was answered after a
	 * pause). Feed: a subscriber's credit bounds what waits for it; the
	 * feed learns at once when one is gone, and never blocks the loop.
	 */
	h->ingest_sock = bind_router(h, cert, h->cfg.ingest, INGEST_ACK_HWM, h->ingest_ep,
	                             sizeof h->ingest_ep, err, errlen);
	h->feed_sock = h->ingest_sock ? bind_router(h, cert, h->cfg.feed, FEED_SNDHWM, h->feed_ep,
	                                            sizeof h->feed_ep, err, errlen)
	                              : NULL;
	cert_destroy(&cert);
	if (h->feed_sock == NULL)
		return -1;
	h->control = control_new(h->ctx, h->dir, err, errlen);
	return h->control ? 0 : -1;
}

/* --- handshakes zauth refused ------------------------------------------ */

static const char *const handshake_names[2] = {"ingest", "feed"};

/*
 * A key without a certificate never reaches the hub's code: zauth refuses
 * it in the CURVE handshake. A socket monitor tells the hub that it
 * happened (not who: the key is no client's, and keys are never logged),
 * so the administrators see it on all/audit, coalesced like every refusal.
 */
static void *
monitor_open(struct hub *h, void *sock, const char *name)
{
	char ep[64];
	snprintf(ep, sizeof ep, "inproc://esthub-handshakes-%s", name);
	void *m = NULL;
	if (zmq_socket_monitor(sock, ep, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == 0 &&
	    (m = zmq_socket(h->ctx, ZMQ_PAIR)) != NULL &&
	    (set_int(m, ZMQ_LINGER, 0) != 0 || zmq_connect(m, ep) != 0)) {
		zmq_close(m);
		m = NULL;
	}
	if (m == NULL)
		diag_say("refused handshakes on the %s endpoint are not audited: %s", name,
		         zmq_strerror(zmq_errno()));
	return m;
}

/* Audits every refused handshake the monitor m reported. */
static void
monitor_read(void *m, const char *name)
{
	for (;;) {
		zmq_msg_t ev, addr;
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, m, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			return;
		}
		/* Frame 1: event (uint16) and value (uint32); frame 2: the endpoint. */
		zmq_msg_init(&addr);
		if (zmq_msg_more(&ev))
			(void)zmq_msg_recv(&addr, m, 0);
		uint16_t event = 0;
		uint32_t value = 0;
		if (zmq_msg_size(&ev) >= 6) {
			memcpy(&event, zmq_msg_data(&ev), sizeof event);
			memcpy(&value, (const uint8_t *)zmq_msg_data(&ev) + 2, sizeof value);
		}
		if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
			audit_refusal(AUDIT_HANDSHAKE_REFUSED, "",
			              "a connection to the %s endpoint was refused in the CURVE "
			              "handshake (ZAP status %u): its key has no certificate here",
			              name, (unsigned)value);
		zmq_msg_close(&addr);
		zmq_msg_close(&ev);
	}
}

/* Where load_pictures hands the measure entries it passes over. */
struct load_measure_ctx {
	struct measures *ms;
	char *err;
	size_t errlen;
};

/* A measure entry (topic AREA/measures, as measures_load picks them) into the registry. */
static int
load_measure(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
             const uint8_t *hash)
{
	struct load_measure_ctx *lm = arg;
	const char *slash = strchr(topic, '/');
	(void)hash;
	if (slash == NULL || strcmp(slash + 1, "measures") != 0)
		return 0;
	return measures_take(lm->ms, seq, body, body_len, lm->err, lm->errlen) == 0 ? 0 : -1;
}

/*
 * What the pictures are compiled from: every current report of the log,
 * the rules of hub.conf, and when they are made (schedule.h). The store
 * also learns from the log's pictures whether the last scheduled week is
 * in the log already. The measure registry is filled in the same pass:
 * reading a million entries once rather than twice is most of start-up.
 */
static int
load_pictures(struct hub *h, char *err, size_t errlen)
{
	struct schedule_spec spec;
	if (schedule_configure(&h->cfg, &h->rules, &spec, err, errlen) != 0)
		return -1;
	h->pictures = picture_store_new();
	h->measures = measures_new();
	if (h->pictures == NULL || h->measures == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((h->compiler = compiler_new(err, errlen)) == NULL)
		return -1;
	scheduler_init(&h->sched, &spec, h->cfg.live_interval_seconds, timefmt_now());
	struct load_measure_ctx lm = {h->measures, err, errlen};
	picture_store_set_horizon(h->pictures, timefmt_now() - HUB_PICTURE_DETAIL_S);
	if (picture_store_load_also(h->pictures, h->lg, 0, load_measure, &lm, err, errlen) != 0)
		return -1;
	scheduler_start(&h->sched, picture_store_current(h->pictures) > 0, timefmt_now());
	return 0;
}

/* Keeps the measure registry current with a committed measure entry. */
static void
take_measure(struct hub *h, const struct log_item *it)
{
	char err[256];
	if (measures_take(h->measures, it->seq, it->body, it->body_len, err, sizeof err) != 0)
		diag_say("measures: seq %llu not taken: %s", (unsigned long long)it->seq, err);
}

/* ingest's commit hook: new entries go to the feed, the picture store and the measures. */
static void
on_commit(void *arg, const struct log_item *items, size_t n)
{
	struct hub *h = arg;
	for (size_t i = 0; i < n; i++) {
		const Est__V1__LogEntry *e = items[i].entry;
		if (items[i].status == EST__V1__STATUS__STATUS_ACCEPTED &&
		    e->body_case == EST__V1__LOG_ENTRY__BODY_REPORT)
			picture_store_prefetch(h->pictures, e->org, e->report->source_id);
	}
	feed_publish(h->feed, items, n);
	for (size_t i = 0; i < n; i++) {
		const Est__V1__LogEntry *e = items[i].entry;
		if (items[i].status == EST__V1__STATUS__STATUS_ACCEPTED &&
		    e->body_case == EST__V1__LOG_ENTRY__BODY_MEASURE)
			take_measure(h, &items[i]);
		if (items[i].status != EST__V1__STATUS__STATUS_ACCEPTED ||
		    e->body_case != EST__V1__LOG_ENTRY__BODY_REPORT)
			continue;
		scheduler_changed(&h->sched, timefmt_now());
		if (picture_store_add(h->pictures, items[i].seq, e->org, e->report->area,
		                      e->report) != 0)
			diag_say("pictures: report seq %llu is not counted in the pictures",
			         (unsigned long long)items[i].seq);
	}
}

/*
 * The stores in memory again from the log after a purge, so the running hub
 * counts what a restart would count: purged reports no longer add to the
 * pictures, purged measures are gone. The old stores stay when this fails.
 */
static int
reload_stores(struct hub *h, char *err, size_t errlen)
{
	struct picture_store *ps = picture_store_new();
	struct measures *ms = measures_new();
	struct load_measure_ctx lm = {ms, err, errlen}; /* one pass over the log, as at start-up */
	if (ps == NULL || ms == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	picture_store_set_horizon(ps, picture_store_horizon(h->pictures));
	if (picture_store_load_also(ps, h->lg, 0, load_measure, &lm, err, errlen) == 0) {
		picture_store_destroy(&h->pictures);
		measures_destroy(&h->measures);
		h->pictures = ps;
		h->measures = ms;
		if (h->ingest != NULL)
			ingest_set_measures(h->ingest, ms);
		return 0;
	}
fail:
	picture_store_destroy(&ps);
	measures_destroy(&ms);
	return -1;
}

/*
 * Gallring (retention.h): removes the content of what expired, drops it
 * from the feed's cache (subscribers get purged entries from no one) and
 * reloads the stores. text gets what went, per kind and category. client:
 * who asked ("estctl"), or NULL for the daily timer and start-up.
 */
static int
purge_run(struct hub *h, const char *client, char *text, size_t textlen)
{
	char err[512];
	struct retention_plan *plan = NULL;
	int64_t now = timefmt_now();
	if (retention_purge(h->lg, &h->retention, now, 0, &plan, err, sizeof err) != 0) {
		snprintf(text, textlen, "purge failed: %s", err);
		diag_say("%s", text);
		return -1;
	}
	size_t n = 0;
	const uint64_t *seqs = retention_plan_seqs(plan, &n);
	for (size_t i = 0; h->feed != NULL && i < n; i++)
		feed_forget(h->feed, seqs[i]);
	uint64_t total = retention_plan_format(plan, text, textlen);
	retention_plan_destroy(&plan);
	/* At start-up the stores are not loaded yet: they will load what remains. */
	if (total > 0 && h->pictures != NULL && reload_stores(h, err, sizeof err) != 0)
		diag_say("purge: the stores in memory were not reloaded: %s", err);
	if (retention_mark_run(h->dir, now, err, sizeof err) != 0)
		diag_say("purge: %s", err);
	if (total > 0)
		diag_say("purge: %llu entr%s purged", (unsigned long long)total,
		         total == 1 ? "y" : "ies");
	else
		diag_say("purge: nothing has passed its retention period");
	/* A timer's purge that found nothing is no administrative change: no entry for it. */
	if (total > 0 || client != NULL)
		audit_note(AUDIT_PURGE, client, "%llu entries purged%s%.200s",
		           (unsigned long long)total, total ? ": " : "", total ? text : "");
	return 0;
}

/* The daily purge at purge_at (Europe/Stockholm). */
static void
purge_timer(struct hub *h)
{
	int64_t now = timefmt_now();
	if (now < h->purge_next)
		return;
	char text[2048];
	(void)purge_run(h, NULL, text, sizeof text);
	h->purge_next = retention_next_due(h->retention.purge_minute, now);
}

/*
 * A restore (estctl restore) left DIR/data/restored for this start: the
 * log's history was set back to a backup, which partners holding later
 * checkpoints will see; the audit says when, from what, and where the
 * store it replaced is. The marker goes once the entry is in the log.
 */
static void
restored_audit(struct hub *h)
{
	char path[4096], what[1024];
	instance_path(path, sizeof path, h->dir, INSTANCE_RESTORED);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	size_t n = fread(what, 1, sizeof what - 1, f);
	fclose(f);
	what[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)what[i] < 0x20)
			what[i] = what[i + 1] == '\0' ? '\0' : ' ';
	diag_say("the store was restored %s", what);
	audit_note(AUDIT_STORE_RESTORED, AUDIT_BY_ESTCTL, "the store was restored %s", what);
	if (audit_flush(h->lg, h->feed, true) > 0 && unlink(path) != 0)
		diag_say("%s: cannot remove it: %s", path, strerror(errno));
}

/* A signed checkpoint of the log when one is due (checkpoint.h), logged and published. */
static void
checkpoint_timer(struct hub *h)
{
	const struct log_item *item = NULL;
	if (checkpoints_tick(h->checkpoints, h->lg, timefmt_mono_ms(), timefmt_now(), &item) == 1)
		feed_publish(h->feed, item, 1);
}

/*
 * Gallring at start-up when the daily purge was missed while the hub was
 * down, before the stores load, so they load what remains. The next one is
 * at the next purge_at.
 */
static void
purge_at_start(struct hub *h)
{
	int64_t now = timefmt_now();
	retention_configure(&h->cfg, &h->retention);
	int minute = h->retention.purge_minute;
	if (retention_last_run(h->dir) < retention_last_due(minute, now)) {
		char text[2048];
		(void)purge_run(h, NULL, text, sizeof text);
	}
	h->purge_next = retention_next_due(minute, now);
}

static int
start(struct hub *h)
{
	char err[1024], path[4096];
	if (load_settings(h) != 0)
		return EXIT_INPUT;
	if (take_lock(h, err, sizeof err) != 0)
		goto env;
	/*
	 * Two ZeroMQ I/O threads: CURVE for 50 feed streams and for ingest
	 * shared one, which perf showed as half of the hub's samples while
	 * feeds fanned out (bench/README.md).
	 */
	zsys_set_io_threads(2);
	/* The I/O threads in SCHED_BATCH while ingest is busy (iosched.h). */
	bool io_batch = batch_allowed(err, sizeof err);
	if (!io_batch)
		diag_say("ZeroMQ's I/O threads keep the hub's scheduling policy (%s)", err);
	h->ctx = zsys_init();
	install_signals();
	/* The ZAP handler must be in place before any CURVE socket binds. */
	h->auth = auth_new(h->dir, err, sizeof err);
	if (h->auth == NULL)
		goto env;
	instance_path(path, sizeof path, h->dir, INSTANCE_STORE);
	if (log_open(&h->lg, path, 0, err, sizeof err) != 0)
		goto env;
	instance_path(h->data_dir, sizeof h->data_dir, h->dir, INSTANCE_DATA);
	h->space = (struct space_watch){.path = h->data_dir,
	                                .warn_below = (uint64_t)h->cfg.warn_free_mib << 20};
	(void)space_watch_tick(&h->space, timefmt_mono_ms()); /* said at start when already low */
	if (open_sockets(h, err, sizeof err) != 0)
		goto env;
	h->handshakes[0] = monitor_open(h, h->ingest_sock, handshake_names[0]);
	h->handshakes[1] = monitor_open(h, h->feed_sock, handshake_names[1]);
	/* The sockets started the I/O threads. */
	if (io_batch && iosched_init(&h->iosched, err, sizeof err) != 0)
		diag_say("ZeroMQ's I/O threads keep the normal scheduling policy, busy or not (%s)",
		         err);
	purge_at_start(h);
	/* The log indexes its report keys on a thread of its own meanwhile (log_index_ready). */
	if (load_pictures(h, err, sizeof err) != 0 || log_index_ready(h->lg, err, sizeof err) != 0)
		goto env;
	h->checkpoints =
	    checkpoints_new(h->dir, h->lg, h->cfg.checkpoint_interval_s, err, sizeof err);
	if (h->checkpoints == NULL)
		goto env;
	if (zfd_init(&h->ingest_z, h->ingest_sock) != 0 ||
	    zfd_init(&h->feed_z, h->feed_sock) != 0) {
		snprintf(err, sizeof err, "cannot poll the ingest and feed sockets: %s",
		         zmq_strerror(zmq_errno()));
		goto env;
	}
	h->feed = feed_new(&h->feed_z, h->lg, h->auth, &h->cfg);
	h->ingest = h->feed
	                ? ingest_new(&h->ingest_z, h->lg, h->auth, h->areas, &h->cfg, on_commit, h)
	                : NULL;
	if (h->ingest == NULL) {
		snprintf(err, sizeof err, "out of memory");
		goto env;
	}
	ingest_set_measures(h->ingest, h->measures);
	h->started_at = timefmt_now();
	restored_audit(h);
	checkpoint_timer(h); /* at start-up, when the log grew since the last one */
	return EXIT_OK;
env:
	diag_say("%s", err);
	return EXIT_ENV;
}

/* --- control requests -------------------------------------------------- */

struct status_ctx {
	Est__V1__ControlReply *reply;
	Est__V1__ClientInfo *infos;
	Est__V1__ClientInfo **ptrs;
	size_t cap;
	char (*names)[IDS_NAME_MAX + 1];
	char (*roles)[16];
	char (*orgs)[IDS_ORG_MAX + 1];
};

static Est__V1__ClientInfo *
status_add(struct status_ctx *sc, const char *name)
{
	if (sc->reply->n_clients == sc->cap)
		return NULL;
	size_t i = sc->reply->n_clients++;
	Est__V1__ClientInfo *ci = &sc->infos[i];
	est__v1__client_info__init(ci);
	snprintf(sc->names[i], sizeof sc->names[i], "%s", name);
	ci->name = sc->names[i];
	sc->ptrs[i] = ci;
	return ci;
}

static Est__V1__ClientInfo *
status_client(struct status_ctx *sc, const char *name, const char *role, const char *org,
              const char *kind)
{
	Est__V1__ClientInfo *ci = status_add(sc, name);
	if (ci == NULL)
		return NULL;
	size_t i = sc->reply->n_clients - 1;
	snprintf(sc->roles[i], sizeof sc->roles[i], "%s", role);
	snprintf(sc->orgs[i], sizeof sc->orgs[i], "%s", org);
	ci->role = sc->roles[i];
	ci->org = sc->orgs[i];
	ci->kind = (char *)(uintptr_t)kind;
	return ci;
}

static void
status_feed(void *arg, const char *name, const char *role, const char *org, uint64_t next_seq,
            int64_t quiet_ms)
{
	Est__V1__ClientInfo *ci = status_client(arg, name, role, org, "feed");
	if (ci) {
		ci->next_seq = next_seq;
		ci->quiet_ms = quiet_ms > 0 ? (uint64_t)quiet_ms : 0;
	}
}

static void
status_ingest(void *arg, const char *name, const char *role, const char *org, int64_t quiet_ms)
{
	Est__V1__ClientInfo *ci = status_client(arg, name, role, org, "ingest");
	if (ci)
		ci->quiet_ms = quiet_ms > 0 ? (uint64_t)quiet_ms : 0;
}

static void
reply_status(struct hub *h, Est__V1__ControlReply *reply)
{
	enum { MAX_CLIENTS = 512 };
	struct status_ctx sc = {.reply = reply, .cap = MAX_CLIENTS};
	sc.infos = calloc(MAX_CLIENTS, sizeof *sc.infos);
	sc.ptrs = calloc(MAX_CLIENTS, sizeof *sc.ptrs);
	sc.names = calloc(MAX_CLIENTS, sizeof *sc.names);
	sc.roles = calloc(MAX_CLIENTS, sizeof *sc.roles);
	sc.orgs = calloc(MAX_CLIENTS, sizeof *sc.orgs);
	reply->ok = true;
	reply->message = (char *)"running";
	reply->head_seq = log_head_seq(h->lg);
	reply->started_at = h->started_at;
	if (sc.infos && sc.ptrs && sc.names && sc.roles && sc.orgs) {
		feed_visit(h->feed, timefmt_mono_ms(), status_feed, &sc);
		ingest_visit(h->ingest, timefmt_now_ms(), status_ingest, &sc);
		reply->clients = sc.ptrs;
	}
	wire_send(control_socket(h->control), &reply->base, 0);
	free(sc.infos);
	free(sc.ptrs);
	free(sc.names);
	free(sc.roles);
	free(sc.orgs);
}

/* The week asked for, or the current one; -1 with err when it is not a week id. */
static int
picture_week(const char *asked, char *week, size_t weeklen, char *err, size_t errlen)
{
	struct week w;
	if (asked[0] == '\0') {
		if (week_of(timefmt_now(), &w) != 0) {
			snprintf(err, errlen, "cannot tell the current week");
			return -1;
		}
	} else if (week_parse(asked, &w, err, errlen) != 0) {
		return -1;
	}
	week_format(w, week, weeklen);
	return 0;
}

/*
 * Makes the picture store hold what a compile of week reads: the last
 * HUB_PICTURE_DETAIL_S, and further back when the week or a follow-up
 * reaches there (picture_store_cover reads those back from the log, and
 * lets go of them at a later compile once no picture needs them).
 */
static int
cover_pictures(struct hub *h, const char *week, const struct measure_view *views, size_t n_views,
               char *err, size_t errlen)
{
	int64_t from = timefmt_now() - HUB_PICTURE_DETAIL_S;
	int64_t need = picture_needs(&h->rules, week, views, n_views);
	return picture_store_cover(h->pictures, need < from ? need : from, HUB_PICTURE_SLACK_S, err,
	                           errlen);
}

/* What req asks for into job: the area ("" for all of them) and the week; -1 with msg when bad. */
static int
compile_asked(const Est__V1__PictureRequest *req, struct compile_job *job, char *msg, size_t msglen)
{
	const char *area = req != NULL && req->area != NULL ? req->area : "";
	if (area[0] && !ids_area_valid(area) && strcmp(area, "all") != 0) {
		snprintf(msg, msglen, "unknown area \"%s\" (an area id or all)", area);
		return -1;
	}
	snprintf(job->area, sizeof job->area, "%s", area);
	return picture_week(req != NULL && req->week != NULL ? req->week : "", job->week,
	                    sizeof job->week, msg, msglen);
}

/*
 * Starts job on the compiler thread: the snapshot of what the compile
 * reads is taken here (one pass over the store, a few milliseconds over a
 * million reports), the merging and the rest run there while this thread
 * goes on receiving. Every area is compiled even when one is asked for:
 * ranks compare the areas. 0, or -1 with msg.
 */
static int
compile_begin(struct hub *h, const struct compile_job *job, char *msg, size_t msglen)
{
	size_t n_views = 0;
	int64_t t0 = timefmt_mono_ms();
	const struct measure_view *views =
	    h->measures != NULL ? measures_views(h->measures, &n_views) : NULL;
	if (cover_pictures(h, job->week, views, n_views, msg, msglen) != 0)
		return -1;
	struct picture_snapshot *s =
	    picture_snapshot_take(h->pictures, &h->rules, job->week, views, n_views, msg, msglen);
	if (s == NULL)
		return -1;
	compiler_start(h->compiler, s, ids_areas, ids_n_areas, timefmt_now());
	h->job = *job;
	h->job.started_ms = timefmt_mono_ms();
	h->job.snapshot_ms = h->job.started_ms - t0;
	return 0;
}

/*
 * Appends the pictures job asked for out of out[0..ids_n_areas] to the
 * log (AREA/pictures, org "esthub"), publishes them and frees out. Runs in
 * the loop, never inside ingest_batch, so no commit is in flight. 0 with
 * their seqs, or -1 with msg.
 */
static int
compile_publish(struct hub *h, const struct compile_job *job, Est__V1__Picture **out,
                uint64_t *seqs, size_t *n_seqs, char *msg, size_t msglen)
{
	enum { N = 8 };
	Est__V1__LogEntry entries[N];
	struct log_item items[N];
	char topics[N][IDS_TOPIC_MAX + 1];
	size_t n = 0;
	int rc = -1;
	for (size_t i = 0; i <= ids_n_areas && n < N; i++) {
		if (job->area[0] && strcmp(out[i]->area, job->area) != 0)
			continue;
		est__v1__log_entry__init(&entries[n]);
		snprintf(topics[n], sizeof topics[n], "%s/pictures", out[i]->area);
		entries[n].org = (char *)"esthub";
		entries[n].topic = topics[n];
		entries[n].body_case = EST__V1__LOG_ENTRY__BODY_PICTURE;
		checkpoints_sign_picture(h->checkpoints, out[i]);
		entries[n].picture = out[i];
		memset(&items[n], 0, sizeof items[n]);
		items[n].entry = &entries[n];
		n++;
	}
	if (log_append(h->lg, items, n, timefmt_now(), msg, msglen) == 0) {
		feed_publish(h->feed, items, n);
		for (size_t i = 0; i < n; i++) {
			seqs[i] = items[i].seq;
			picture_store_note(h->pictures, entries[i].picture);
		}
		*n_seqs = n;
		snprintf(msg, msglen, "compiled %zu picture%s of %s, seq %llu..%llu", n,
		         n == 1 ? "" : "s", job->week, (unsigned long long)items[0].seq,
		         (unsigned long long)items[n - 1].seq);
		/* The snapshot is what the loop spent; the rest ran beside it. */
		diag_say("%s (snapshot %lld ms, compile %lld ms on its thread)", msg,
		         (long long)job->snapshot_ms,
		         (long long)(timefmt_mono_ms() - job->started_ms));
		rc = 0;
	}
	for (size_t i = 0; i <= ids_n_areas; i++)
		picture_free(&out[i]);
	return rc;
}

/* Says why a scheduled or live picture was not made (estctl's hear it in their reply). */
static void
compile_failed(const struct compile_job *job, const char *msg)
{
	diag_say("pictures: the %s picture of %s failed: %s",
	         job->kind == COMPILE_WEEK ? "scheduled" : "live", job->week, msg);
}

/* Answers the control request that waits for its compile (estctl picture compile). */
static void
compile_reply(struct hub *h, bool ok, uint64_t *seqs, size_t n_seqs, char *msg)
{
	Est__V1__ControlReply reply;
	est__v1__control_reply__init(&reply);
	reply.ok = ok;
	reply.message = msg;
	reply.seqs = ok ? seqs : NULL;
	reply.n_seqs = ok ? n_seqs : 0;
	reply.head_seq = log_head_seq(h->lg);
	if (ok)
		audit_note(AUDIT_PICTURES_COMPILED, AUDIT_BY_ESTCTL, "%s", msg);
	wire_send(control_socket(h->control), &reply.base, 0);
	h->ctl_open = false;
}

/*
 * The compile in flight has ended (compiler_fd polled readable): its
 * pictures logged and published as they were asked for, estctl answered
 * when it asked, and an estctl request that waited meanwhile started.
 */
static void
compile_done(struct hub *h)
{
	Est__V1__Picture *out[PICTURE_MAX_AREAS + 1];
	char msg[512] = "";
	uint64_t seqs[8];
	size_t n_seqs = 0;
	struct compile_job job = h->job;
	h->job.kind = COMPILE_NONE;
	int rc = compiler_finish(h->compiler, out, msg, sizeof msg);
	if (rc == 0)
		rc = compile_publish(h, &job, out, seqs, &n_seqs, msg, sizeof msg);
	if (job.kind == COMPILE_CTL)
		compile_reply(h, rc == 0, seqs, n_seqs, msg);
	else if (rc != 0)
		compile_failed(&job, msg);

	if (h->ctl_waiting.kind == COMPILE_CTL) {
		job = h->ctl_waiting;
		h->ctl_waiting.kind = COMPILE_NONE;
		if (compile_begin(h, &job, msg, sizeof msg) != 0)
			compile_reply(h, false, NULL, 0, msg);
	}
}

/*
 * estctl picture compile: the same path as the scheduled pictures, so an
 * administrator's compile holds up no acknowledgement either. The reply
 * goes when the pictures are logged (compile_done); until then the control
 * socket is not read. 0 when it will be answered so, -1 with msg to answer
 * now.
 */
static int
compile_control(struct hub *h, const Est__V1__PictureRequest *req, char *msg, size_t msglen)
{
	struct compile_job job;
	if (compile_asked(req, &job, msg, msglen) != 0)
		return -1;
	job.kind = COMPILE_CTL;
	if (compiler_busy(h->compiler)) {
		h->ctl_waiting = job; /* started when the one in flight is done */
	} else if (compile_begin(h, &job, msg, msglen) != 0) {
		return -1;
	}
	h->ctl_open = true;
	return 0;
}

/*
 * The weekly picture and the live one when they are due (schedule.h),
 * compiled and logged as `estctl picture compile` would, on the compiler
 * thread: the loop goes on receiving and acknowledging meanwhile. One
 * compile at a time: while one runs (or estctl's waits) nothing is asked
 * of the scheduler, so what falls due meanwhile stays due until then. A
 * due live picture still waits for a pause of HUB_QUIET_MS in the reports
 * (schedule.h): a compile over a flood of reports at one place takes half
 * a second of a core the flood needs.
 */
static void
picture_timer(struct hub *h)
{
	char msg[512] = "";
	if (compiler_busy(h->compiler) || h->ctl_waiting.kind != COMPILE_NONE)
		return;
	int64_t last = h->ingest != NULL ? ingest_last_ms(h->ingest) : 0;
	scheduler_set_busy(&h->sched, last != 0 && timefmt_mono_ms() - last < HUB_QUIET_MS);
	struct compile_job job = {.kind = COMPILE_NONE};
	enum schedule_due due =
	    scheduler_due(&h->sched, timefmt_now(), picture_store_closed_until(h->pictures),
	                  picture_store_current(h->pictures) > 0, job.week, sizeof job.week);
	if (due == SCHEDULE_NONE)
		return;
	job.kind = due == SCHEDULE_WEEK ? COMPILE_WEEK : COMPILE_LIVE;
	if (compile_begin(h, &job, msg, sizeof msg) != 0)
		compile_failed(&job, msg);
}

static void
serve_control(struct hub *h)
{
	zmq_msg_t msg;
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, control_socket(h->control), ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&msg);
		return;
	}
	char err[512] = "";
	Est__V1__ControlRequest *req = (Est__V1__ControlRequest *)wire_unpack(
	    &est__v1__control_request__descriptor, zmq_msg_data(&msg), zmq_msg_size(&msg), 65536,
	    err, sizeof err);
	zmq_msg_close(&msg);
	Est__V1__ControlReply reply;
	est__v1__control_reply__init(&reply);
	reply.message = err;
	if (req && req->body_case == EST__V1__CONTROL_REQUEST__BODY_STATUS) {
		reply_status(h, &reply);
	} else {
		bool later = false; /* answered by compile_done */
		struct measure_reply mr = {0};
		char purge_text[4096] = "";
		if (req && measure_ctl_handles(req)) {
			struct measure_ctl mc = {h->measures, h->lg, h->feed, h->pictures,
			                         &h->rules};
			measure_ctl_serve(&mc, req, &reply, &mr);
		} else if (req &&
		           req->body_case == EST__V1__CONTROL_REQUEST__BODY_COMPILE_PICTURES) {
			later = compile_control(h, req->compile_pictures, err, sizeof err) == 0;
		} else if (req && req->body_case == EST__V1__CONTROL_REQUEST__BODY_REVOKE) {
			reply.ok = auth_revoke(h->auth, req->revoke, err, sizeof err) == 0;
			if (reply.ok) {
				diag_say("%s", err);
				feed_tick(h->feed, timefmt_mono_ms());
			}
		} else if (req && req->body_case == EST__V1__CONTROL_REQUEST__BODY_PURGE) {
			reply.ok =
			    purge_run(h, AUDIT_BY_ESTCTL, purge_text, sizeof purge_text) == 0;
			reply.message = purge_text;
		} else if (req && req->body_case == EST__V1__CONTROL_REQUEST__BODY_ROTATED) {
			reply.ok = auth_reload(h->auth, err, sizeof err) == 0;
			if (reply.ok) {
				snprintf(err, sizeof err, "client %.64s has a new key",
				         req->rotated);
				diag_say("%s", err);
				feed_tick(h->feed, timefmt_mono_ms());
			}
		} else if (req) {
			snprintf(err, sizeof err, "unknown control request");
		}
		reply.head_seq = log_head_seq(h->lg);
		if (!later)
			wire_send(control_socket(h->control), &reply.base, 0);
		measure_reply_fini(&mr);
	}
	if (req)
		est__v1__control_request__free_unpacked(req, NULL);
}

/* --- loop -------------------------------------------------------------- */

/*
 * Every socket is polled by its ZMQ_FD, as a plain descriptor, not with
 * zmq_poll: zmq_poll asks every socket item for ZMQ_EVENTS before it sleeps
 * and again after, each ask on an idle socket two system calls (getpid,
 * and a poll of the socket's mailbox). The ingest and feed sockets are
 * asked only when their state may have changed (zfd.h): one sender waiting
 * for each ack now costs the loop one poll a report, and the asks of the
 * ingest socket when its descriptor fires. The seldom-read ones (control,
 * the two handshake monitors) are asked and read when their descriptor
 * fires, after the loop sent on one of them, when a read stopped at its
 * limit, and at every tick: a ZMQ_FD only says that the socket has
 * commands to process, and a send on the socket may process the one that
 * announced a request.
 */
#define HUB_CONTROL_PER_TURN 16

static int
socket_fd(void *sock)
{
	int fd = -1;
	size_t sz = sizeof fd;
	return sock != NULL && zmq_getsockopt(sock, ZMQ_FD, &fd, &sz) == 0 ? fd : -1;
}

static bool
socket_readable(void *sock)
{
	int events = 0;
	size_t sz = sizeof events;
	return zmq_getsockopt(sock, ZMQ_EVENTS, &events, &sz) == 0 && (events & ZMQ_POLLIN);
}

/* Reads the seldom-read sockets. True when control has more than one turn's worth. */
static bool
serve_seldom(struct hub *h)
{
	for (int i = 0; i < 2; i++)
		if (h->handshakes[i] != NULL)
			monitor_read(h->handshakes[i], handshake_names[i]);
	void *ctl = control_socket(h->control);
	for (int n = 0; !h->ctl_open && socket_readable(ctl); n++) {
		if (n == HUB_CONTROL_PER_TURN)
			return true;
		serve_control(h);
	}
	return false;
}

static void
serve(struct hub *h)
{
	int64_t last_tick = timefmt_mono_ms();
	bool more = false, seldom = true;
	while (!stop_requested && log_disk_failed(h->lg) == NULL) {
		bool ingest_ready = zfd_readable(&h->ingest_z);
		bool feed_ready = zfd_readable(&h->feed_z);
		/* A control request waiting for its compile is answered before the next is read. */
		struct pollfd fds[] = {
		    {h->ingest_z.fd, POLLIN, 0},
		    {h->feed_z.fd, POLLIN, 0},
		    {compiler_fd(h->compiler), POLLIN, 0},
		    {socket_fd(control_socket(h->control)), h->ctl_open ? 0 : POLLIN, 0},
		    {socket_fd(h->handshakes[0]), POLLIN, 0},
		    {socket_fd(h->handshakes[1]), POLLIN, 0},
		};
		size_t n_fds = sizeof fds / sizeof fds[0];
		bool busy = ingest_ready || feed_ready || more || seldom;
		if (poll(fds, n_fds, busy ? 0 : HUB_IDLE_MS) < 0 && errno != EINTR) {
			diag_say("poll: %s", strerror(errno));
			break;
		}
		/* A socket known readable is read: its next receive processes the commands. */
		ingest_ready = ingest_ready || zfd_woken(&h->ingest_z, fds[0].revents);
		feed_ready = feed_ready || zfd_woken(&h->feed_z, fds[1].revents);
		int64_t now = timefmt_mono_ms();
		size_t handled = 0;
		if (ingest_ready)
			handled = ingest_batch(h->ingest, timefmt_now_ms());
		iosched_note(&h->iosched, handled, now);
		if (feed_ready)
			feed_receive(h->feed, now);
		if (fds[2].revents & POLLIN) {
			compile_done(h);
			seldom = true; /* it may have answered on the control socket */
		}
		for (size_t i = 3; i < n_fds; i++)
			if (fds[i].revents & POLLIN)
				seldom = true;
		if (seldom || now - last_tick >= HUB_TICK_MS)
			seldom = serve_seldom(h);
		audit_flush(h->lg, h->feed, false); /* at most every AUDIT_FLUSH_MS */
		more = feed_pump(h->feed);
		if (now - last_tick >= HUB_TICK_MS) {
			auth_refresh(h->auth);
			feed_tick(h->feed, now);
			checkpoint_timer(h);
			picture_timer(h);
			purge_timer(h);
			(void)space_watch_tick(&h->space, now);
			last_tick = now;
		}
	}
}

static void
finish(struct hub *h)
{
	/* A compile in flight is dropped: a live one comes again, a weekly one at the next start.
	 */
	compiler_destroy(&h->compiler);
	ingest_destroy(&h->ingest);
	if (h->lg != NULL)
		audit_flush(h->lg, h->feed, true); /* what is queued, open windows too */
	feed_destroy(&h->feed);
	control_destroy(&h->control);
	for (int i = 0; i < 2; i++)
		if (h->handshakes[i])
			zmq_close(h->handshakes[i]);
	if (h->ingest_sock)
		zmq_close(h->ingest_sock);
	if (h->feed_sock)
		zmq_close(h->feed_sock);
	picture_store_destroy(&h->pictures);
	checkpoints_destroy(&h->checkpoints);
	measures_destroy(&h->measures);
	log_close(&h->lg);
	auth_destroy(&h->auth);
	areas_destroy(&h->areas);
	if (h->lock_fd >= 0)
		close(h->lock_fd);
}

int
hub_run(const char *dir)
{
	struct hub h = {.dir = dir, .lock_fd = -1};
	/*
	 * Every block of 256 KiB or more gets its own mapping, given back when
	 * freed and grown by mremap (the picture store's arrays, a compile's
	 * working memory). glibc otherwise raises that threshold to the size of
	 * the largest block freed (up to 32 MiB), and from then on a compile's
	 * tens of MiB came from the heap and stayed resident after it.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	/* czmq would install its own SIGINT/SIGTERM handlers; ours only set a flag. */
	zsys_handler_set(NULL);
	install_signals();
	int rc = start(&h);
	if (rc == EXIT_OK) {
		printf("esthub: ready ingest=%s feed=%s head_seq=%llu\n", h.ingest_ep, h.feed_ep,
		       (unsigned long long)log_head_seq(h.lg));
		fflush(stdout);
		serve(&h);
		const char *why = log_disk_failed(h.lg);
		if (why != NULL) {
			/*
			 * Without finish(): log_close's last checkpoint, and SQLite's
			 * at the last close, would let the WAL go (log.h). As after a
			 * crash, the senders resend what was not acknowledged.
			 */
			diag_say(
			    "stopping: the disk under the store failed (%s); no checkpoint runs "
			    "any more, the WAL keeps every entry up to seq %llu, and the next "
			    "start copies it into the database again. Check the disk before "
			    "trusting it again.",
			    why, (unsigned long long)log_head_seq(h.lg));
			_exit(EXIT_ENV);
		}
		diag_say("stopping: head_seq=%llu", (unsigned long long)log_head_seq(h.lg));
	}
	finish(&h);
	return rc;
}
