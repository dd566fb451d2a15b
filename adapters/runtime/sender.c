/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sender: the adapter's event loop. Pending outbox rows go out in envelopes
 * over the client connection; each Ack marks its envelope's rows done. The
 * loop reads as: run the hooks (new input), watch the connection, fill
 * free envelope slots from the outbox, send what is due, wait, take the
 * answers, run the timers.
 * See sender.h.
 */
#include "runtime/sender.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "runtime/stop.h"
#include "wire/client.h"
#include "wire/codec.h"
#include "wire/diag.h"
#include "wire/ids.h"
#include "wire/timefmt.h"

/* Waiting for an Ack: the first wait, doubling per attempt up to the last. */
#define ACK_TIMEOUT_FIRST_MS 5000
#define ACK_TIMEOUT_MAX_MS   40000
/* Before sending again: 100 ms doubling up to 5 s, with jitter. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   5000
/* An Ack's retry_after_ms is honoured up to this. */
#define RETRY_AFTER_MAX_MS 60000
/* The loop wakes at least this often: signals, the connection's state. */
#define TICK_MS 100
/* Frames taken from the socket per round, so timers still run under load. */
#define RECV_PER_ROUND 64

/* One envelope slot of the window. */
struct envelope {
	bool used;
	uint64_t request_id;
	size_t n;
	int64_t *ids;              /* outbox rows, in the order of reports */
	Est__V1__Report **reports; /* owned, unpacked from the outbox */
	/*
	 * A measure update travels alone (the hub answers it with one Result):
	 * then is_measure is set, n is 1 and measure (owned) holds it.
	 */
	bool is_measure;
	Est__V1__Measure *measure;
	size_t bytes;        /* packed reports */
	unsigned attempt;    /* times sent */
	int64_t due_ms;      /* send (again) at this time; 0 while waiting for the Ack */
	int64_t deadline_ms; /* the Ack is overdue after this */
};

struct sender {
	struct outbox *ob;
	const struct sender_options *opt;
	struct client *client;
	struct envelope *slots; /* opt->window of them */
	struct envelope *filling;
	int64_t cursor; /* the highest row id taken into an envelope */
	bool drained;   /* the outbox has no row left to take */
	uint32_t requests;
	enum client_state state;
	bool ever_up;
	bool failed;     /* the outbox failed: give up */
	int64_t stop_at; /* serve: when a stop's grace ends; 0 before a stop */
	bool hooks_busy; /* a hook has work in hand (serve) */
	long hooks_wait; /* the longest wait the hooks allow, -1 for no limit */
	bool readable[SENDER_MAX_HOOKS];
	char refusal[256]; /* the last reason the hub refused an envelope for, said once */
	uint64_t rng;
	outbox_row_fn fn;
	void *arg;
	char *err;
	size_t errlen;
};

/* ---- timing ---- */

static uint64_t
rng_next(struct sender *s)
{
	/* xorshift64: jitter needs spread, not secrecy. */
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

/* The wait before attempt+1: half the doubled base plus a random part of the other half. */
static int64_t
backoff_ms(struct sender *s, unsigned attempt)
{
	int64_t base = BACKOFF_FIRST_MS;
	for (unsigned i = 1; i < attempt && base < BACKOFF_MAX_MS; i++)
		base *= 2;
	if (base > BACKOFF_MAX_MS)
		base = BACKOFF_MAX_MS;
	return base / 2 + (int64_t)(rng_next(s) % (uint64_t)(base / 2 + 1));
}

static int64_t
ack_timeout_ms(unsigned attempt)
{
	int64_t t = ACK_TIMEOUT_FIRST_MS;
	for (unsigned i = 1; i < attempt && t < ACK_TIMEOUT_MAX_MS; i++)
		t *= 2;
	return t < ACK_TIMEOUT_MAX_MS ? t : ACK_TIMEOUT_MAX_MS;
}

/* ---- envelopes ---- */

static void
envelope_clear(struct envelope *e)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->reports[i]) {
			protobuf_c_message_free_unpacked(&e->reports[i]->base, NULL);
			e->reports[i] = NULL;
		}
	if (e->measure)
		protobuf_c_message_free_unpacked(&e->measure->base, NULL);
	e->measure = NULL;
	e->is_measure = false;
	e->used = false;
	e->n = 0;
	e->bytes = 0;
	e->attempt = 0;
	e->due_ms = 0;
	e->deadline_ms = 0;
}

