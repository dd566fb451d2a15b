/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ingest: receive, judge, append, acknowledge (see ingest.h). A batch is
 * built in two phases: first every waiting envelope is decoded and its
 * reports judged (indices only, since the arrays grow), then the log items
 * are pointed at their entries, appended in one transaction and the acks
 * sent. Nothing per report touches the disk; the commit is once per batch.
 */
#include "ingest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "access.h"
#include "areas.h"
#include "audit.h"
#include "auth.h"
#include "committer.h"
#include "config.h"
#include "cpus.h"
#include "log.h"
#include "measure.h"
#include "validate.h"
#include "wire/arena.h"
#include "wire/codec.h"
#include "wire/diag.h"
#include "wire/ids.h"
#include "wire/timefmt.h"
#include "zfd.h"

#define INGEST_MAX_BATCH_REPORTS 65536
#define INGEST_SEEN_MAX          256
#define INGEST_RETRY_MS          1000
/*
 * How long one ingest_batch call keeps the pipeline going before it drains
 * and gives the main loop back to the feed and the control socket.
 */
#define INGEST_PIPELINE_MS 20
/*
 * With limits.commit_thread on, a batch of at most this many reports
 * commits on the receiving thread and a larger one on the committer's
 * (see launch); off, every batch commits on the receiving thread.
 */
#define INGEST_HERE_MAX_ITEMS 64
/* limits.commit_thread auto: on from this many CPUs the hub may run on. */
#define INGEST_THREAD_MIN_CPUS 3

struct pending {
	zmq_msg_t rid;
	Est__V1__Envelope *env; /* NULL when refused whole */
	uint64_t request_id;
	char error[512];
	uint32_t retry_after_ms;
	char org[IDS_ORG_MAX + 1];
	char client[IDS_NAME_MAX + 1]; /* the sender's certificate name, for the audit */
	size_t first;                  /* index of its first report in the batch arrays */
	size_t n;                      /* its number of reports */
	/* A measure update: judged and committed after the batch's reports. */
	bool measure;
	Est__V1__Result mresult;
	Est__V1__Result *mresult_ptr;
	char merror[256];
};

/* What became of one report of the batch. */
struct verdict {
	long item; /* index into items, or -1 when rejected before the log */
	char error[160];
	char topic[IDS_TOPIC_MAX + 1];
	/* the report packed once, here, for its entry and digest (log_report_prepack) */
	bool packed;
	size_t pack_off, pack_len;
};

/* One batch's arrays, grown as needed and kept from batch to batch. */
struct batch {
	struct pending *pend;
	size_t pend_cap;
	struct verdict *verdicts;
	Est__V1__Result *results;
	Est__V1__Result **result_ptrs;
	struct log_item *items;
	Est__V1__LogEntry *entries;
	size_t cap;       /* of verdicts, results, result_ptrs, items, entries */
	uint8_t *packbuf; /* the batch's reports, packed (verdict.pack_off) */
	size_t pack_len, pack_cap;
	struct wire_arena *arena; /* the batch's decoded envelopes; reset once it is answered */
};

static void
batch_free(struct batch *b)
{
	free(b->pend);
	free(b->verdicts);
	free(b->results);
	free(b->result_ptrs);
	free(b->items);
	free(b->entries);
	free(b->packbuf);
}

struct seen {
	char name[IDS_NAME_MAX + 1];
	char role[16];
	char org[IDS_ORG_MAX + 1];
	int64_t last_ms;
};

