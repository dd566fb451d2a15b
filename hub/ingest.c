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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "access.h"
#include "areas.h"
#include "auth.h"
#include "config.h"
#include "log.h"
#include "measure.h"
#include "validate.h"
#include "wire/codec.h"
#include "wire/diag.h"
#include "wire/ids.h"

#define INGEST_MAX_BATCH_REPORTS 65536
#define INGEST_SEEN_MAX          256
#define INGEST_RETRY_MS          1000

struct pending {
	zmq_msg_t rid;
	Est__V1__Envelope *env; /* NULL when refused whole */
	uint64_t request_id;
	char error[512];
	uint32_t retry_after_ms;
	char org[IDS_ORG_MAX + 1];
	size_t first; /* index of its first report in the batch arrays */
	size_t n;     /* its number of reports */
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
};

struct seen {
	char name[IDS_NAME_MAX + 1];
	char role[16];
	char org[IDS_ORG_MAX + 1];
	int64_t last_ms;
};

struct ingest {
	void *sock;
	struct log *lg;
	struct auth *auth;
	const struct areas *areas;
	const struct config *cfg;
	ingest_commit_fn on_commit;
	void *commit_arg;
	const struct measures *measures; /* NULL: measure updates are refused */
	struct pending *pend;
	size_t pend_cap;
	struct verdict *verdicts;
	Est__V1__Result *results;
	Est__V1__Result **result_ptrs;
	struct log_item *items;
	Est__V1__LogEntry *entries;
	size_t cap; /* of verdicts, results, result_ptrs, items, entries */
	struct seen seen[INGEST_SEEN_MAX];
};

struct ingest *
ingest_new(void *sock, struct log *lg, struct auth *auth, const struct areas *areas,
           const struct config *cfg, ingest_commit_fn on_commit, void *commit_arg)
{
	struct ingest *in = calloc(1, sizeof *in);
	if (in == NULL)
		return NULL;
	in->sock = sock;
	in->lg = lg;
	in->auth = auth;
	in->areas = areas;
	in->cfg = cfg;
	in->on_commit = on_commit;
	in->commit_arg = commit_arg;
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
	free(in->pend);
	free(in->verdicts);
	free(in->results);
	free(in->result_ptrs);
	free(in->items);
	free(in->entries);
	free(in);
	*ip = NULL;
}

/* Makes room for need reports in the batch arrays. */
static int
reserve(struct ingest *in, size_t need)
{
	if (need <= in->cap)
		return 0;
	size_t cap = in->cap ? in->cap : 1024;
	while (cap < need)
		cap *= 2;
#define GROW(field)                                                                                \
	do {                                                                                       \
		void *p = realloc(in->field, cap * sizeof *in->field);                             \
		if (p == NULL)                                                                     \
			return -1;                                                                 \
		in->field = p;                                                                     \
	} while (0)
	GROW(verdicts);
	GROW(results);
	GROW(result_ptrs);
	GROW(items);
	GROW(entries);
#undef GROW
	in->cap = cap;
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
		struct verdict *v = &in->verdicts[*n_reports + i];
		Est__V1__Report *r = batch->reports[i];
		v->item = -1;
		if (validate_report(r, in->areas, now_ms / 1000, in->cfg->max_future_seconds,
		                    v->error, sizeof v->error) != 0)
			continue;
		/* Masks in r when so configured, before the log judges idempotency. */
		if (validate_report_personal(r, (enum personal_mode)in->cfg->personal_data,
		                             v->error, sizeof v->error) != 0)
			continue;
		snprintf(v->topic, sizeof v->topic, "%s/reports", r->area);
		Est__V1__LogEntry *e = &in->entries[*n_items];
		est__v1__log_entry__init(e);
		e->body_case = EST__V1__LOG_ENTRY__BODY_REPORT;
		e->report = r;
		v->item = (long)(*n_items)++;
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
		refuse(p, 0, "certificate revoked");
		return;
	}
	note_seen(in, who, now_ms);
	if (!access_may_send(who, err, sizeof err)) {
		refuse(p, 0, "%s", err);
		return;
	}
	snprintf(p->org, sizeof p->org, "%s", who->org);
	if (len > (size_t)in->cfg->max_frame_bytes) {
		refuse(p, 0,
		       "frame of %zu bytes exceeds the limit of %ld bytes "
		       "(limits.max_frame_bytes)",
		       len, in->cfg->max_frame_bytes);
		return;
	}
	p->env = (Est__V1__Envelope *)wire_unpack(&est__v1__envelope__descriptor,
	                                          zmq_msg_data(body), len, len, err, sizeof err);
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
	if (p->error[0] && p->env) {
		est__v1__envelope__free_unpacked(p->env, NULL);
		p->env = NULL;
	}
}