/* Marks rows done in the outbox and tells fn; a failing outbox ends the run. */
static void
sender_finish(struct sender *s, const struct outbox_result *res, size_t n)
{
	if (outbox_finish(s->ob, res, n, s->fn, s->arg) != OUTBOX_OK) {
		snprintf(s->err, s->errlen, "%s", outbox_error(s->ob));
		s->failed = true;
	}
}

/* The outbox's callback while filling: takes one row into s->filling. */
static int
take_row(void *arg, int64_t id, enum outbox_kind kind, const uint8_t *payload, size_t len)
{
	struct sender *s = arg;
	struct envelope *e = s->filling;
	char why[128];
	bool measure = kind == OUTBOX_KIND_MEASURE;
	/* A measure update goes in an envelope of its own: the next one takes it. */
	if (e->n > 0 && (measure || e->is_measure))
		return 1;
	if (e->n > 0 && e->bytes + len > SENDER_MAX_ENVELOPE_BYTES)
		return 1;
	/* A row that does not decode stays in with NULL and is rejected below. */
	ProtobufCMessage *m =
	    wire_unpack(measure ? &est__v1__measure__descriptor : &est__v1__report__descriptor,
	                payload, len, WIRE_MAX_FRAME_BYTES, why, sizeof why);
	e->ids[e->n] = id;
	e->is_measure = measure;
	if (measure)
		e->measure = (Est__V1__Measure *)m;
	else
		e->reports[e->n] = (Est__V1__Report *)m;
	e->n++;
	e->bytes += len;
	s->cursor = id;
	return 0;
}

/* Rejects the rows whose stored report does not decode, and leaves the others. */
static void
envelope_drop_broken(struct sender *s, struct envelope *e)
{
	size_t kept = 0;
	for (size_t i = 0; i < e->n; i++) {
		if (e->is_measure ? e->measure != NULL : e->reports[i] != NULL) {
			e->ids[kept] = e->ids[i];
			e->reports[kept++] = e->reports[i];
			continue;
		}
		struct outbox_result res = {.id = e->ids[i],
		                            .status = OUTBOX_REJECTED,
		                            .error = e->is_measure
		                                         ? "the outbox's copy of this measure "
		                                           "update does not decode"
		                                         : "the outbox's copy of this report does "
		                                           "not decode"};
		diag_say("outbox %s: row %" PRId64 " does not decode; rejected", outbox_path(s->ob),
		         e->ids[i]);
		sender_finish(s, &res, 1);
	}
	e->n = kept;
}

/* Fills free slots with pending rows from the outbox. Returns -1 when the outbox fails. */
static int
sender_fill(struct sender *s, int64_t now)
{
	for (unsigned i = 0; i < s->opt->window && !s->drained && !s->failed; i++) {
		struct envelope *e = &s->slots[i];
		if (e->used)
			continue;
		s->filling = e;
		if (outbox_each_to_send(s->ob, s->cursor, s->opt->batch, take_row, s) !=
		    OUTBOX_OK) {
			snprintf(s->err, s->errlen, "%s", outbox_error(s->ob));
			envelope_clear(e);
			return -1;
		}
		if (e->n == 0) {
			s->drained = true;
			break;
		}
		envelope_drop_broken(s, e);
		if (e->n == 0)
			continue;
		e->used = true;
		e->request_id = ((uint64_t)outbox_run(s->ob) << 32) | ++s->requests;
		e->due_ms = now;
	}
	return s->failed ? -1 : 0;
}