struct ingest {
	void *sock;
	struct zfd *zs; /* sock's ZMQ_FD and whether it must be asked */
	struct log *lg;
	struct auth *auth;
	const struct areas *areas;
	const struct config *cfg;
	ingest_commit_fn on_commit;
	void *commit_arg;
	const struct measures *measures; /* NULL: measure updates are refused */
	struct batch b;                  /* the batch being received */
	struct seen seen[INGEST_SEEN_MAX];
	/*
	 * The pipeline: b holds the batch being received; the batch whose
	 * commit is in flight on the committer's thread is parked in flight
	 * (its arrays swapped out, so they do not move while it runs); a batch
	 * whose commit has ended waits in landing for its acks and the commit
	 * hook, which may run while the next batch commits (see ingest_batch).
	 */
	struct committer *committer;
	size_t here_max; /* a batch of at most this many items commits here */
	struct flight {
		struct batch b;
		size_t n_pend;
		size_t n_items;
		int64_t now_ms;
		int rc; /* landing: how its commit ended, and why it failed */
		char err[256];
	} flight, landing;
	struct wire_arena arenas[3]; /* behind b, flight and landing */
	int64_t last_ms;             /* ingest_last_ms */
	uint64_t acks_unsent;        /* acks the socket refused since last told */
};

/*
 * The largest batch that commits on the receiving thread. A large batch
 * committed on the committer's thread lets the next one be received
 * meanwhile, which pays when the ZeroMQ I/O thread, the receiving thread
 * and the committer each have a CPU. On two, shared with the senders, the
 * hand-offs cost more time than the overlap gives: 4 senders x 100 in
 * flight on the 2-CPU benchmark machine, the same build with the thread
 * off against on, 10 alternating rounds: median 1.06x the reports a
 * second (0.97...1.33), the ack p50 lower in 9 (bench/README.md).
 */
static size_t
commits_here_max(const struct config *cfg)
{
	char why[64];
	int cpus = cpus_usable("", why, sizeof why);
	bool thread = cfg->commit_thread == CONFIG_COMMIT_ON ||
	              (cfg->commit_thread == CONFIG_COMMIT_AUTO && cpus >= INGEST_THREAD_MIN_CPUS);
	const char *setting = (const char *[]){"auto", "on", "off"}[cfg->commit_thread];
	char where[96];
	if (thread)
		snprintf(where, sizeof where,
		         "batches of more than %d reports commit on a thread of their own",
		         INGEST_HERE_MAX_ITEMS);
	else
		snprintf(where, sizeof where, "every batch commits on the thread that received it");
	diag_say("ingest: %s (%d CPU%s%s%s, limits.commit_thread = %s)", where, cpus,
	         cpus == 1 ? "" : "s", why[0] ? ": " : "", why, setting);
	return thread ? INGEST_HERE_MAX_ITEMS : SIZE_MAX;
}

struct ingest *
ingest_new(struct zfd *zs, struct log *lg, struct auth *auth, const struct areas *areas,
           const struct config *cfg, ingest_commit_fn on_commit, void *commit_arg)
{
	struct ingest *in = calloc(1, sizeof *in);
	if (in == NULL)
		return NULL;
	in->zs = zs;
	in->sock = zs->sock;
	in->lg = lg;
	in->auth = auth;
	in->areas = areas;
	in->cfg = cfg;
	in->on_commit = on_commit;
	in->commit_arg = commit_arg;
	for (size_t i = 0; i < 3; i++)
		wire_arena_init(&in->arenas[i]);
	in->b.arena = &in->arenas[0];
	in->flight.b.arena = &in->arenas[1];
	in->landing.b.arena = &in->arenas[2];
	char err[256];
	in->here_max = commits_here_max(cfg);
	/* Without its thread the committer runs every job here, and no thread idles. */
	in->committer = committer_new(lg, in->here_max != SIZE_MAX, err, sizeof err);
	if (in->committer == NULL) {
		diag_say("ingest: %s", err);
		free(in);
		return NULL;
	}
	return in;
}

void
ingest_set_measures(struct ingest *in, const struct measures *ms)
{
	in->measures = ms;
}

void
ingest_destroy(struct ingest **ip)
{
	if (ip == NULL || *ip == NULL)
		return;
	struct ingest *in = *ip;
	/* Joins the thread; ingest_batch never leaves a commit in flight. */
	committer_destroy(&in->committer);
	batch_free(&in->landing.b);
	batch_free(&in->flight.b);
	batch_free(&in->b);
	for (size_t i = 0; i < 3; i++)
		wire_arena_fini(&in->arenas[i]);
	free(in);
	*ip = NULL;
}