/* Receives one message into a new pending slot; 0 none waiting, 1 got one, -1 no memory. */
static int
receive_one(struct ingest *in, size_t n_pend, size_t *n_reports, size_t *n_items, int64_t now_ms)
{
	if (n_pend == in->pend_cap) {
		size_t cap = in->pend_cap ? in->pend_cap * 2 : 64;
		struct pending *p = realloc(in->pend, cap * sizeof *p);
		if (p == NULL)
			return -1;
		in->pend = p;
		in->pend_cap = cap;
	}
	struct pending *p = &in->pend[n_pend];
	memset(p, 0, sizeof *p);
	zmq_msg_init(&p->rid);
	if (zmq_msg_recv(&p->rid, in->sock, ZMQ_DONTWAIT) < 0) {
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
	zmq_msg_close(&body);
	return 1;
}

/* Sends p's Ack with its results. */
static void
acknowledge(struct ingest *in, struct pending *p)
{
	Est__V1__Ack ack = EST__V1__ACK__INIT;
	ack.request_id = p->request_id;
	ack.error = p->error;
	ack.retry_after_ms = p->retry_after_ms;
	if (p->env && p->error[0] == '\0') {
		for (size_t i = 0; i < p->n; i++) {
			size_t k = p->first + i;
			struct verdict *v = &in->verdicts[k];
			Est__V1__Result *r = &in->results[k];
			Est__V1__Report *rep = p->env->reports->reports[i];
			est__v1__result__init(r);
			/* Never echo what is not UTF-8: the Ack must stay valid protobuf. */
			if (ids_utf8_valid(rep->source_id, strlen(rep->source_id)))
				r->source_id = rep->source_id;
			r->revision = rep->revision;
			if (v->item < 0) {
				r->status = EST__V1__STATUS__STATUS_REJECTED;
				r->error = v->error;
			} else {
				struct log_item *it = &in->items[v->item];
				r->status = it->status;
				r->seq = it->seq;
				r->error = it->error;
			}
			in->result_ptrs[k] = r;
		}
		ack.n_results = p->n;
		ack.results = in->result_ptrs + p->first;
		if (p->measure) {
			ack.n_results = 1;
			ack.results = &p->mresult_ptr;
		}
	}
	if (zmq_msg_send(&p->rid, in->sock, ZMQ_SNDMORE) < 0) {
		zmq_msg_close(&p->rid);
		return;
	}
	if (wire_send(in->sock, &ack.base, 0) != 0)
		diag_debug("ingest: ack not sent: %s", zmq_strerror(zmq_errno()));
}

/* Points items at entries, org and topic once the arrays have stopped moving. */
static void
link_items(struct ingest *in, size_t n_pend)
{
	for (size_t i = 0; i < n_pend; i++) {
		struct pending *p = &in->pend[i];
		if (p->env == NULL)
			continue;
		for (size_t k = p->first; k < p->first + p->n; k++) {
			struct verdict *v = &in->verdicts[k];
			if (v->item < 0)
				continue;
			struct log_item *it = &in->items[v->item];
			memset(it, 0, sizeof *it);
			it->entry = &in->entries[v->item];
			it->entry->org = p->org;
			it->entry->topic = v->topic;
		}
	}
}

/* After a failed commit: every envelope with reports is refused for a retry. */
static void
refuse_all(struct ingest *in, size_t n_pend, const char *why)
{
	for (size_t i = 0; i < n_pend; i++) {
		struct pending *p = &in->pend[i];
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
	in->on_commit(in->commit_arg, &item, 1);
	r->status = EST__V1__STATUS__STATUS_ACCEPTED;
	r->seq = item.seq;
}

size_t
ingest_batch(struct ingest *in, int64_t now_ms)
{
	size_t n_pend = 0, n_reports = 0, n_items = 0;
	while (n_pend < (size_t)in->cfg->max_batch_envelopes &&
	       n_reports < INGEST_MAX_BATCH_REPORTS) {
		int rc = receive_one(in, n_pend, &n_reports, &n_items, now_ms);
		if (rc <= 0)
			break;
		n_pend++;
	}
	if (n_pend == 0)
		return 0;
	link_items(in, n_pend);
	char err[256];
	if (n_items > 0) {
		if (log_append(in->lg, in->items, n_items, now_ms / 1000, err, sizeof err) != 0) {
			diag_say("ingest: batch of %zu reports refused: %s", n_items, err);
			refuse_all(in, n_pend, err);
		} else {
			in->on_commit(in->commit_arg, in->items, n_items);
		}
	}
	for (size_t i = 0; i < n_pend; i++)
		if (in->pend[i].measure && in->pend[i].error[0] == '\0')
			commit_measure(in, &in->pend[i], now_ms);
	for (size_t i = 0; i < n_pend; i++) {
		acknowledge(in, &in->pend[i]);
		if (in->pend[i].env)
			est__v1__envelope__free_unpacked(in->pend[i].env, NULL);
	}
	return n_pend;
}

void
ingest_visit(struct ingest *in, int64_t now_ms, ingest_visit_fn fn, void *arg)
{
	for (size_t i = 0; i < INGEST_SEEN_MAX; i++)
		if (in->seen[i].name[0] && now_ms - in->seen[i].last_ms < 60000)
			fn(arg, in->seen[i].name, in->seen[i].role, in->seen[i].org,
			   in->seen[i].last_ms);
}