static void
envelope_send(struct sender *s, struct envelope *e, int64_t now)
{
	Est__V1__ReportBatch batch = EST__V1__REPORT_BATCH__INIT;
	Est__V1__Envelope env = EST__V1__ENVELOPE__INIT;
	batch.n_reports = e->n;
	batch.reports = e->reports;
	env.version = WIRE_VERSION;
	env.request_id = e->request_id;
	if (e->is_measure) {
		env.body_case = EST__V1__ENVELOPE__BODY_MEASURE;
		env.measure = e->measure;
	} else {
		env.body_case = EST__V1__ENVELOPE__BODY_REPORTS;
		env.reports = &batch;
	}
	if (wire_send(client_socket(s->client), &env.base, ZMQ_DONTWAIT) != 0) {
		/* The socket's queue is full or the peer is gone: try again shortly. */
		diag_debug("cannot send request %" PRIu64 " yet: %s", e->request_id,
		           zmq_strerror(zmq_errno()));
		e->due_ms = now + TICK_MS;
		return;
	}
	e->attempt++;
	e->due_ms = 0;
	e->deadline_ms = now + ack_timeout_ms(e->attempt);
	diag_debug("sent request %" PRIu64 ": %zu reports, %zu bytes (attempt %u)", e->request_id,
	           e->n, e->bytes, e->attempt);
}

static void
sender_send_due(struct sender *s, int64_t now)
{
	if (s->state != CLIENT_UP)
		return;
	for (unsigned i = 0; i < s->opt->window; i++) {
		struct envelope *e = &s->slots[i];
		if (e->used && e->due_ms != 0 && e->due_ms <= now)
			envelope_send(s, e, now);
	}
}

/* ---- answers ---- */

static struct envelope *
envelope_find(struct sender *s, uint64_t request_id)
{
	for (unsigned i = 0; i < s->opt->window; i++)
		if (s->slots[i].used && s->slots[i].request_id == request_id)
			return &s->slots[i];
	return NULL;
}

/* Sends e again after a backoff: its answer was lost or made no sense. */
static void
envelope_retry(struct sender *s, struct envelope *e, int64_t now)
{
	e->deadline_ms = 0;
	e->due_ms = now + backoff_ms(s, e->attempt);
}

/* Whether ack has one sensible result for each report of e, in order (a measure's: its id). */
static bool
ack_matches(const struct envelope *e, const Est__V1__Ack *ack)
{
	if (ack->n_results != e->n)
		return false;
	if (e->is_measure) {
		const Est__V1__Result *r = ack->results[0];
		return wire_enum_known(&est__v1__status__descriptor, (int)r->status) &&
		       r->source_id != NULL && strcmp(r->source_id, e->measure->measure_id) == 0;
	}
	for (size_t i = 0; i < e->n; i++) {
		const Est__V1__Result *r = ack->results[i];
		if (!wire_enum_known(&est__v1__status__descriptor, (int)r->status) ||
		    r->revision != e->reports[i]->revision || r->source_id == NULL ||
		    strcmp(r->source_id, e->reports[i]->source_id) != 0)
			return false;
	}
	return true;
}

/* The hub's reason as we keep it: text from the network must be valid UTF-8. */
static const char *
hub_reason(const char *s, const char *none)
{
	if (s == NULL || s[0] == '\0')
		return none;
	return ids_utf8_valid(s, strlen(s)) ? s : "(the hub's reason is not valid UTF-8)";
}

static enum outbox_status
status_from_wire(int status)
{
	if (status == EST__V1__STATUS__STATUS_ACCEPTED)
		return OUTBOX_ACCEPTED;
	if (status == EST__V1__STATUS__STATUS_DUPLICATE)
		return OUTBOX_DUPLICATE;
	return OUTBOX_REJECTED;
}

/* Every row of e gets its Result. */
static void
envelope_done(struct sender *s, struct envelope *e, const Est__V1__Ack *ack)
{
	struct outbox_result *res = calloc(e->n, sizeof *res);
	if (res == NULL) {
		snprintf(s->err, s->errlen, "out of memory");
		s->failed = true;
		return;
	}
	for (size_t i = 0; i < e->n; i++) {
		const Est__V1__Result *r = ack->results[i];
		res[i].id = e->ids[i];
		res[i].status = status_from_wire((int)r->status);
		res[i].seq = r->seq;
		res[i].error = res[i].status == OUTBOX_REJECTED
		                   ? hub_reason(r->error, "rejected by the hub without a reason")
		                   : "";
	}
	sender_finish(s, res, e->n);
	free(res);
	if (!s->failed)
		envelope_clear(e);
}