/* Makes room for need reports in the batch arrays. */
static int
reserve(struct ingest *in, size_t need)
{
	if (need <= in->b.cap)
		return 0;
	size_t cap = in->b.cap ? in->b.cap : 1024;
	while (cap < need)
		cap *= 2;
#define GROW(field)                                                                                \
	do {                                                                                       \
		void *p = realloc(in->b.field, cap * sizeof *in->b.field);                         \
		if (p == NULL)                                                                     \
			return -1;                                                                 \
		in->b.field = p;                                                                   \
	} while (0)
	GROW(verdicts);
	GROW(results);
	GROW(result_ptrs);
	GROW(items);
	GROW(entries);
#undef GROW
	in->b.cap = cap;
	return 0;
}

static void
note_seen(struct ingest *in, const struct cert_info *who, int64_t now_ms)
{
	struct seen *oldest = &in->seen[0];
	for (size_t i = 0; i < INGEST_SEEN_MAX; i++) {
		struct seen *s = &in->seen[i];
		if (strcmp(s->name, who->name) == 0) {
			s->last_ms = now_ms;
			return;
		}
		if (s->last_ms < oldest->last_ms)
			oldest = s;
	}
	snprintf(oldest->name, sizeof oldest->name, "%s", who->name);
	snprintf(oldest->role, sizeof oldest->role, "%s", ids_role_name(who->role));
	snprintf(oldest->org, sizeof oldest->org, "%s", who->org);
	oldest->last_ms = now_ms;
}

__attribute__((format(printf, 3, 4))) static void
refuse(struct pending *p, uint32_t retry_ms, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof p->error, fmt, ap);
	va_end(ap);
	p->retry_after_ms = retry_ms;
}

/*
 * Packs and hashes an accepted report here, while the last batch commits,
 * so the commit does neither (and packs its entry around these bytes). Out
 * of memory or unknown fields: the log does it in the commit, as before.
 */
static void
prepack(struct ingest *in, struct verdict *v, const Est__V1__Report *r)
{
	size_t room = in->b.pack_cap - in->b.pack_len, need;
	uint8_t *at = in->b.packbuf ? in->b.packbuf + in->b.pack_len : NULL;
	v->packed = false;
	int rc = log_report_prepack(r, at, room, &need);
	if (rc == 0 && need > room) {
		size_t cap = in->b.pack_cap ? in->b.pack_cap : 65536;
		while (cap - in->b.pack_len < need)
			cap *= 2;
		uint8_t *p = realloc(in->b.packbuf, cap);
		if (p == NULL)
			return;
		in->b.packbuf = p;
		in->b.pack_cap = cap;
		at = p + in->b.pack_len;
		rc = log_report_prepack(r, at, cap - in->b.pack_len, &need);
	}
	if (rc == 1) {
		v->pack_off = in->b.pack_len;
		v->pack_len = need;
		v->packed = true;
		in->b.pack_len += need;
	}
}

/* Judges every report of p's envelope; accepted ones become log items. */
static int
judge_reports(struct ingest *in, struct pending *p, size_t *n_reports, size_t *n_items,
              int64_t now_ms)
{
	Est__V1__ReportBatch *batch = p->env->reports;
	p->first = *n_reports;
	p->n = batch->n_reports;
	if (reserve(in, *n_reports + p->n))
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		struct verdict *v = &in->b.verdicts[*n_reports + i];
		Est__V1__Report *r = batch->reports[i];
		v->item = -1;
		if (validate_report(r, &in->b.arena->alloc, in->areas, now_ms / 1000,
		                    in->cfg->max_future_seconds, v->error, sizeof v->error) != 0)
			continue;
		/* Masks in r when so configured, before the log judges idempotency. */
		if (validate_report_personal(r, &in->b.arena->alloc,
		                             (enum personal_mode)in->cfg->personal_data, v->error,
		                             sizeof v->error) != 0) {
			audit_refusal(AUDIT_REPORT_REFUSED, p->client, "%s", v->error);
			continue;
		}
		size_t at = ids_copy(v->topic, sizeof v->topic, r->area);
		ids_copy(v->topic + at, sizeof v->topic - at, "/reports");
		Est__V1__LogEntry *e = &in->b.entries[*n_items];
		est__v1__log_entry__init(e);
		e->body_case = EST__V1__LOG_ENTRY__BODY_REPORT;
		e->report = r;
		v->item = (long)(*n_items)++;
		prepack(in, v, r);
	}
	*n_reports += p->n;
	return 0;
}

