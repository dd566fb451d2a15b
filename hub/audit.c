/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit: the queue of audit events and its flush into the log (see
 * audit.h). Notes copy into a fixed array under a mutex; the flush copies
 * the ready records out under the mutex and does the I/O without it, so a
 * note never waits for SQLite.
 */
#include "audit.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "log.h"
#include "wire/diag.h"
#include "wire/ids.h"
#include "wire/timefmt.h"

#define AUDIT_ACTION_MAX 40
#define AUDIT_TOPICS_MAX 16

struct record {
	char action[AUDIT_ACTION_MAX];
	char client[IDS_NAME_MAX + 1];
	char detail[AUDIT_DETAIL_MAX + 1];
	char topics[AUDIT_TOPICS_MAX][IDS_TOPIC_MAX + 1];
	size_t n_topics;
	uint64_t from_seq;
	uint32_t count;
	bool coalesce;         /* a refusal: held until its window closes */
	int64_t first_mono_ms; /* when the window opened */
	int64_t last_mono_ms;
};

/* One queue per process: the hub is one process, and notes come from modules that
 * hold no handle of the hub (see audit.h). */
static struct {
	pthread_mutex_t mu;
	struct record q[AUDIT_QUEUE_MAX]; /* in the order noted */
	size_t n;
	uint64_t dropped; /* since the last flush */
	int64_t last_flush_ms;
} aq = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* --- noting ------------------------------------------------------------ */

/*
 * Keeps s valid UTF-8 without control characters: the entry must stay valid
 * protobuf for every subscriber, and a detail may quote a topic a client
 * sent, cut anywhere by snprintf.
 */
static void
clean_text(char *s)
{
	size_t len = strlen(s);
	/* Drop a multi-byte sequence the cut left incomplete. */
	size_t k = len;
	while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
		k--;
	if (k > 0 && (unsigned char)s[k - 1] >= 0xC0) {
		unsigned char lead = (unsigned char)s[k - 1];
		size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
		if (len - (k - 1) < need)
			s[len = k - 1] = '\0';
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	if (!ids_utf8_valid(s, len))
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)s[i] >= 0x80)
				s[i] = '?';
}

/* A new record at the end of the queue, or NULL (counted as dropped) when it is full. Under mu. */
static struct record *
push(const char *action, const char *client, int64_t now_ms)
{
	if (aq.n == AUDIT_QUEUE_MAX) {
		aq.dropped++;
		return NULL;
	}
	struct record *r = &aq.q[aq.n++];
	memset(r, 0, sizeof *r);
	snprintf(r->action, sizeof r->action, "%s", action);
	snprintf(r->client, sizeof r->client, "%s", client ? client : "");
	clean_text(r->client);
	r->count = 1;
	r->first_mono_ms = r->last_mono_ms = now_ms;
	return r;
}

void
audit_note(const char *action, const char *client, const char *fmt, ...)
{
	char detail[AUDIT_DETAIL_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	clean_text(detail);
	pthread_mutex_lock(&aq.mu);
	struct record *r = push(action, client, timefmt_mono_ms());
	if (r)
		memcpy(r->detail, detail, sizeof r->detail);
	pthread_mutex_unlock(&aq.mu);
}

/* The open window of (action, client), or NULL. Under mu. */
static struct record *
open_window(const char *action, const char *client, int64_t now_ms)
{
	/* From the newest: a hammering client's record is usually near the end. */
	for (size_t i = aq.n; i-- > 0;) {
		struct record *r = &aq.q[i];
		if (r->coalesce && now_ms - r->first_mono_ms < AUDIT_COALESCE_MS &&
		    strcmp(r->client, client) == 0 && strcmp(r->action, action) == 0)
			return r;
	}
	return NULL;
}

void
audit_refusal(const char *action, const char *client, const char *fmt, ...)
{
	int64_t now_ms = timefmt_mono_ms();
	char name[IDS_NAME_MAX + 1];
	snprintf(name, sizeof name, "%s", client ? client : "");
	clean_text(name);
	pthread_mutex_lock(&aq.mu);
	struct record *r = open_window(action, name, now_ms);
	if (r != NULL) {
		/* Only the count changes: the first reason stands for the window. */
		if (r->count < UINT32_MAX)
			r->count++;
		r->last_mono_ms = now_ms;
		pthread_mutex_unlock(&aq.mu);
		return;
	}
	r = push(action, name, now_ms);
	if (r) {
		r->coalesce = true;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->detail, sizeof r->detail, fmt, ap);
		va_end(ap);
		clean_text(r->detail);
	}
	pthread_mutex_unlock(&aq.mu);
}