/* The hub refused the whole envelope for good: every record of it is rejected. */
static void
envelope_refused(struct sender *s, struct envelope *e, const char *error)
{
	char why[512];
	snprintf(why, sizeof why, "the hub refused the whole envelope: %s",
	         hub_reason(error, "no reason given"));
	/* Said once per reason: a revoked certificate refuses every envelope after it. */
	if (strcmp(s->refusal, why) != 0)
		diag_say("%s: its records are rejected", why);
	else
		diag_debug("request %" PRIu64 ": %s (%zu records rejected)", e->request_id, why,
		           e->n);
	snprintf(s->refusal, sizeof s->refusal, "%s", why);
	struct outbox_result *res = calloc(e->n, sizeof *res);
	if (res == NULL) {
		snprintf(s->err, s->errlen, "out of memory");
		s->failed = true;
		return;
	}
	for (size_t i = 0; i < e->n; i++)
		res[i] = (struct outbox_result){
		    .id = e->ids[i], .status = OUTBOX_REJECTED, .error = why, .refused = true};
	sender_finish(s, res, e->n);
	free(res);
	if (!s->failed)
		envelope_clear(e);
}

static void
ack_handle(struct sender *s, const Est__V1__Ack *ack, int64_t now)
{
	struct envelope *e = envelope_find(s, ack->request_id);
	if (e == NULL || e->attempt == 0) {
		/* The answer to a copy sent again, after the first answer was taken. */
		diag_debug("ignoring an answer to request %" PRIu64 ", which is not waiting",
		           ack->request_id);
		return;
	}
	if (ack->error && ack->error[0] && ack->retry_after_ms > 0) {
		uint32_t wait = ack->retry_after_ms < RETRY_AFTER_MAX_MS ? ack->retry_after_ms
		                                                         : RETRY_AFTER_MAX_MS;
		diag_debug("request %" PRIu64 ": the hub says \"%s\"; sending again in %" PRIu32
		           " ms",
		           e->request_id, hub_reason(ack->error, ""), wait);
		e->deadline_ms = 0;
		e->due_ms = now + wait;
	} else if (ack->error && ack->error[0]) {
		envelope_refused(s, e, ack->error);
	} else if (!ack_matches(e, ack)) {
		diag_say("the hub's answer to request %" PRIu64
		         " does not match the %zu reports sent; sending them again",
		         e->request_id, e->n);
		envelope_retry(s, e, now);
	} else {
		envelope_done(s, e, ack);
	}
}

static void
ack_frame(struct sender *s, const void *data, size_t len, int64_t now)
{
	char why[256];
	ProtobufCMessage *m = wire_unpack(&est__v1__ack__descriptor, data, len,
	                                  WIRE_MAX_FRAME_BYTES, why, sizeof why);
	if (m == NULL) {
		diag_say("ignoring an answer from the hub: %s", why);
		return;
	}
	ack_handle(s, (const Est__V1__Ack *)m, now);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* Takes the frames waiting on the socket; multi-part messages are not the hub's and are dropped. */
static void
sender_receive(struct sender *s)
{
	void *sock = client_socket(s->client);
	bool in_multipart = false;
	for (int i = 0; i < RECV_PER_ROUND && !s->failed; i++) {
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			break;
		}
		bool more = zmq_msg_more(&msg) != 0;
		if (!more && !in_multipart)
			ack_frame(s, zmq_msg_data(&msg), zmq_msg_size(&msg), timefmt_mono_ms());
		else if (!in_multipart)
			diag_say("ignoring a multi-part message from the hub");
		in_multipart = more;
		zmq_msg_close(&msg);
	}
}

/* ---- the loop ---- */

