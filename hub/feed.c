/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed: subscriptions, credit and delivery (see feed.h). Frames are built
 * from the stored bytes without re-encoding: a FeedEvent holding a LogEntry
 * is the tag of FeedEvent.entry, the length, the stored LogEntry (hash
 * empty) and the hash field appended, which protobuf parses as one message.
 */
#include "feed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <zmq.h>

#include "access.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "wire/codec.h"
#include "wire/diag.h"
#include "wire/ids.h"
#include "zfd.h"

#define FEED_MAX_PATTERNS  16
#define FEED_RID_MAX       256
#define FEED_PUMP_BUDGET   256 /* entries looked at per subscriber per pump */
#define FEED_REQUEST_BYTES 65536

/*
 * A recent entry. Its frame is a zmq message built once when the entry is
 * appended: each subscriber is sent a zmq_msg_copy of it, which shares the
 * bytes by reference count instead of copying them (50 subscribers, one
 * frame). The slot holds one reference of its own; libzmq frees the bytes
 * when the last reference goes, so a copy still queued in libzmq stays
 * valid after the slot is reused or forgotten.
 */
struct cached {
	uint64_t seq; /* 0: empty slot (msg not initialised) */
	char topic[IDS_TOPIC_MAX + 1];
	int group;     /* a measure's working group (access_may_read_entry), else 0 */
	zmq_msg_t msg; /* a whole FeedEvent */
};

struct sub {
	TAILQ_ENTRY(sub) link;
	uint8_t rid[FEED_RID_MAX];
	size_t rid_len;
	char key[CERT_Z85_LEN + 1];
	char patterns[FEED_MAX_PATTERNS][IDS_TOPIC_MAX + 1];
	size_t n_patterns;
	uint64_t next_seq;
	uint64_t credit;
	uint64_t catchup_head;
	bool caught_up_sent;
	bool dead; /* the peer is gone: remove at the next tick */
	int64_t heard_ms;
};

/*
 * Entries read back from the store for subscribers behind the ring, in slots
 * by seq like the ring. Subscribers that fall behind it together (50 working
 * groups following a burst faster than they drain) read the same stretch of
 * the log: without this each built and queued a frame of its own, up to its
 * credit, and 50 subscribers with 1,000 credit each held about 16 MiB of
 * copies of the same few thousand entries. Only entries some subscriber was
 * sent are kept (a frame for every entry looked at would cost a catch-up
 * that reads one topic of five a frame per entry it skips).
 */
#define FEED_READ_ENTRIES 4096

struct feed {
	void *sock;
	struct zfd *zs; /* sock's ZMQ_FD and whether it must be asked */
	struct log *lg;
	struct auth *auth;
	const struct config *cfg;
	TAILQ_HEAD(, sub) subs;
	struct cached *ring;
	size_t ring_cap;
	struct cached *read; /* FEED_READ_ENTRIES slots, see above */
};

struct feed *
feed_new(struct zfd *zs, struct log *lg, struct auth *auth, const struct config *cfg)
{
	struct feed *f = calloc(1, sizeof *f);
	if (f == NULL)
		return NULL;
	f->zs = zs;
	f->sock = zs->sock;
	f->lg = lg;
	f->auth = auth;
	f->cfg = cfg;
	TAILQ_INIT(&f->subs);
	f->ring_cap = (size_t)cfg->cache_entries;
	f->ring = calloc(f->ring_cap, sizeof *f->ring);
	f->read = calloc(FEED_READ_ENTRIES, sizeof *f->read);
	if (f->ring == NULL || f->read == NULL) {
		free(f->read);
		free(f->ring);
		free(f);
		return NULL;
	}
	return f;
}

void
feed_destroy(struct feed **fp)
{
	if (fp == NULL || *fp == NULL)
		return;
	struct feed *f = *fp;
	struct sub *s;
	while ((s = TAILQ_FIRST(&f->subs)) != NULL) {
		TAILQ_REMOVE(&f->subs, s, link);
		free(s);
	}
	for (size_t i = 0; i < f->ring_cap; i++)
		if (f->ring[i].seq != 0)
			zmq_msg_close(&f->ring[i].msg);
	for (size_t i = 0; i < FEED_READ_ENTRIES; i++)
		if (f->read[i].seq != 0)
			zmq_msg_close(&f->read[i].msg);
	free(f->read);
	free(f->ring);
	free(f);
	*fp = NULL;
}

/* --- frames ------------------------------------------------------------ */

static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		p[n++] = b | (v ? 0x80 : 0);
	} while (v);
	return n;
}