void
audit_subscription(const char *client, const char (*topics)[IDS_TOPIC_MAX + 1], size_t n_topics,
                   uint64_t from_seq, const char *detail)
{
	pthread_mutex_lock(&aq.mu);
	struct record *r = push(AUDIT_SUBSCRIBED, client, timefmt_mono_ms());
	if (r) {
		for (size_t i = 0; i < n_topics && i < AUDIT_TOPICS_MAX; i++) {
			snprintf(r->topics[i], sizeof r->topics[i], "%s", topics[i]);
			clean_text(r->topics[i]);
		}
		r->n_topics = n_topics < AUDIT_TOPICS_MAX ? n_topics : AUDIT_TOPICS_MAX;
		r->from_seq = from_seq;
		/* The detail repeats the fields, so a one-line summary says it all. */
		size_t len = 0;
		for (size_t i = 0; i < r->n_topics && len < sizeof r->detail; i++)
			len += (size_t)snprintf(r->detail + len, sizeof r->detail - len, "%s%s",
			                        i ? "," : "", r->topics[i]);
		if (len < sizeof r->detail)
			snprintf(r->detail + len, sizeof r->detail - len, " from seq %llu%s%s",
			         (unsigned long long)from_seq,
			         detail && detail[0] ? "; refused: " : "", detail ? detail : "");
		clean_text(r->detail);
	}
	pthread_mutex_unlock(&aq.mu);
}

size_t
audit_pending(void)
{
	pthread_mutex_lock(&aq.mu);
	size_t n = aq.n;
	pthread_mutex_unlock(&aq.mu);
	return n;
}

void
audit_reset(void)
{
	pthread_mutex_lock(&aq.mu);
	aq.n = 0;
	aq.dropped = 0;
	aq.last_flush_ms = 0;
	pthread_mutex_unlock(&aq.mu);
}

/* --- flushing ---------------------------------------------------------- */

/* What one flush appends: the records taken out of the queue and their entries. */
struct batch {
	struct record *recs;
	size_t n;
	uint64_t dropped;
	Est__V1__LogEntry *entries;
	Est__V1__AuditEvent *events;
	char **topic_ptrs; /* AUDIT_TOPICS_MAX per record */
	struct log_item *items;
	struct record dropped_rec; /* the "audit_dropped" entry, when dropped > 0 */
};

static void
batch_free(struct batch *b)
{
	free(b->recs);
	free(b->entries);
	free(b->events);
	free(b->topic_ptrs);
	free(b->items);
}

/*
 * Moves the records due now out of the queue into b, keeping the order of
 * the rest: all when force, else all but the refusals whose window is open.
 * Under mu. 0, or -1 when out of memory (the queue is left as it was).
 */
static int
take_ready(struct batch *b, int64_t now_ms, bool force)
{
	b->recs = malloc((aq.n ? aq.n : 1) * sizeof *b->recs);
	if (b->recs == NULL)
		return -1;
	size_t keep = 0;
	for (size_t i = 0; i < aq.n; i++) {
		struct record *r = &aq.q[i];
		bool due = force || !r->coalesce || now_ms - r->first_mono_ms >= AUDIT_COALESCE_MS;
		if (due)
			b->recs[b->n++] = *r;
		else if (keep != i)
			aq.q[keep++] = *r;
		else
			keep++;
	}
	aq.n = keep;
	b->dropped = aq.dropped;
	aq.dropped = 0;
	return 0;
}