/* Follows the connection's state; returns false when the hub refused us. */
static bool
sender_watch(struct sender *s, int64_t now)
{
	enum client_state st = client_state(s->client);
	if (st == CLIENT_REFUSED)
		return false;
	if (st == CLIENT_UP && s->state != CLIENT_UP) {
		diag_debug("connected to %s", s->opt->hub);
		/* What was in flight on the lost connection may be lost with it. */
		for (unsigned i = 0; s->ever_up && i < s->opt->window; i++)
			if (s->slots[i].used && s->slots[i].due_ms == 0)
				s->slots[i].due_ms = now;
		s->ever_up = true;
	} else if (st != CLIENT_UP && s->state == CLIENT_UP) {
		diag_debug("lost the connection to %s; reconnecting", s->opt->hub);
	}
	s->state = st;
	return true;
}

static void
sender_timers(struct sender *s, int64_t now)
{
	for (unsigned i = 0; i < s->opt->window; i++) {
		struct envelope *e = &s->slots[i];
		if (!e->used || e->due_ms != 0 || now < e->deadline_ms)
			continue;
		diag_debug("no answer to request %" PRIu64 " within %" PRId64
		           " ms; sending it again",
		           e->request_id, ack_timeout_ms(e->attempt));
		envelope_retry(s, e, now);
	}
}

static bool
sender_idle(const struct sender *s)
{
	for (unsigned i = 0; i < s->opt->window; i++)
		if (s->slots[i].used)
			return false;
	return s->drained;
}

/* How long to wait for an answer before something else is due. */
static long
sender_wait_ms(const struct sender *s, int64_t now, int64_t give_up)
{
	int64_t next = now + TICK_MS;
	if (give_up < next)
		next = give_up;
	if (s->hooks_wait >= 0 && now + s->hooks_wait < next)
		next = now + s->hooks_wait;
	for (unsigned i = 0; i < s->opt->window; i++) {
		const struct envelope *e = &s->slots[i];
		if (!e->used)
			continue;
		int64_t t = e->due_ms != 0 ? e->due_ms : e->deadline_ms;
		if (t < next && (e->due_ms == 0 || s->state == CLIENT_UP))
			next = t;
	}
	return next > now ? (long)(next - now) : 0;
}

/* Waits for an answer or a hook's input; takes the answers. */
static void
sender_poll(struct sender *s, long wait_ms)
{
	zmq_pollitem_t items[1 + SENDER_MAX_HOOKS] = {
	    {.socket = client_socket(s->client), .events = ZMQ_POLLIN}};
	int n = 1, hook_item[SENDER_MAX_HOOKS];
	for (size_t i = 0; i < s->opt->n_hooks; i++) {
		hook_item[i] = -1;
		s->readable[i] = false;
		if (s->opt->hooks[i].fd < 0)
			continue;
		hook_item[i] = n;
		items[n++] = (zmq_pollitem_t){.fd = s->opt->hooks[i].fd, .events = ZMQ_POLLIN};
	}
	/* EINTR is a signal: the loop looks at the stop flag next. */
	if (zmq_poll(items, n, wait_ms) <= 0)
		return;
	for (size_t i = 0; i < s->opt->n_hooks; i++)
		s->readable[i] = hook_item[i] >= 0 && (items[hook_item[i]].revents & ZMQ_POLLIN);
	if (items[0].revents & ZMQ_POLLIN)
		sender_receive(s);
}

/* Runs every hook once; new rows in the outbox make the loop look again. */
static void
sender_hooks(struct sender *s)
{
	s->hooks_busy = false;
	s->hooks_wait = -1;
	for (size_t i = 0; i < s->opt->n_hooks; i++) {
		const struct sender_hook *h = &s->opt->hooks[i];
		long wait = -1;
		int flags = h->run(h->arg, s->readable[i], &wait);
		s->readable[i] = false;
		if (flags & SENDER_HOOK_ADDED)
			s->drained = false;
		if (flags & SENDER_HOOK_BUSY)
			s->hooks_busy = true;
		if (wait >= 0 && (s->hooks_wait < 0 || wait < s->hooks_wait))
			s->hooks_wait = wait;
	}
}

/* Whether an envelope was sent and waits for its answer on a live connection. */
static bool
sender_in_flight(const struct sender *s)
{
	for (unsigned i = 0; s->state == CLIENT_UP && i < s->opt->window; i++)
		if (s->slots[i].used && s->slots[i].attempt > 0 && s->slots[i].due_ms == 0)
			return true;
	return false;
}

