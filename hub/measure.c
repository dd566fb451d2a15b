/* SPDX-License-Identifier: Apache-2.0 */
/*
 * measure: the registry and the lifecycle rules (see measure.h). Each
 * measure is kept as its latest log entry, decoded; the views point into
 * those entries. Ids are "m" and a number, so the number is also the index
 * of the measure in creation order, which makes finding one O(1) while the
 * log has every creation entry (a linear search covers the rest).
 */
#include "measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "personal.h"
#include "wire/ids.h"

#define STATUS(x) EST__V1__MEASURE_STATUS__MEASURE_STATUS_##x
#define KIND(x)   EST__V1__MEASURE_KIND__MEASURE_KIND_##x
#define GROUP(x)  EST__V1__WORKING_GROUP__GROUP_##x

struct slot {
	Est__V1__LogEntry *entry; /* the latest; owns the measure */
	int64_t progress_at;      /* logged_at of the change to in_progress (or done) */
	int64_t over_at;          /* logged_at of the change to done or cancelled */
};

struct measures {
	struct slot *slots;
	struct measure_view *views; /* parallel to slots */
	size_t n, cap;
	uint64_t next_number; /* of the next new id */
};

/* --- words ----------------------------------------------------------------- */

static const char *const status_words[] = {"unspecified", "proposed", "decided",
                                           "in_progress", "done",     "cancelled"};
static const char *const kind_words[] = {
    "unspecified", "presence",        "lighting", "vegetation",       "wifi", "cleanup",
    "outreach",    "skills_training", "leisure",  "parental_support", "other"};
static const char *const group_words[] = {"unspecified", "situational", "social"};

#define WORD(table, v)                                                                             \
	((v) >= 0 && (size_t)(v) < sizeof table / sizeof table[0] ? table[v] : "unknown")

const char *
measure_status_word(int status)
{
	return WORD(status_words, status);
}

const char *
measure_kind_word(int kind)
{
	return WORD(kind_words, kind);
}

const char *
measure_group_word(int group)
{
	return WORD(group_words, group);
}

void
measure_change_text(char *out, size_t outlen, const char *id, const char *from_word, int to_status,
                    uint64_t seq)
{
	const char *to = measure_status_word(to_status);
	if (strcmp(from_word, to) == 0)
		snprintf(out, outlen, "measure %s: outcome changed (%s), seq %llu", id, to,
		         (unsigned long long)seq);
	else
		snprintf(out, outlen, "measure %s: %s -> %s, seq %llu", id, from_word, to,
		         (unsigned long long)seq);
}

Est__V1__WorkingGroup
measure_group_of(const char *area, Est__V1__MeasureKind kind)
{
	if (strcmp(area, "city") == 0)
		return GROUP(UNSPECIFIED); /* city has no working groups */
	switch (kind) {
	case KIND(OUTREACH):
	case KIND(SKILLS_TRAINING):
	case KIND(LEISURE):
	case KIND(PARENTAL_SUPPORT):
		return GROUP(SOCIAL);
	default:
		return GROUP(SITUATIONAL);
	}
}

/* --- lifecycle --------------------------------------------------------------- */

/* The order of the lifecycle; cancelled stands apart. */
static int
rank_of(Est__V1__MeasureStatus s)
{
	switch (s) {
	case STATUS(PROPOSED):
		return 1;
	case STATUS(DECIDED):
		return 2;
	case STATUS(IN_PROGRESS):
		return 3;
	case STATUS(DONE):
		return 4;
	default:
		return 0;
	}
}

int
measure_may_change(const char *id, Est__V1__MeasureStatus from, Est__V1__MeasureStatus to,
                   char *err, size_t errlen)
{
	const char *f = measure_status_word(from), *t = measure_status_word(to);
	if (rank_of(to) == 0 && to != STATUS(CANCELLED)) {
		snprintf(err, errlen, "status: not a status a measure can go to (%s)", t);
		return -1;
	}
	if (from == to)
		return 0;
	if (from == STATUS(DONE)) {
		snprintf(err, errlen,
		         "measure %s is done; a done measure is final and cannot go to %s "
		         "(only its outcome may still change)",
		         id, t);
		return -1;
	}
	if (from == STATUS(CANCELLED)) {
		snprintf(err, errlen,
		         "measure %s is cancelled; a cancelled measure cannot go to %s", id, t);
		return -1;
	}
	if (to == STATUS(CANCELLED))
		return 0;
	if (rank_of(to) < rank_of(from)) {
		snprintf(err, errlen, "measure %s is %s; a measure cannot go back to %s", id, f, t);
		return -1;
	}
	if (from == STATUS(PROPOSED) && to != STATUS(DECIDED)) {
		snprintf(err, errlen,
		         "measure %s is proposed; a proposed measure must be decided before it "
		         "can go to %s",
		         id, t);
		return -1;
	}
	return 0;
}