/* Decodes and judges one received envelope into p. */
static void
judge_envelope(struct ingest *in, struct pending *p, zmq_msg_t *body, size_t *n_reports,
               size_t *n_items, int64_t now_ms)
{
	size_t len = zmq_msg_size(body);
	char err[400];
	/* Answer with the sender's request_id whatever is wrong with the rest. */
	p->request_id = wire_peek_request_id(zmq_msg_data(body), len);
	const struct cert_info *who = auth_lookup(in->auth, zmq_msg_gets(body, "User-Id"));
	if (who == NULL) {
		audit_refusal(AUDIT_REVOKED_KEY,
		              auth_former_name(in->auth, zmq_msg_gets(body, "User-Id")),
		              "message refused: certificate revoked or replaced");
		refuse(p, 0, "certificate revoked");
		return;
	}
	note_seen(in, who, now_ms);
	if (!access_may_send(who, err, sizeof err)) {
		audit_refusal(AUDIT_SEND_REFUSED, who->name, "%s", err);
		refuse(p, 0, "%s", err);
		return;
	}
	ids_copy(p->org, sizeof p->org, who->org);
	ids_copy(p->client, sizeof p->client, who->name);
	if (len > (size_t)in->cfg->max_frame_bytes) {
		refuse(p, 0,
		       "frame of %zu bytes exceeds the limit of %ld bytes "
		       "(limits.max_frame_bytes)",
		       len, in->cfg->max_frame_bytes);
		return;
	}
	/* Decoded into the batch's arena: freed all at once when the batch is answered. */
	p->env =
	    (Est__V1__Envelope *)wire_unpack_in(&est__v1__envelope__descriptor, zmq_msg_data(body),
	                                        len, len, &in->b.arena->alloc, err, sizeof err);
	if (p->env == NULL) {
		refuse(p, 0, "%s", err);
		return;
	}
	p->request_id = p->env->request_id;
	if (p->env->version != WIRE_VERSION)
		refuse(p, 0, "version %u is not supported; this hub speaks version %d",
		       p->env->version, WIRE_VERSION);
	else if (p->env->body_case == EST__V1__ENVELOPE__BODY_MEASURE && in->measures != NULL)
		p->measure = true; /* judged after the reports' commit (commit_measure) */
	else if (p->env->body_case != EST__V1__ENVELOPE__BODY_REPORTS)
		refuse(p, 0,
		       "envelope body %d is not accepted; this hub takes reports and measure "
		       "updates",
		       (int)p->env->body_case);
	else if (p->env->reports->n_reports > (size_t)in->cfg->max_reports_per_envelope)
		refuse(p, 0,
		       "batch of %zu reports exceeds the limit of %ld "
		       "(limits.max_reports_per_envelope)",
		       p->env->reports->n_reports, in->cfg->max_reports_per_envelope);
	else if (judge_reports(in, p, n_reports, n_items, now_ms) != 0)
		refuse(p, INGEST_RETRY_MS, "hub out of memory");
	if (p->error[0])
		p->env = NULL; /* its memory goes with the arena's */
}