/* Fills event from r; the topic pointers go to ptrs (AUDIT_TOPICS_MAX of them). */
static void
fill_event(Est__V1__AuditEvent *ev, struct record *r, char **ptrs)
{
	est__v1__audit_event__init(ev);
	if (r->coalesce && r->count > 1) {
		size_t len = strlen(r->detail);
		long secs = (long)((r->last_mono_ms - r->first_mono_ms + 999) / 1000);
		snprintf(r->detail + len, sizeof r->detail - len, " (%u times within %ld s)",
		         r->count, secs);
	}
	ev->action = r->action;
	ev->client = r->client;
	ev->detail = r->detail;
	ev->count = r->count;
	ev->from_seq = r->from_seq;
	for (size_t k = 0; k < r->n_topics; k++)
		ptrs[k] = r->topics[k];
	ev->topics = ptrs;
	ev->n_topics = r->n_topics;
}

/* Entries and items for b's records, and one more for the dropped count when there is one. */
static int
build(struct batch *b)
{
	size_t cap = b->n + 1;
	b->entries = calloc(cap, sizeof *b->entries);
	b->events = calloc(cap, sizeof *b->events);
	b->topic_ptrs = calloc(cap * AUDIT_TOPICS_MAX, sizeof *b->topic_ptrs);
	b->items = calloc(cap, sizeof *b->items);
	if (!b->entries || !b->events || !b->topic_ptrs || !b->items)
		return -1;
	struct record *dr = &b->dropped_rec;
	size_t n = b->n;
	if (b->dropped > 0) {
		memset(dr, 0, sizeof *dr);
		snprintf(dr->action, sizeof dr->action, "%s", AUDIT_DROPPED);
		snprintf(dr->detail, sizeof dr->detail,
		         "audit events dropped: %llu (the queue of %d was full, or the store "
		         "refused them)",
		         (unsigned long long)b->dropped, AUDIT_QUEUE_MAX);
		dr->count = b->dropped > UINT32_MAX ? UINT32_MAX : (uint32_t)b->dropped;
	}
	for (size_t i = 0; i < cap; i++) {
		struct record *r = i < n ? &b->recs[i] : dr;
		if (i == n && b->dropped == 0)
			break;
		fill_event(&b->events[i], r, b->topic_ptrs + i * AUDIT_TOPICS_MAX);
		est__v1__log_entry__init(&b->entries[i]);
		b->entries[i].org = (char *)"esthub";
		b->entries[i].topic = (char *)AUDIT_TOPIC;
		b->entries[i].body_case = EST__V1__LOG_ENTRY__BODY_AUDIT;
		b->entries[i].audit = &b->events[i];
		b->items[i].entry = &b->entries[i];
	}
	return 0;
}

int
audit_flush(struct log *lg, struct feed *feed, bool force)
{
	int64_t now_ms = timefmt_mono_ms();
	struct batch b;
	memset(&b, 0, sizeof b);
	pthread_mutex_lock(&aq.mu);
	if ((!force && now_ms - aq.last_flush_ms < AUDIT_FLUSH_MS) ||
	    (aq.n == 0 && aq.dropped == 0)) {
		pthread_mutex_unlock(&aq.mu);
		return 0;
	}
	aq.last_flush_ms = now_ms;
	int rc = take_ready(&b, now_ms, force);
	pthread_mutex_unlock(&aq.mu);
	if (rc != 0 || (b.n == 0 && b.dropped == 0)) {
		batch_free(&b);
		return 0;
	}
	size_t n = b.n + (b.dropped > 0 ? 1 : 0);
	char err[256] = "out of memory";
	if (b.dropped > 0)
		diag_say("audit: %llu audit events dropped (the queue of %d was full)",
		         (unsigned long long)b.dropped, AUDIT_QUEUE_MAX);
	if (build(&b) != 0 || log_append(lg, b.items, n, timefmt_now(), err, sizeof err) != 0) {
		diag_say("audit: %zu audit entries not logged: %s", n, err);
		/* Counted, so the next flush that succeeds says how many were lost. */
		pthread_mutex_lock(&aq.mu);
		aq.dropped += b.n + b.dropped;
		pthread_mutex_unlock(&aq.mu);
		batch_free(&b);
		return -1;
	}
	if (feed != NULL)
		feed_publish(feed, b.items, n);
	batch_free(&b);
	return (int)n;
}
