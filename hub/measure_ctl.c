/* SPDX-License-Identifier: Apache-2.0 */
/*
 * measure_ctl: estctl's measure requests in the running hub (see
 * measure_ctl.h). One change is one log entry, appended in its own
 * transaction: measures change a few times a week, never in bulk.
 */
#include "measure_ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "feed.h"
#include "picture.h"
#include "wire/diag.h"
#include "wire/timefmt.h"

/* At most this many measures in one list reply (the control reply is capped at 1 MiB). */
#define MEASURE_LIST_MAX 5000

bool
measure_ctl_handles(const Est__V1__ControlRequest *req)
{
	switch (req->body_case) {
	case EST__V1__CONTROL_REQUEST__BODY_MEASURE_ADD:
	case EST__V1__CONTROL_REQUEST__BODY_MEASURE_SET:
	case EST__V1__CONTROL_REQUEST__BODY_MEASURE_SHOW:
	case EST__V1__CONTROL_REQUEST__BODY_MEASURE_LIST:
		return true;
	default:
		return false;
	}
}

/* Appends draft as the administrator's change, publishes it and takes it into the registry. */
static int
append(const struct measure_ctl *mc, struct measure_draft *draft, struct measure_reply *mr)
{
	struct measure_entry me;
	struct log_item item = {0};
	char err[256];
	measure_entry_init(&me, draft, "esthub");
	item.entry = &me.entry;
	if (log_append(mc->lg, &item, 1, timefmt_now(), err, sizeof err) != 0) {
		snprintf(mr->message, sizeof mr->message,
		         "store unavailable: %s; nothing was logged", err);
		return -1;
	}
	feed_publish(mc->feed, &item, 1);
	if (measures_take(mc->ms, item.seq, item.body, item.body_len, err, sizeof err) != 0)
		diag_say("measures: seq %llu logged but not taken: %s",
		         (unsigned long long)item.seq, err);
	mr->seq = item.seq;
	return 0;
}

/* Sets reply's one measure (and its seq) from the registry's view of id. */
static void
reply_one(Est__V1__ControlReply *reply, struct measure_reply *mr, const struct measures *ms,
          const char *id)
{
	const struct measure_view *v = measures_find(ms, id);
	if (v == NULL)
		return;
	mr->one = (Est__V1__Measure *)(uintptr_t)v->m;
	reply->measures = &mr->one;
	reply->n_measures = 1;
	if (mr->seq != 0) {
		reply->seqs = &mr->seq;
		reply->n_seqs = 1;
	}
}

static void
serve_add(const struct measure_ctl *mc, const Est__V1__Measure *req, Est__V1__ControlReply *reply,
          struct measure_reply *mr)
{
	struct measure_draft d;
	if (measures_judge_add(mc->ms, mc->lg, req, &d, mr->message, sizeof mr->message) !=
	        MEASURE_CHANGED ||
	    append(mc, &d, mr) != 0)
		return;
	reply->ok = true;
	snprintf(mr->message, sizeof mr->message, "%s", d.id);
	diag_say("measure %s added (%s, %s, %s), seq %llu", d.id, d.m.area,
	         measure_kind_word(d.m.kind), measure_status_word(d.m.status),
	         (unsigned long long)mr->seq);
	audit_note(AUDIT_MEASURE_ADDED, AUDIT_BY_ESTCTL, "measure %s added (%s, %s, %s), seq %llu",
	           d.id, d.m.area, measure_kind_word(d.m.kind), measure_status_word(d.m.status),
	           (unsigned long long)mr->seq);
	reply_one(reply, mr, mc->ms, d.id);
}

static void
serve_set(const struct measure_ctl *mc, const Est__V1__Measure *req, Est__V1__ControlReply *reply,
          struct measure_reply *mr)
{
	struct measure_draft d;
	const struct measure_view *cur;
	int v = measures_judge_set(mc->ms, req, NULL, &d, &cur, mr->message, sizeof mr->message);
	if (v == MEASURE_REFUSED)
		return;
	if (v == MEASURE_UNCHANGED) {
		reply->ok = true;
		snprintf(mr->message, sizeof mr->message,
		         "measure %s is already %s with that outcome; nothing logged",
		         cur->m->measure_id, measure_status_word(cur->m->status));
		reply_one(reply, mr, mc->ms, cur->m->measure_id);
		return;
	}
	const char *from = measure_status_word(cur->m->status);
	if (append(mc, &d, mr) != 0)
		return;
	reply->ok = true;
	measure_change_text(mr->message, sizeof mr->message, d.id, from, d.m.status, mr->seq);
	diag_say("%s", mr->message);
	audit_note(AUDIT_MEASURE_CHANGED, AUDIT_BY_ESTCTL, "%s", mr->message);
	reply_one(reply, mr, mc->ms, d.id);
}