/*
 * A new FeedEvent{entry} message from a stored body and its hash, written
 * into the message's own buffer (one allocation, libzmq's). 0, or -1 when
 * out of memory (msg is then not initialised).
 */
static int
entry_msg(zmq_msg_t *msg, const uint8_t *body, size_t body_len, const uint8_t *hash)
{
	size_t entry_len = body_len + 2 + CRYPTO_HASH_BYTES;
	uint8_t head[1 + 10];
	size_t n = 0;
	head[n++] = (1 << 3) | 2; /* FeedEvent.entry, length-delimited */
	n += put_varint(head + n, entry_len);
	if (zmq_msg_init_size(msg, n + entry_len) != 0)
		return -1;
	uint8_t *frame = zmq_msg_data(msg);
	memcpy(frame, head, n);
	if (body_len)
		memcpy(frame + n, body, body_len);
	n += body_len;
	frame[n++] = (5 << 3) | 2; /* LogEntry.hash */
	frame[n++] = CRYPTO_HASH_BYTES;
	memcpy(frame + n, hash, CRYPTO_HASH_BYTES);
	return 0;
}

/*
 * Sends the routing id of s, then msg, which it takes (sent or closed:
 * the caller must not use it again). 0 sent; 1 would block (the peer's
 * queue is full); -1 the peer is gone.
 */