/* Receives one message into a new pending slot; 0 none waiting, 1 got one, -1 no memory. */
static int
receive_one(struct ingest *in, size_t n_pend, size_t *n_reports, size_t *n_items, int64_t now_ms)
{
	if (n_pend == in->b.pend_cap) {
		size_t cap = in->b.pend_cap ? in->b.pend_cap * 2 : 64;
		struct pending *p = realloc(in->b.pend, cap * sizeof *p);
		if (p == NULL)
			return -1;
		in->b.pend = p;
		in->b.pend_cap = cap;
	}
	struct pending *p = &in->b.pend[n_pend];
	memset(p, 0, sizeof *p);
	zmq_msg_init(&p->rid);
	int rc = zmq_msg_recv(&p->rid, in->sock, ZMQ_DONTWAIT);
	zfd_received(in->zs, rc);
	if (rc < 0) {
		zmq_msg_close(&p->rid);
		return 0;
	}
	zmq_msg_t body;
	zmq_msg_init(&body);
	bool got = zmq_msg_more(&p->rid) && zmq_msg_recv(&body, in->sock, 0) >= 0;
	bool multi = false;
	for (bool more = got && zmq_msg_more(&body); more;) {
		zmq_msg_t drop;
		zmq_msg_init(&drop);
		more = zmq_msg_recv(&drop, in->sock, 0) >= 0 && zmq_msg_more(&drop);
		zmq_msg_close(&drop);
		multi = true;
	}
	if (!got)
		refuse(p, 0, "empty message: one frame holding one Envelope expected");
	else if (multi)
		refuse(p, 0, "multi-part message: one frame holding one Envelope expected");
	else
		judge_envelope(in, p, &body, n_reports, n_items, now_ms);
	if (p->error[0] && p->client[0]) /* refused whole after the sender was known */
		audit_refusal(AUDIT_ENVELOPE_REFUSED, p->client, "%s", p->error);
	zmq_msg_close(&body);
	return 1;
}

/* Sends p's Ack with its results. */
static void
acknowledge(struct ingest *in, struct pending *p)
{
	Est__V1__Ack ack;
	est__v1__ack__init(&ack);
	ack.request_id = p->request_id;
	ack.error = p->error;
	ack.retry_after_ms = p->retry_after_ms;
	if (p->env && p->error[0] == '\0') {
		for (size_t i = 0; i < p->n; i++) {
			size_t k = p->first + i;
			struct verdict *v = &in->b.verdicts[k];
			Est__V1__Result *r = &in->b.results[k];
			Est__V1__Report *rep = p->env->reports->reports[i];
			est__v1__result__init(r);
			/*
			 * Never echo what is not UTF-8: the Ack must stay valid
			 * protobuf. An accepted report's source_id passed validation.
			 */
			if (v->item >= 0 || ids_utf8_valid(rep->source_id, strlen(rep->source_id)))
				r->source_id = rep->source_id;
			r->revision = rep->revision;
			if (v->item < 0) {
				r->status = EST__V1__STATUS__STATUS_REJECTED;
				r->error = v->error;
			} else {
				struct log_item *it = &in->b.items[v->item];
				r->status = it->status;
				r->seq = it->seq;
				r->error = it->error;
			}
			in->b.result_ptrs[k] = r;
		}
		ack.n_results = p->n;
		ack.results = in->b.result_ptrs + p->first;
		if (p->measure) {
			ack.n_results = 1;
			ack.results = &p->mresult_ptr;
		}
	}
	/*
	 * Never blocks: the sender is gone (EHOSTUNREACH) or has not read its
	 * last INGEST_ACK_HWM acks (EAGAIN). Its reports are stored either way
	 * and a resend is answered DUPLICATE; the loss of the ack is counted
	 * and told once per batch (ingest_batch).
	 */
	zfd_used(in->zs);
	if (zmq_msg_send(&p->rid, in->sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&p->rid);
		in->acks_unsent++;
		return;
	}
	/* The rest of a message whose first frame was taken is always taken. */
	if (wire_send(in->sock, &ack.base, 0) != 0)
		diag_debug("ingest: ack not sent: %s", zmq_strerror(zmq_errno()));
}

/* Points items at entries, org and topic once the arrays have stopped moving. */
static void
link_items(struct ingest *in, size_t n_pend)
{
	for (size_t i = 0; i < n_pend; i++) {
		struct pending *p = &in->b.pend[i];
		if (p->env == NULL)
			continue;
		for (size_t k = p->first; k < p->first + p->n; k++) {
			struct verdict *v = &in->b.verdicts[k];
			if (v->item < 0)
				continue;
			struct log_item *it = &in->b.items[v->item];
			memset(it, 0, sizeof *it);
			it->entry = &in->b.entries[v->item];
			it->entry->org = p->org;
			it->entry->topic = v->topic;
			if (v->packed) {
				it->packed = in->b.packbuf + v->pack_off;
				it->packed_len = v->pack_len;
			}
		}
	}
}