/* --- the registry -------------------------------------------------------------- */

struct measures *
measures_new(void)
{
	struct measures *ms = calloc(1, sizeof *ms);
	if (ms)
		ms->next_number = 1;
	return ms;
}

void
measures_destroy(struct measures **msp)
{
	if (msp == NULL || *msp == NULL)
		return;
	struct measures *ms = *msp;
	for (size_t i = 0; i < ms->n; i++)
		est__v1__log_entry__free_unpacked(ms->slots[i].entry, NULL);
	free(ms->slots);
	free(ms->views);
	free(ms);
	*msp = NULL;
}

/* The number of an id "m<digits>", 0 when it is not one. */
static uint64_t
id_number(const char *id)
{
	if (id[0] != 'm' || id[1] < '1' || id[1] > '9' || strlen(id) > MEASURE_ID_MAX)
		return 0;
	uint64_t v = 0;
	for (const char *p = id + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

static long
find_index(const struct measures *ms, const char *id)
{
	uint64_t num = id_number(id);
	if (num >= 1 && num <= ms->n && strcmp(ms->views[num - 1].m->measure_id, id) == 0)
		return (long)(num - 1);
	for (size_t i = 0; i < ms->n; i++)
		if (strcmp(ms->views[i].m->measure_id, id) == 0)
			return (long)i;
	return -1;
}

const struct measure_view *
measures_find(const struct measures *ms, const char *id)
{
	long i = find_index(ms, id);
	return i < 0 ? NULL : &ms->views[i];
}

const struct measure_view *
measures_views(const struct measures *ms, size_t *n)
{
	*n = ms->n;
	return ms->views;
}

static int
grow(struct measures *ms)
{
	if (ms->n < ms->cap)
		return 0;
	size_t cap = ms->cap ? ms->cap * 2 : 64;
	struct slot *s = realloc(ms->slots, cap * sizeof *s);
	if (s == NULL)
		return -1;
	ms->slots = s;
	struct measure_view *v = realloc(ms->views, cap * sizeof *v);
	if (v == NULL)
		return -1;
	ms->views = v;
	ms->cap = cap;
	return 0;
}

/* Recomputes what the view tells of the lifecycle from slot s. */
static void
view_refresh(struct measure_view *v, const struct slot *s, uint64_t seq)
{
	const Est__V1__Measure *m = s->entry->measure;
	v->m = m;
	v->last_seq = seq;
	v->started_at = 0;
	if (s->progress_at != 0)
		v->started_at = m->starts_at != 0 ? m->starts_at : s->progress_at;
	v->ended_at = 0;
	if (s->over_at != 0)
		v->ended_at = m->ends_at != 0 ? m->ends_at : s->over_at;
}

int
measures_take(struct measures *ms, uint64_t seq, const uint8_t *body, size_t body_len, char *err,
              size_t errlen)
{
	if (body == NULL)
		return 0; /* purged (gallring) */
	Est__V1__LogEntry *e = est__v1__log_entry__unpack(NULL, body_len, body);
	if (e == NULL) {
		snprintf(err, errlen, "seq %llu: undecodable entry", (unsigned long long)seq);
		return -1;
	}
	if (e->body_case != EST__V1__LOG_ENTRY__BODY_MEASURE) {
		est__v1__log_entry__free_unpacked(e, NULL);
		return 0;
	}
	const Est__V1__Measure *m = e->measure;
	long i = find_index(ms, m->measure_id);
	if (i < 0) {
		if (ms->n >= MEASURE_MAX_COUNT || grow(ms) != 0) {
			snprintf(err, errlen, "seq %llu: %s", (unsigned long long)seq,
			         ms->n >= MEASURE_MAX_COUNT ? "too many measures"
			                                    : "out of memory");
			est__v1__log_entry__free_unpacked(e, NULL);
			return -1;
		}
		i = (long)ms->n++;
		ms->slots[i] = (struct slot){0};
		ms->views[i] = (struct measure_view){.first_seq = seq, .created_at = e->logged_at};
		uint64_t num = id_number(m->measure_id);
		if (num >= ms->next_number)
			ms->next_number = num + 1;
	}
	struct slot *s = &ms->slots[i];
	if (s->entry)
		est__v1__log_entry__free_unpacked(s->entry, NULL);
	s->entry = e;
	if (s->progress_at == 0 && (m->status == STATUS(IN_PROGRESS) || m->status == STATUS(DONE)))
		s->progress_at = e->logged_at;
	if (s->over_at == 0 && (m->status == STATUS(DONE) || m->status == STATUS(CANCELLED)))
		s->over_at = e->logged_at;
	view_refresh(&ms->views[i], s, seq);
	return 0;
}

struct load {
	struct measures *ms;
	char *err;
	size_t errlen;
};

static int
load_visit(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
           const uint8_t *hash)
{
	struct load *ld = arg;
	(void)hash;
	const char *slash = strchr(topic, '/');
	/* Only measure entries are decoded: the log is mostly reports. */
	if (slash == NULL || strcmp(slash + 1, "measures") != 0)
		return 0;
	return measures_take(ld->ms, seq, body, body_len, ld->err, ld->errlen) == 0 ? 0 : -1;
}

int
measures_load(struct measures *ms, struct log *lg, char *err, size_t errlen)
{
	struct load ld = {ms, err, errlen};
	uint64_t head = log_head_seq(lg);
	if (head == 0)
		return 0;
	return log_scan(lg, 1, head, load_visit, &ld, err, errlen) == 0 ? 0 : -1;
}

void
measure_entry_init(struct measure_entry *me, struct measure_draft *draft, const char *org)
{
	/* A request may carry fields this build does not know: never log them. */
	draft->m.base.n_unknown_fields = 0;
	draft->m.base.unknown_fields = NULL;
	est__v1__log_entry__init(&me->entry);
	snprintf(me->topic, sizeof me->topic, "%s/measures", draft->m.area);
	me->entry.org = (char *)(uintptr_t)org;
	me->entry.topic = me->topic;
	me->entry.body_case = EST__V1__LOG_ENTRY__BODY_MEASURE;
	me->entry.measure = &draft->m;
}

/* --- judging ------------------------------------------------------------------- */

/* Whether s is an id one may quote back in a message (never free text). */
static bool
id_like(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int
check_text(const char *field, const char *s, size_t max, char *err, size_t errlen)
{
	size_t n = strlen(s);
	if (n > max) {
		snprintf(err, errlen, "%s: %zu bytes, more than the limit of %zu", field, n, max);
		return -1;
	}
	if (!ids_utf8_valid(s, n)) {
		snprintf(err, errlen, "%s: not valid UTF-8", field);
		return -1;
	}
	/* Measures' texts are written by people who can rewrite them: personal
	 * data is refused, never masked, whatever privacy.personal_data says. */
	char *masked = NULL;
	return personal_check_field(field, s, PERSONAL_REJECT, &masked, err, errlen) == 0 ? 0 : -1;
}

struct seq_probe {
	bool found;
	bool report;
};

static int
probe_visit(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
            const uint8_t *hash)
{
	struct seq_probe *p = arg;
	(void)seq, (void)body, (void)body_len, (void)hash;
	const char *slash = strchr(topic, '/');
	p->found = true;
	p->report = slash != NULL && strcmp(slash + 1, "reports") == 0;
	return 1;
}

/* Every report_seq an existing report entry of lg, each once. */
static int
check_report_seqs(struct log *lg, const Est__V1__Measure *req, char *err, size_t errlen)
{
	if (req->n_report_seqs > MEASURE_MAX_REPORT_SEQS) {
		snprintf(err, errlen, "report_seqs: %zu seqs, more than the limit of %d",
		         req->n_report_seqs, MEASURE_MAX_REPORT_SEQS);
		return -1;
	}
	uint64_t head = log_head_seq(lg);
	for (size_t i = 0; i < req->n_report_seqs; i++) {
		uint64_t s = req->report_seqs[i];
		unsigned long long su = (unsigned long long)s;
		for (size_t k = 0; k < i; k++)
			if (req->report_seqs[k] == s) {
				snprintf(err, errlen, "report_seqs: seq %llu is listed twice", su);
				return -1;
			}
		struct seq_probe p = {0};
		if (s == 0 || s > head) {
			snprintf(err, errlen,
			         "report_seqs: seq %llu is not in the log (head is %llu)", su,
			         (unsigned long long)head);
			return -1;
		}
		if (log_scan(lg, s, s, probe_visit, &p, err, errlen) < 0)
			return -1;
		if (!p.found || !p.report) {
			snprintf(err, errlen, "report_seqs: seq %llu is %s", su,
			         p.found ? "not a report entry" : "not in the log");
			return -1;
		}
	}
	return 0;
}

static int
check_position(const Est__V1__Position *pos, char *err, size_t errlen)
{
	if (pos == NULL)
		return 0;
	if (!isfinite(pos->lat) || pos->lat < -90.0 || pos->lat > 90.0 || !isfinite(pos->lon) ||
	    pos->lon < -180.0 || pos->lon > 180.0) {
		snprintf(err, errlen,
		         "position: latitude -90..90 and longitude -180..180 expected");
		return -1;
	}
	return 0;
}

/* The fields of a new measure, each on its own; the report seqs are checked apart. */
static int
check_new(const Est__V1__Measure *req, char *err, size_t errlen)
{
	if (req->measure_id[0] != '\0') {
		snprintf(err, errlen, "measure_id: the hub assigns it; leave it empty");
		return -1;
	}
	if (req->area[0] == '\0' || !ids_area_valid(req->area)) {
		bool q = id_like(req->area);
		snprintf(
		    err, errlen,
		    "area: %s%s%s%s (one of marielund, hageby, navestad, klockaretorpet, city)",
		    req->area[0] ? "unknown area" : "required", q ? " \"" : "", q ? req->area : "",
		    q ? "\"" : "");
		return -1;
	}
	if (!protobuf_c_enum_descriptor_get_value(&est__v1__measure_kind__descriptor,
	                                          (int)req->kind) ||
	    req->kind == KIND(UNSPECIFIED)) {
		snprintf(err, errlen, "kind: %s",
		         req->kind ? "not a known measure kind" : "required");
		return -1;
	}
	if (req->assigned_org[0] == '\0' || !ids_org_valid(req->assigned_org)) {
		snprintf(err, errlen, "assigned_org: %s",
		         req->assigned_org[0] ? "not an organisation id ([a-z0-9-], 1 to 32)"
		                              : "required (the organisation that carries it out)");
		return -1;
	}
	Est__V1__WorkingGroup g = measure_group_of(req->area, req->kind);
	if (req->group != GROUP(UNSPECIFIED) && req->group != g) {
		if (g == GROUP(UNSPECIFIED))
			snprintf(err, errlen,
			         "group: measures in %s belong to no group (it has none)",
			         req->area);
		else
			snprintf(
			    err, errlen,
			    "group: %s measures belong to the %s group (it follows from the kind)",
			    measure_kind_word(req->kind), measure_group_word(g));
		return -1;
	}
	if (req->status != STATUS(UNSPECIFIED) && req->status != STATUS(PROPOSED) &&
	    req->status != STATUS(DECIDED)) {
		snprintf(err, errlen, "status: a new measure is proposed or decided");
		return -1;
	}
	if (req->starts_at < 0 || req->ends_at < 0) {
		snprintf(err, errlen, "%s: before 1970",
		         req->starts_at < 0 ? "starts_at" : "ends_at");
		return -1;
	}
	if (req->starts_at != 0 && req->ends_at != 0 && req->ends_at < req->starts_at) {
		snprintf(err, errlen, "ends_at: before starts_at");
		return -1;
	}
	return check_position(req->position, err, errlen) ||
	       check_text("place", req->place, MEASURE_PLACE_MAX, err, errlen) ||
	       check_text("description", req->description, MEASURE_TEXT_MAX, err, errlen) ||
	       check_text("outcome", req->outcome, MEASURE_TEXT_MAX, err, errlen);
}

int
measures_judge_add(const struct measures *ms, struct log *lg, const Est__V1__Measure *req,
                   struct measure_draft *out, char *err, size_t errlen)
{
	if (check_new(req, err, errlen) != 0 || check_report_seqs(lg, req, err, errlen) != 0)
		return MEASURE_REFUSED;
	if (ms->n >= MEASURE_MAX_COUNT) {
		snprintf(err, errlen, "the hub holds %d measures, its limit", MEASURE_MAX_COUNT);
		return MEASURE_REFUSED;
	}
	out->m = *req;
	snprintf(out->id, sizeof out->id, "m%llu", (unsigned long long)ms->next_number);
	out->m.measure_id = out->id;
	out->m.group = measure_group_of(req->area, req->kind);
	if (out->m.status == STATUS(UNSPECIFIED))
		out->m.status = STATUS(PROPOSED);
	return MEASURE_CHANGED;
}

static bool
same_position(const Est__V1__Position *a, const Est__V1__Position *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->lat == b->lat && a->lon == b->lon;
}

/* The first field of a change that is set and differs from the measure's, or NULL. */
static const char *
fixed_field_changed(const Est__V1__Measure *req, const Est__V1__Measure *cur)
{
	if (req->area[0] && strcmp(req->area, cur->area) != 0)
		return "area";
	if (req->place[0] && strcmp(req->place, cur->place) != 0)
		return "place";
	if (req->position && !same_position(req->position, cur->position))
		return "position";
	if (req->kind && req->kind != cur->kind)
		return "kind";
	if (req->group && req->group != cur->group)
		return "group";
	if (req->assigned_org[0] && strcmp(req->assigned_org, cur->assigned_org) != 0)
		return "assigned_org";
	if (req->starts_at && req->starts_at != cur->starts_at)
		return "starts_at";
	if (req->ends_at && req->ends_at != cur->ends_at)
		return "ends_at";
	if (req->n_report_seqs && (req->n_report_seqs != cur->n_report_seqs ||
	                           memcmp(req->report_seqs, cur->report_seqs,
	                                  req->n_report_seqs * sizeof(uint64_t)) != 0))
		return "report_seqs";
	if (req->description[0] && strcmp(req->description, cur->description) != 0)
		return "description";
	return NULL;
}

int
measures_judge_set(const struct measures *ms, const Est__V1__Measure *req, const char *org,
                   struct measure_draft *out, const struct measure_view **current, char *err,
                   size_t errlen)
{
	if (current)
		*current = NULL;
	if (req->measure_id[0] == '\0') {
		snprintf(err, errlen, "measure_id: required (the id the hub gave, e.g. m3)");
		return MEASURE_REFUSED;
	}
	const struct measure_view *v = measures_find(ms, req->measure_id);
	if (v == NULL) {
		bool q = id_like(req->measure_id);
		snprintf(err, errlen, "measure_id: unknown measure%s%s%s", q ? " \"" : "",
		         q ? req->measure_id : "", q ? "\"" : "");
		return MEASURE_REFUSED;
	}
	if (current)
		*current = v;
	const Est__V1__Measure *cur = v->m;
	if (org != NULL && strcmp(org, cur->assigned_org) != 0) {
		snprintf(err, errlen, "measure %s is not assigned to your organisation (%s)",
		         cur->measure_id, org);
		return MEASURE_REFUSED;
	}
	const char *fixed = fixed_field_changed(req, cur);
	if (fixed) {
		snprintf(err, errlen,
		         "%s: cannot be changed by an update (only status and outcome may change)",
		         fixed);
		return MEASURE_REFUSED;
	}
	if (req->status != STATUS(UNSPECIFIED) &&
	    !protobuf_c_enum_descriptor_get_value(&est__v1__measure_status__descriptor,
	                                          (int)req->status)) {
		snprintf(err, errlen, "status: not a known measure status");
		return MEASURE_REFUSED;
	}
	Est__V1__MeasureStatus to = req->status ? req->status : cur->status;
	if (measure_may_change(cur->measure_id, cur->status, to, err, errlen) != 0 ||
	    check_text("outcome", req->outcome, MEASURE_TEXT_MAX, err, errlen) != 0)
		return MEASURE_REFUSED;
	const char *outcome = req->outcome[0] ? req->outcome : cur->outcome;
	if (to == cur->status && strcmp(outcome, cur->outcome) == 0)
		return MEASURE_UNCHANGED;
	out->m = *cur;
	snprintf(out->id, sizeof out->id, "%s", cur->measure_id);
	out->m.measure_id = out->id;
	out->m.status = to;
	out->m.outcome = (char *)(uintptr_t)outcome;
	return MEASURE_CHANGED;
}