static int
send_msg(struct feed *f, struct sub *s, zmq_msg_t *msg)
{
	zfd_used(f->zs);
	if (zmq_send(f->sock, s->rid, s->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(msg);
		if (zmq_errno() == EAGAIN)
			return 1;
		s->dead = true;
		return -1;
	}
	/* After the routing id the message is committed; this part cannot block. */
	if (zmq_msg_send(msg, f->sock, 0) < 0) {
		zmq_msg_close(msg);
		s->dead = true;
		return -1;
	}
	return 0;
}

/*
 * send_msg for a cached entry: a new reference to its bytes, not a copy.
 * The ring keeps its own reference.
 */
static int
send_cached(struct feed *f, struct sub *s, struct cached *c)
{
	zmq_msg_t msg;
	zmq_msg_init(&msg);
	if (zmq_msg_copy(&msg, &c->msg) != 0) {
		zmq_msg_close(&msg);
		s->dead = true;
		return -1;
	}
	return send_msg(f, s, &msg);
}

static void
send_status(struct feed *f, struct sub *s, bool ok, const char *message, uint64_t head,
            bool caught_up)
{
	Est__V1__FeedStatus st;
	Est__V1__FeedEvent ev = EST__V1__FEED_EVENT__INIT;
	est__v1__feed_status__init(&st); /* the INIT macro casts const away (-Wcast-qual) */
	st.ok = ok;
	st.message = (char *)(uintptr_t)message;
	st.head_seq = head;
	st.caught_up = caught_up;
	ev.body_case = EST__V1__FEED_EVENT__BODY_STATUS;
	ev.status = &st;
	/* Packed into the message's own buffer, as wire_send and entry_msg do. */
	zmq_msg_t msg;
	if (zmq_msg_init_size(&msg, est__v1__feed_event__get_packed_size(&ev)) != 0)
		return; /* out of memory: this status is not sent */
	est__v1__feed_event__pack(&ev, zmq_msg_data(&msg));
	send_msg(f, s, &msg);
}

/* --- subscriptions ----------------------------------------------------- */

static struct sub *
find_sub(struct feed *f, const uint8_t *rid, size_t rid_len)
{
	struct sub *s;
	TAILQ_FOREACH(s, &f->subs, link)
	if (s->rid_len == rid_len && memcmp(s->rid, rid, rid_len) == 0)
		return s;
	return NULL;
}

static void
remove_sub(struct feed *f, struct sub *s)
{
	TAILQ_REMOVE(&f->subs, s, link);
	free(s);
}

static bool
wants(const struct feed *f, const struct sub *s, const struct cert_info *who, const char *topic,
      int group)
{
	bool match = false;
	for (size_t i = 0; i < s->n_patterns && !match; i++)
		match = ids_topic_match(s->patterns[i], topic);
	return match && access_may_read_entry(who, topic, group);
}

/*
 * The working group of a stored measure entry, which access needs; only
 * entries on AREA/measures are decoded, so reports and pictures cost
 * nothing. 0 for every other entry.
 */
static int
stored_group(const char *topic, const uint8_t *body, size_t body_len)
{
	const char *slash = strchr(topic, '/');
	if (slash == NULL || strcmp(slash + 1, "measures") != 0)
		return 0;
	Est__V1__LogEntry *e = est__v1__log_entry__unpack(NULL, body_len, body);
	if (e == NULL)
		return EST__V1__WORKING_GROUP__GROUP_SOCIAL; /* unreadable: as the strictest */
	int group = e->body_case == EST__V1__LOG_ENTRY__BODY_MEASURE ? (int)e->measure->group : 0;
	est__v1__log_entry__free_unpacked(e, NULL);
	return group;
}

static void
append_text(char *buf, size_t cap, const char *text)
{
	size_t n = strlen(buf);
	if (n < cap)
		snprintf(buf + n, cap - n, "%s", text);
}

/* Takes the topics of req that who may read into s; says in refused which were refused. */
static void
accept_topics(struct sub *s, const struct cert_info *who, const Est__V1__Subscribe *req,
              char *refused, size_t refused_len)
{
	for (size_t i = 0; i < req->n_topics; i++) {
		const char *t = req->topics[i];
		const char *why = NULL;
		if (!ids_topic_pattern_valid(t))
			why = "not a topic (AREA/KIND, * for a whole segment)";
		else if (!strchr(t, '*') && !access_may_read(who, t))
			why = "not allowed for this certificate";
		else if (s->n_patterns == FEED_MAX_PATTERNS)
			why = "too many topics (16 at most)";
		if (why) {
			char line[160];
			snprintf(line, sizeof line, "%s%.64s: %s", refused[0] ? "; " : "", t, why);
			append_text(refused, refused_len, line);
			continue;
		}
		snprintf(s->patterns[s->n_patterns++], IDS_TOPIC_MAX + 1, "%s", t);
	}
}

static void
subscribe(struct feed *f, const uint8_t *rid, size_t rid_len, const struct cert_info *who,
          const Est__V1__Subscribe *req, int64_t now_ms)
{
	struct sub *old = find_sub(f, rid, rid_len);
	if (old)
		remove_sub(f, old);
	struct sub *s = calloc(1, sizeof *s);
	if (s == NULL)
		return;
	memcpy(s->rid, rid, rid_len);
	s->rid_len = rid_len;
	memcpy(s->key, who->public_txt, sizeof s->key);
	s->heard_ms = now_ms;
	uint64_t head = log_head_seq(f->lg);
	char refused[1024] = "", message[1400];
	char why[160];
	if (!access_may_subscribe(who, why, sizeof why)) {
		audit_refusal(AUDIT_SUBSCRIBE_REFUSED, who->name, "%s", why);
		TAILQ_INSERT_TAIL(&f->subs, s, link);
		send_status(f, s, false, why, head, false);
		remove_sub(f, s);
		return;
	}
	accept_topics(s, who, req, refused, sizeof refused);
	s->next_seq = req->from_seq == 0 ? head + 1 : req->from_seq;
	s->credit =
	    req->credit > (uint64_t)f->cfg->max_credit ? (uint64_t)f->cfg->max_credit : req->credit;
	s->catchup_head = head;
	TAILQ_INSERT_TAIL(&f->subs, s, link);
	if (s->n_patterns == 0) {
		snprintf(message, sizeof message, "no topic to serve%s%s", refused[0] ? ": " : "",
		         refused);
		audit_refusal(AUDIT_SUBSCRIBE_REFUSED, who->name, "%s", message);
		send_status(f, s, false, message, head, false);
		remove_sub(f, s);
		return;
	}
	snprintf(message, sizeof message, "subscribed from seq %llu%s%s",
	         (unsigned long long)s->next_seq, refused[0] ? "; refused: " : "", refused);
	send_status(f, s, refused[0] == '\0', message, head, false);
	audit_subscription(who->name, s->patterns, s->n_patterns, s->next_seq, refused);
	diag_debug("feed: %s subscribed from seq %llu", who->name, (unsigned long long)s->next_seq);
}

static void
add_credit(struct feed *f, const uint8_t *rid, size_t rid_len, uint32_t credit, int64_t now_ms)
{
	struct sub *s = find_sub(f, rid, rid_len);
	if (s == NULL) {
		/* Unknown: the hub restarted or forgot it. Tell it to subscribe again. */
		struct sub tmp = {.rid_len = rid_len};
		memcpy(tmp.rid, rid, rid_len);
		send_status(f, &tmp, false, "unknown subscription, subscribe again",
		            log_head_seq(f->lg), false);
		return;
	}
	s->credit += credit;
	if (s->credit > (uint64_t)f->cfg->max_credit)
		s->credit = (uint64_t)f->cfg->max_credit;
	s->heard_ms = now_ms;
}

static void
handle_request(struct feed *f, zmq_msg_t *rid, zmq_msg_t *body, int64_t now_ms)
{
	const uint8_t *r = zmq_msg_data(rid);
	size_t rlen = zmq_msg_size(rid);
	if (rlen == 0 || rlen > FEED_RID_MAX)
		return;
	/* The sender is whoever the hub's own table says owns this key. */
	const struct cert_info *who = auth_lookup(f->auth, zmq_msg_gets(body, "User-Id"));
	struct sub tmp = {.rid_len = rlen};
	memcpy(tmp.rid, r, rlen);
	if (who == NULL) {
		struct sub *s = find_sub(f, r, rlen);
		if (s)
			remove_sub(f, s);
		send_status(f, &tmp, false, "certificate revoked", log_head_seq(f->lg), false);
		audit_refusal(AUDIT_REVOKED_KEY,
		              auth_former_name(f->auth, zmq_msg_gets(body, "User-Id")),
		              "feed request refused: certificate revoked or replaced");
		return;
	}
	char err[256];
	Est__V1__FeedRequest *req = (Est__V1__FeedRequest *)wire_unpack(
	    &est__v1__feed_request__descriptor, zmq_msg_data(body), zmq_msg_size(body),
	    FEED_REQUEST_BYTES, err, sizeof err);
	if (req == NULL) {
		send_status(f, &tmp, false, err, log_head_seq(f->lg), false);
		return;
	}
	if (req->body_case == EST__V1__FEED_REQUEST__BODY_SUBSCRIBE)
		subscribe(f, r, rlen, who, req->subscribe, now_ms);
	else if (req->body_case == EST__V1__FEED_REQUEST__BODY_CREDIT)
		add_credit(f, r, rlen, req->credit, now_ms);
	else
		send_status(f, &tmp, false, "empty FeedRequest (subscribe or credit expected)",
		            log_head_seq(f->lg), false);
	est__v1__feed_request__free_unpacked(req, NULL);
}

void
feed_receive(struct feed *f, int64_t now_ms)
{
	for (;;) {
		zmq_msg_t rid, body;
		zmq_msg_init(&rid);
		int rc = zmq_msg_recv(&rid, f->sock, ZMQ_DONTWAIT);
		zfd_received(f->zs, rc);
		if (rc < 0) {
			zmq_msg_close(&rid);
			return;
		}
		zmq_msg_init(&body);
		bool got = zmq_msg_more(&rid) && zmq_msg_recv(&body, f->sock, 0) >= 0;
		/* One request is one frame: drop any further parts. */
		for (bool more = got && zmq_msg_more(&body); more;) {
			zmq_msg_t drop;
			zmq_msg_init(&drop);
			more = zmq_msg_recv(&drop, f->sock, 0) >= 0 && zmq_msg_more(&drop);
			zmq_msg_close(&drop);
		}
		if (got)
			handle_request(f, &rid, &body, now_ms);
		zmq_msg_close(&body);
		zmq_msg_close(&rid);
	}
}

/* --- delivery ---------------------------------------------------------- */

/*
 * Puts the entry seq and its stored body into slot c (of the ring or of
 * the read-back slots) as a new message, dropping the slot's reference to
 * what it held: copies still queued in libzmq keep those bytes. 0, or -1
 * when out of memory (the slot is left as it was).
 */
static int
cache_put(struct cached *c, uint64_t seq, const char *topic, int group, const uint8_t *body,
          size_t body_len, const uint8_t *hash)
{
	zmq_msg_t msg;
	if (entry_msg(&msg, body, body_len, hash) != 0)
		return -1;
	if (c->seq != 0)
		zmq_msg_close(&c->msg);
	c->seq = seq;
	zmq_msg_init(&c->msg);
	zmq_msg_move(&c->msg, &msg);
	ids_copy(c->topic, sizeof c->topic, topic);
	c->group = group;
	return 0;
}

/* Empties slot c when it holds seq. */
static void
cache_drop(struct cached *c, uint64_t seq)
{
	if (seq == 0 || c->seq != seq)
		return; /* seq 0 is no entry, and would match an empty slot */
	zmq_msg_close(&c->msg);
	c->seq = 0;
}

void
feed_publish(struct feed *f, const struct log_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct log_item *it = &items[i];
		if (it->status != EST__V1__STATUS__STATUS_ACCEPTED || it->body == NULL)
			continue;
		int group = it->entry->body_case == EST__V1__LOG_ENTRY__BODY_MEASURE
		                ? (int)it->entry->measure->group
		                : 0;
		/* Out of memory: the slot stays as it was, and the store still has the entry. */
		(void)cache_put(&f->ring[it->seq % f->ring_cap], it->seq, it->entry->topic, group,
		                it->body, it->body_len, it->hash);
	}
}