/* After a failed commit: every envelope with reports is refused for a retry. */
static void
refuse_all(struct ingest *in, size_t n_pend, const char *why)
{
	for (size_t i = 0; i < n_pend; i++) {
		struct pending *p = &in->b.pend[i];
		if (p->env == NULL || p->error[0])
			continue;
		snprintf(
		    p->error, sizeof p->error,
		    "store unavailable (%s); nothing of this envelope was stored, send it again",
		    why);
		p->retry_after_ms = INGEST_RETRY_MS;
	}
}

/*
 * Judges p's measure update against the registry and, when it changes the
 * measure, appends it in a transaction of its own (updates are rare) and
 * hands it to the commit hook, which takes it into the registry before the
 * next update is judged. The org is the certificate's.
 */
static void
commit_measure(struct ingest *in, struct pending *p, int64_t now_ms)
{
	Est__V1__Result *r = &p->mresult;
	const Est__V1__Measure *m = p->env->measure;
	est__v1__result__init(r);
	p->mresult_ptr = r;
	if (ids_utf8_valid(m->measure_id, strlen(m->measure_id)))
		r->source_id = m->measure_id;
	struct measure_draft d;
	const struct measure_view *cur;
	int v = measures_judge_set(in->measures, m, p->org, &d, &cur, p->merror, sizeof p->merror);
	if (v != MEASURE_CHANGED) {
		r->status = v == MEASURE_UNCHANGED ? EST__V1__STATUS__STATUS_DUPLICATE
		                                   : EST__V1__STATUS__STATUS_REJECTED;
		r->seq = v == MEASURE_UNCHANGED ? cur->last_seq : 0;
		r->error = v == MEASURE_UNCHANGED ? (char *)"" : p->merror;
		if (v == MEASURE_REFUSED)
			audit_refusal(AUDIT_MEASURE_REFUSED, p->client, "%s", p->merror);
		return;
	}
	const char *from = measure_status_word(cur->m->status);
	struct measure_entry me;
	struct log_item item = {0};
	char err[256];
	measure_entry_init(&me, &d, p->org);
	item.entry = &me.entry;
	if (log_append(in->lg, &item, 1, now_ms / 1000, err, sizeof err) != 0) {
		diag_say("ingest: measure update of %s refused: %s", p->org, err);
		refuse(p, INGEST_RETRY_MS,
		       "store unavailable (%s); nothing of this envelope was stored, send it again",
		       err);
		return;
	}
	char what[160];
	measure_change_text(what, sizeof what, d.id, from, d.m.status, item.seq);
	diag_say("%s (by %s)", what, p->org);
	audit_note(AUDIT_MEASURE_CHANGED, p->client, "%s", what);
	in->on_commit(in->commit_arg, &item, 1);
	r->status = EST__V1__STATUS__STATUS_ACCEPTED;
	r->seq = item.seq;
}

/* Exchanges the receiving batch's arrays with those of a parked batch (in flight or landing). */
static void
swap_parked(struct ingest *in, struct flight *f)
{
	struct batch t = in->b;
	in->b = f->b;
	f->b = t;
}

/*
 * Parks the received batch and appends its items (log_append judges,
 * chains, writes and fsyncs them): a large batch on the committer's thread,
 * while this thread receives the next batch, a small one here. A batch with
 * nothing to append (every envelope refused, or measure updates only) is
 * parked without a commit.
 */