static void
serve_show(const struct measure_ctl *mc, const char *id, Est__V1__ControlReply *reply,
           struct measure_reply *mr)
{
	const struct measure_view *v = measures_find(mc->ms, id);
	if (v == NULL) {
		bool q = strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(id) &&
		         strlen(id) <= 32;
		snprintf(mr->message, sizeof mr->message, "unknown measure%s%s%s", q ? " \"" : "",
		         q ? id : "", q ? "\"" : "");
		return;
	}
	reply->ok = true;
	snprintf(mr->message, sizeof mr->message, "%s", v->m->measure_id);
	reply_one(reply, mr, mc->ms, id);
	/* The before and after, once the measure is done (picture.h). */
	est__v1__followup__init(&mr->followup);
	if (mc->pictures != NULL &&
	    picture_followup(mc->pictures, mc->rules, v, &mr->followup) == 0) {
		mr->followup_ptr = &mr->followup;
		reply->followups = &mr->followup_ptr;
		reply->n_followups = 1;
	}
}

static void
serve_list(const struct measure_ctl *mc, const char *area, Est__V1__ControlReply *reply,
           struct measure_reply *mr)
{
	if (area[0] && !ids_area_valid(area)) {
		snprintf(mr->message, sizeof mr->message,
		         "unknown area (one of marielund, hageby, navestad, klockaretorpet, city)");
		return;
	}
	size_t n, total = 0;
	const struct measure_view *views = measures_views(mc->ms, &n);
	mr->copies = calloc(n ? n : 1, sizeof *mr->copies);
	mr->list = calloc(n ? n : 1, sizeof *mr->list);
	if (mr->copies == NULL || mr->list == NULL) {
		snprintf(mr->message, sizeof mr->message, "hub out of memory");
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (area[0] && strcmp(views[i].m->area, area) != 0)
			continue;
		total++;
		if (k == MEASURE_LIST_MAX)
			continue;
		/* A list shows one line a measure: the free texts stay for `show`. */
		mr->copies[k] = *views[i].m;
		mr->copies[k].description = (char *)"";
		mr->copies[k].outcome = (char *)"";
		mr->list[k] = &mr->copies[k];
		k++;
	}
	reply->ok = true;
	reply->measures = mr->list;
	reply->n_measures = k;
	if (k < total)
		snprintf(mr->message, sizeof mr->message, "the first %zu of %zu measures", k,
		         total);
	else
		snprintf(mr->message, sizeof mr->message, "%zu measure%s", k, k == 1 ? "" : "s");
}

void
measure_ctl_serve(const struct measure_ctl *mc, const Est__V1__ControlRequest *req,
                  Est__V1__ControlReply *reply, struct measure_reply *mr)
{
	reply->message = mr->message;
	switch (req->body_case) {
	case EST__V1__CONTROL_REQUEST__BODY_MEASURE_ADD:
		serve_add(mc, req->measure_add, reply, mr);
		break;
	case EST__V1__CONTROL_REQUEST__BODY_MEASURE_SET:
		serve_set(mc, req->measure_set, reply, mr);
		break;
	case EST__V1__CONTROL_REQUEST__BODY_MEASURE_SHOW:
		serve_show(mc, req->measure_show, reply, mr);
		break;
	case EST__V1__CONTROL_REQUEST__BODY_MEASURE_LIST:
		serve_list(mc, req->measure_list, reply, mr);
		break;
	default:
		snprintf(mr->message, sizeof mr->message, "not a measure request");
	}
}

void
measure_reply_fini(struct measure_reply *mr)
{
	free(mr->copies);
	free(mr->list);
	mr->copies = NULL;
	mr->list = NULL;
}