void
feed_forget(struct feed *f, uint64_t seq)
{
	/* Copies still queued in libzmq hold their own references to these bytes. */
	cache_drop(&f->ring[seq % f->ring_cap], seq);
	cache_drop(&f->read[seq % FEED_READ_ENTRIES], seq);
}

struct scan_state {
	struct feed *f;
	struct sub *s;
	const struct cert_info *who;
	size_t budget;
	int blocked;
};

/* log_scan visitor: one stored entry for subscriber st->s. */
static int
scan_one(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
         const uint8_t *hash)
{
	struct scan_state *st = arg;
	struct sub *s = st->s;
	/* Another subscriber may have been sent it already: its frame and its group. */
	struct cached *c = &st->f->read[seq % FEED_READ_ENTRIES];
	bool kept = c->seq == seq;
	int group = kept ? c->group : body != NULL ? stored_group(topic, body, body_len) : 0;
	if (body != NULL && wants(st->f, s, st->who, topic, group)) {
		if (!kept && cache_put(c, seq, topic, group, body, body_len, hash) != 0)
			return 1;
		if (send_cached(st->f, s, c) != 0) {
			st->blocked = 1;
			return 1;
		}
		s->credit--;
	}
	s->next_seq = seq + 1;
	st->budget--;
	return (s->credit == 0 || st->budget == 0) ? 1 : 0;
}