static void
launch(struct ingest *in, size_t n_pend, size_t n_items, int64_t now_ms, bool may_here)
{
	link_items(in, n_pend);
	swap_parked(in, &in->flight);
	in->b.pack_len = 0; /* the next batch packs from the start of its buffer */
	in->flight.n_pend = n_pend;
	in->flight.n_items = n_items;
	in->flight.now_ms = now_ms;
	if (n_items == 0)
		return;
	/*
	 * A small batch commits right here, as the reference loop does: at
	 * 10,000 reports a second (batches of 5 to 15) the hand-off to the
	 * committer's thread and back cost two wake-ups a batch, and its
	 * senders' next envelopes simply wait in the socket meanwhile. Only a
	 * large batch may be worth receiving the next one beside, and only
	 * with CPUs to spare (commits_here_max). (Paced 10,000/s, the
	 * threshold at 8 against 64 with the landed batch answered first, 4
	 * alternating runs: ack p50 796...891 -> 488...750 us, the hub's CPU a
	 * report 87 -> 76 us.) !may_here: a landed batch waits for its acks,
	 * which must not wait for this commit too.
	 */
	if (may_here && n_items <= in->here_max)
		committer_run_here(in->committer, in->flight.b.items, n_items, now_ms / 1000);
	else
		committer_start(in->committer, in->flight.b.items, n_items, now_ms / 1000);
}

/*
 * Ends the commit in flight (it has ended, or this waits for it): the
 * batch moves from flight to landing with how its commit ended. The log
 * is this thread's again until the next launch.
 */
static void
settle(struct ingest *in)
{
	struct flight t = in->landing; /* empty: answer() ran since the last settle */
	in->landing = in->flight;
	in->flight = t;
	in->landing.rc = 0;
	in->landing.err[0] = '\0';
	if (in->landing.n_items > 0)
		in->landing.rc =
		    committer_finish(in->committer, in->landing.err, sizeof in->landing.err);
}

/* Whether the landed batch has a measure update, whose commit needs the log (commit_measure). */
static bool
landing_has_measure(const struct ingest *in)
{
	for (size_t i = 0; i < in->landing.n_pend; i++)
		if (in->landing.b.pend[i].measure)
			return true;
	return false;
}

/*
 * The landed batch, its commit durable (or failed): the acks, the commit
 * hook and the measure updates, all on this thread (the hook's feed,
 * pictures and measures are not thread-safe). The next batch may be
 * committing meanwhile: the items' bodies stay valid through the next
 * log_append (log.h), and the hook does not touch the log. A batch with a
 * measure update is answered with no commit in flight.
 */
static void
answer(struct ingest *in)
{
	swap_parked(in, &in->landing);
	size_t n_pend = in->landing.n_pend, n_items = in->landing.n_items;
	int64_t now_ms = in->landing.now_ms;
	int rc = in->landing.rc;
	if (n_items > 0 && rc != 0) {
		diag_say("ingest: batch of %zu reports refused: %s", n_items, in->landing.err);
		refuse_all(in, n_pend, in->landing.err);
	}
	/*
	 * The reports are durable: their senders hear so first, and the feed,
	 * the pictures and the registry take them after (the senders' next
	 * envelopes arrive meanwhile). Measure updates commit after the
	 * reports, each in a transaction of its own, and are answered then.
	 */
	for (size_t i = 0; i < n_pend; i++)
		if (!in->b.pend[i].measure)
			acknowledge(in, &in->b.pend[i]);
	if (n_items > 0 && rc == 0)
		in->on_commit(in->commit_arg, in->b.items, n_items);
	for (size_t i = 0; i < n_pend; i++) {
		struct pending *p = &in->b.pend[i];
		if (p->measure) {
			if (p->error[0] == '\0')
				commit_measure(in, p, now_ms);
			acknowledge(in, p);
		}
	}
	wire_arena_reset(in->b.arena); /* every envelope of the batch, at once */
	in->landing.n_pend = 0;
	in->landing.n_items = 0;
	swap_parked(in, &in->landing);
}

/*
 * Waits for the commit in flight; while it runs, receives what arrives
 * (when recv is set). Returns true once the commit has ended.
 */