/*
 * After a stop: whether to go on. Serve mode goes on for a short grace
 * while answers are in flight or a hook is busy; nothing new is sent.
 */
static bool
sender_stopping(struct sender *s, int64_t now)
{
	if (!s->opt->serve)
		return false;
	if (s->stop_at == 0) {
		s->stop_at = now + SENDER_STOP_GRACE_MS;
		diag_debug("stopping: waiting up to %d ms for answers in flight",
		           SENDER_STOP_GRACE_MS);
	}
	return now < s->stop_at && (s->hooks_busy || sender_in_flight(s));
}

static enum sender_end
sender_timeout(struct sender *s)
{
	if (s->ever_up)
		snprintf(s->err, s->errlen, "no answer from the hub at %s within %u s", s->opt->hub,
		         s->opt->timeout_s);
	else
		snprintf(s->err, s->errlen, "could not reach the hub at %s within %u s",
		         s->opt->hub, s->opt->timeout_s);
	return SENDER_TIMEOUT;
}

static enum sender_end
sender_loop(struct sender *s)
{
	int64_t give_up =
	    s->opt->serve ? INT64_MAX : timefmt_mono_ms() + (int64_t)s->opt->timeout_s * 1000;
	for (;;) {
		sender_hooks(s);
		int64_t now = timefmt_mono_ms();
		if (stop_requested() && !sender_stopping(s, now))
			return SENDER_STOPPED;
		if (!sender_watch(s, now)) {
			snprintf(s->err, s->errlen,
			         "the hub refused our certificate (%s is not authorised, or was "
			         "revoked)",
			         s->opt->cert);
			return SENDER_REFUSED;
		}
		if (s->stop_at == 0 && sender_fill(s, now) != 0)
			return SENDER_ERROR;
		if (!s->opt->serve && sender_idle(s))
			return SENDER_DONE;
		if (now >= give_up)
			return sender_timeout(s);
		sender_send_due(s, now);
		sender_poll(s, sender_wait_ms(s, now, give_up));
		if (s->failed)
			return SENDER_ERROR;
		sender_timers(s, timefmt_mono_ms());
	}
}

static int
sender_init(struct sender *s, const struct sender_options *opt)
{
	s->slots = calloc(opt->window, sizeof *s->slots);
	if (s->slots == NULL)
		return -1;
	for (unsigned i = 0; i < opt->window; i++) {
		s->slots[i].ids = calloc(opt->batch, sizeof *s->slots[i].ids);
		s->slots[i].reports = calloc(opt->batch, sizeof *s->slots[i].reports);
		if (s->slots[i].ids == NULL || s->slots[i].reports == NULL)
			return -1;
	}
	s->rng = ((uint64_t)timefmt_now_ms() << 16) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ull;
	return 0;
}

static void
sender_fini(struct sender *s)
{
	for (unsigned i = 0; s->slots && i < s->opt->window; i++) {
		envelope_clear(&s->slots[i]);
		free(s->slots[i].ids);
		free(s->slots[i].reports);
	}
	free(s->slots);
	client_destroy(&s->client);
}

enum sender_end
sender_run(struct outbox *ob, const struct sender_options *opt, outbox_row_fn fn, void *arg,
           char *err, size_t errlen)
{
	struct sender s = {.ob = ob,
	                   .opt = opt,
	                   .fn = fn,
	                   .arg = arg,
	                   .err = err,
	                   .errlen = errlen,
	                   .hooks_wait = -1};
	enum sender_end end = SENDER_ERROR;
	if (opt->n_hooks > SENDER_MAX_HOOKS) {
		snprintf(err, errlen, "more than %d sources of input", SENDER_MAX_HOOKS);
		return SENDER_ERROR;
	}
	if (sender_init(&s, opt) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	s.client = client_new(opt->hub, opt->hub_cert, opt->cert, err, errlen);
	if (s.client == NULL)
		goto out;
	/* Loading certificates may have brought czmq's own signal handlers. */
	stop_install();
	end = sender_loop(&s);
out:
	sender_fini(&s);
	return end;
}