/* Serves one subscriber from cache or store; true when it has more to receive. */
static bool
pump_one(struct feed *f, struct sub *s, uint64_t head)
{
	const struct cert_info *who = auth_lookup(f->auth, s->key);
	if (who == NULL)
		return false; /* revoked: feed_tick ends it */
	struct scan_state st = {.f = f, .s = s, .who = who, .budget = FEED_PUMP_BUDGET};
	while (st.budget > 0 && s->credit > 0 && s->next_seq <= head && !s->dead && !st.blocked) {
		struct cached *c = &f->ring[s->next_seq % f->ring_cap];
		if (c->seq != s->next_seq)
			c = &f->read[s->next_seq % FEED_READ_ENTRIES];
		if (c->seq == s->next_seq) {
			if (wants(f, s, who, c->topic, c->group)) {
				if (send_cached(f, s, c) != 0)
					break;
				s->credit--;
			}
			s->next_seq++;
			st.budget--;
			continue;
		}
		char err[256];
		uint64_t to = s->next_seq + st.budget - 1;
		if (log_scan(f->lg, s->next_seq, to < head ? to : head, scan_one, &st, err,
		             sizeof err) < 0) {
			diag_say("feed: cannot read the store: %s", err);
			return false;
		}
	}
	if (!s->caught_up_sent && s->next_seq > s->catchup_head && !s->dead) {
		s->caught_up_sent = true;
		send_status(f, s, true, "caught up", s->catchup_head, true);
	}
	return s->credit > 0 && s->next_seq <= head && !s->dead && !st.blocked;
}

bool
feed_pump(struct feed *f)
{
	uint64_t head = log_head_seq(f->lg);
	bool more = false;
	struct sub *s;
	TAILQ_FOREACH(s, &f->subs, link)
	more |= pump_one(f, s, head);
	return more;
}

void
feed_tick(struct feed *f, int64_t now_ms)
{
	int64_t timeout_ms = f->cfg->subscriber_timeout_seconds * 1000;
	struct sub *s, *next;
	for (s = TAILQ_FIRST(&f->subs); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		if (auth_lookup(f->auth, s->key) == NULL) {
			send_status(f, s, false, "certificate revoked", log_head_seq(f->lg), false);
			remove_sub(f, s);
		} else if (s->dead || now_ms - s->heard_ms > timeout_ms) {
			remove_sub(f, s);
		}
	}
}

void
feed_visit(struct feed *f, int64_t now_ms, feed_visit_fn fn, void *arg)
{
	struct sub *s;
	TAILQ_FOREACH(s, &f->subs, link)
	{
		const struct cert_info *who = auth_lookup(f->auth, s->key);
		if (who)
			fn(arg, who->name, ids_role_name(who->role), who->org, s->next_seq,
			   now_ms - s->heard_ms);
	}
}