static bool
wait_flight(struct ingest *in, bool recv)
{
	if (!committer_busy(in->committer))
		return true;
	zmq_pollitem_t items[] = {
	    {NULL, committer_fd(in->committer), ZMQ_POLLIN, 0},
	    {in->sock, 0, ZMQ_POLLIN, 0},
	};
	if (recv)
		zfd_used(in->zs); /* zmq_poll asks it */
	if (zmq_poll(items, recv ? 2 : 1, -1) < 0)
		/* EINTR: the caller comes back; anything else: block in committer_finish. */
		return zmq_errno() != EINTR;
	return (items[0].revents & ZMQ_POLLIN) != 0;
}

/*
 * The pipeline: receive batch k+1 (decode, validate) while batch k commits
 * on the committer's thread; when k is durable, a large k+1 is launched
 * and then k's acks and hook run here while k+1 commits (with 4 senders x
 * 100 in flight the committer had waited for them, 15% of the time); a
 * small k+1 commits here after k's acks (launch). A batch that commits
 * here is answered at once, before the next is received; without the
 * committer's thread (commits_here_max) that is every batch, and the loop
 * is the reference's: receive, commit, answer. Judging k+1
 * against the store sees k, because log_append of k+1 starts only after k
 * has committed. Keeps going for INGEST_PIPELINE_MS while envelopes keep
 * coming, then drains: it never returns with a commit in flight.
 */
size_t
ingest_batch(struct ingest *in, int64_t now_ms)
{
	int64_t until = timefmt_mono_ms() + INGEST_PIPELINE_MS;
	size_t handled = 0, n_pend = 0, n_reports = 0, n_items = 0;
	bool first = true;
	for (;;) {
		bool open = first || timefmt_mono_ms() < until;
		/* Take what is waiting, up to the batch limits. */
		while (open && n_pend < (size_t)in->cfg->max_batch_envelopes &&
		       n_reports < INGEST_MAX_BATCH_REPORTS) {
			int rc = receive_one(in, n_pend, &n_reports, &n_items, now_ms);
			if (rc <= 0)
				break;
			n_pend++;
		}
		first = false;
		bool full = n_pend >= (size_t)in->cfg->max_batch_envelopes ||
		            n_reports >= INGEST_MAX_BATCH_REPORTS;
		if (committer_busy(in->committer) || in->flight.n_pend > 0) {
			if (!wait_flight(in, open && !full))
				continue;
			settle(in);
			/* A large batch commits while the landed one is answered. */
			if (n_pend > 0 && n_items > in->here_max && !landing_has_measure(in)) {
				launch(in, n_pend, n_items, now_ms, false);
				handled += n_pend;
				n_pend = n_reports = n_items = 0;
				now_ms = timefmt_now_ms();
				answer(in);
				continue;
			}
			answer(in);
		}
		if (n_pend == 0) {
			if (handled > 0)
				in->last_ms = timefmt_mono_ms();
			if (in->acks_unsent > 0) {
				diag_say("ingest: %llu acknowledgement%s not sent: the sender is "
				         "gone or "
				         "does not read its acknowledgements (what they answer is "
				         "stored; a resend is answered DUPLICATE)",
				         (unsigned long long)in->acks_unsent,
				         in->acks_unsent == 1 ? "" : "s");
				in->acks_unsent = 0;
			}
			return handled;
		}
		launch(in, n_pend, n_items, now_ms, true);
		handled += n_pend;
		n_pend = n_reports = n_items = 0;
		/*
		 * Committed here: its senders hear so before anything more is
		 * received (paced 10,000/s, 5 alternating runs: ack p50 in 4 of
		 * them lower, 649...824 against 675...841 us).
		 */
		if (!committer_busy(in->committer)) {
			settle(in);
			answer(in);
		}
		now_ms = timefmt_now_ms();
	}
}

int64_t
ingest_last_ms(const struct ingest *in)
{
	return in->last_ms;
}

void
ingest_visit(struct ingest *in, int64_t now_ms, ingest_visit_fn fn, void *arg)
{
	for (size_t i = 0; i < INGEST_SEEN_MAX; i++)
		if (in->seen[i].name[0] && now_ms - in->seen[i].last_ms < 60000)
			fn(arg, in->seen[i].name, in->seen[i].role, in->seen[i].org,
			   now_ms - in->seen[i].last_ms);
}
