/* SPDX-License-Identifier: Apache-2.0 */
/*
 * follow: the est-feed session (see follow.h). The hub answers a Subscribe
 * with one FeedStatus and then sends entries as long as credit lasts; this
 * module prints them, gives the credit back as it consumes it, and keeps
 * "pos", the last seq it has printed or was told to pass over, so that a
 * new subscription (after a hub restart, silence or a new run with --state)
 * starts right after it and nothing is printed twice.
 */
#include "follow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "state.h"
#include "summary.h"
#include "verify.h"
#include "wire/client.h"
#include "wire/codec.h"
#include "wire/diag.h"
#include "wire/json.h"
#include "wire/timefmt.h"

#define FOLLOW_TICK_MS        200
#define FOLLOW_KEEPALIVE_MS   10000 /* the hub forgets subscribers silent for 60 s */
#define FOLLOW_SILENCE_MS     30000 /* nothing heard this long: subscribe again */
#define FOLLOW_IDLE_CREDIT_MS 300   /* quiet this long with credit used: give it back */
#define FOLLOW_BURST          1000  /* events read per turn before the state is saved */

struct follow {
	const struct follow_opts *o;
	struct client *cl;
	void *sock;
	bool pos_known; /* false only before the first answer to a from_seq 0 subscription */
	uint64_t pos;   /* last seq printed or passed over */
	bool pos_had;   /* pos is a seq this feed had (printed, passed over, or the state's) */
	uint64_t saved; /* what the state file holds */
	bool saved_known;
	bool state_failed;
	bool out_failed; /* a sync of stdout failed: the state stays where it was for good */
	bool awaiting;   /* a Subscribe is not answered yet */
	bool quiet;      /* its answer is routine: tell it only when verbose */
	bool answered;   /* the hub has said anything at all */
	bool have_head;  /* --until-head: head_seq of the first FeedStatus */
	uint64_t head;
	uint32_t consumed; /* entries received since credit was last given back */
	enum client_state conn;
	int64_t sent_ms, heard_ms, subscribed_ms;
	bool done;
	int exit_code;
	struct output *out; /* NULL: nothing made of pictures */
	/* checks the hub's signatures (--sign-key) */
	struct verify *verify;
};

static void
finish(struct follow *f, int exit_code)
{
	f->done = true;
	f->exit_code = exit_code;
}

/* Sends one FeedRequest; a full queue is not an error (the timers try again). */
static void
send_request(struct follow *f, const Est__V1__FeedRequest *req)
{
	if (wire_send(f->sock, &req->base, ZMQ_DONTWAIT) != 0 && zmq_errno() != EAGAIN)
		diag_say("cannot send to the hub: %s", zmq_strerror(zmq_errno()));
	f->sent_ms = timefmt_mono_ms();
}

static void
send_credit(struct follow *f)
{
	Est__V1__FeedRequest req = EST__V1__FEED_REQUEST__INIT;
	req.body_case = EST__V1__FEED_REQUEST__BODY_CREDIT;
	req.credit = f->consumed;
	f->consumed = 0;
	send_request(f, &req);
}

/* Subscribes (again) from right after pos, or from the first from_seq while pos is unknown. */
static void
subscribe(struct follow *f, bool quiet)
{
	Est__V1__Subscribe sub = EST__V1__SUBSCRIBE__INIT;
	Est__V1__FeedRequest req = EST__V1__FEED_REQUEST__INIT;
	sub.n_topics = f->o->n_topics;
	sub.topics = (char **)(uintptr_t)f->o->topics;
	sub.from_seq = f->pos_known ? f->pos + 1 : f->o->from;
	sub.credit = f->o->credit;
	req.body_case = EST__V1__FEED_REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	diag_debug("subscribing from seq %llu", (unsigned long long)sub.from_seq);
	f->consumed = 0;
	f->awaiting = true;
	f->quiet = quiet;
	send_request(f, &req);
	f->subscribed_ms = f->sent_ms;
}

/*
 * What was printed is on disk before a state passes it: with stdout a file (est-feed ... >>
 * FILE), a power cut must not lose lines the saved state says were printed. A pipe or a
 * terminal has nothing to sync. 0, or -1 with the reason in err.
 */
static int
sync_stdout(char *err, size_t errlen)
{
	struct stat st;
	if (fflush(stdout) != 0 || (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	                            fdatasync(STDOUT_FILENO) != 0)) {
		snprintf(err, errlen, "cannot write stdout to disk: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A failed sync of stdout is not tried again: Linux reports a failed
 * write-back once and keeps the lines in its cache as if written, so the
 * next sync would succeed and the state would pass lines the disk never got
 * (a working group's file missing entries for good). est-feed stops instead,
 * its state where it was, and the next start prints those lines again.
 */
static void
save_state(struct follow *f)
{
	if (f->o->state_path == NULL || f->out_failed || !f->pos_known ||
	    (f->saved_known && f->saved == f->pos))
		return;
	char err[512];
	if (sync_stdout(err, sizeof err) != 0) {
		if (f->saved_known)
			diag_say(
			    "%s; stopping with the state at seq %llu: the next start prints again "
			    "what came after it",
			    err, (unsigned long long)f->saved);
		else
			diag_say(
			    "%s; stopping with the state as it was: the next start prints again "
			    "what this run printed",
			    err);
		f->out_failed = true;
		finish(f, EXIT_ENV);
		return;
	}
	if (state_write(f->o->state_path, f->pos, err, sizeof err) != 0) {
		if (!f->state_failed)
			diag_say("%s", err);
		f->state_failed = true;
		return;
	}
	f->state_failed = false;
	f->saved = f->pos;
	f->saved_known = true;
}

/* Writes one entry to stdout and flushes it; -1 when stdout fails, -2 when JSON cannot be made. */
static int
print_entry(const struct follow *f, const Est__V1__LogEntry *e)
{
	if (f->o->out.summary)
		return 0; /* the summary block of a picture stands instead of the lines */
	if (f->o->json) {
		char *text = wire_to_json_text(&e->base);
		if (text == NULL)
			return -2;
		int rc = printf("%s\n", text);
		free(text);
		if (rc < 0)
			return -1;
	} else {
		char line[SUMMARY_LINE_MAX];
		summary_line(e, f->o->out.lang, line, sizeof line);
		if (printf("%s\n", line) < 0)
			return -1;
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

static void
on_entry(struct follow *f, const Est__V1__LogEntry *e)
{
	f->consumed++;
	if (f->consumed >= (f->o->credit + 1) / 2)
		send_credit(f);
	if (f->pos_known && e->seq <= f->pos) {
		diag_debug("seq %llu already printed, skipped", (unsigned long long)e->seq);
		return;
	}
	if (!verify_entry(f->verify, e))
		goto passed; /* its signature does not verify: said, not shown, passed over */
	int rc = print_entry(f, e);
	if (rc != 0) {
		if (rc == -2)
			diag_say("seq %llu: cannot convert to JSON (out of memory)",
			         (unsigned long long)e->seq);
		else
			diag_say("cannot write to stdout: %s", strerror(errno));
		finish(f, EXIT_ENV);
		return;
	}
	char err[1024];
	if (output_entry(f->out, e, err, sizeof err) != 0) {
		/* pos stays before this entry, so --state brings the picture again next time. */
		diag_say("seq %llu: %s", (unsigned long long)e->seq, err);
		finish(f, EXIT_ENV);
		return;
	}
passed:
	f->pos = e->seq;
	f->pos_known = true;
	f->pos_had = true;
	if (f->o->until_head && f->have_head && e->seq >= f->head)
		finish(f, EXIT_OK);
}

/* The FeedStatus that answers our Subscribe. */
static void
on_subscribed(struct follow *f, const Est__V1__FeedStatus *st)
{
	const char *msg = st->message ? st->message : "";
	f->awaiting = false;
	/* ok=false with "subscribed ...": some named topics were refused, the rest is served. */
	if (!st->ok && strncmp(msg, "subscribed", 10) != 0) {
		diag_say("the hub refused the subscription: %s", msg);
		finish(f, EXIT_ENV);
		return;
	}
	/*
	 * A seq once logged stays (gallring keeps every row): a head before
	 * one this feed had means the hub's store was replaced, restored from
	 * a backup most likely. The hub would number its next entries from
	 * there and this feed pass them over as had; say so and stop instead.
	 */
	if (f->pos_had && st->head_seq < f->pos) {
		diag_say("the hub's log ends at seq %llu, before seq %llu, which this feed has had "
		         "already: the hub's store was replaced (restored from a backup?), and "
		         "its next entries would take seqs this feed passes over. Ask the hub's "
		         "administrator; to follow the log as it is now, run once with --from "
		         "%llu%s%s",
		         (unsigned long long)st->head_seq, (unsigned long long)f->pos,
		         (unsigned long long)st->head_seq + 1,
		         f->o->state_path ? ", which resets " : "",
		         f->o->state_path ? f->o->state_path : "");
		finish(f, EXIT_ENV);
		return;
	}
	if (!f->pos_known) {
		/* from_seq 0: the hub starts after its head, so that is where we are. */
		f->pos = st->head_seq;
		f->pos_known = true;
	}
	if (!st->ok)
		diag_say("hub: %s", msg);
	else if (f->quiet)
		diag_debug("subscribed head_seq=%llu", (unsigned long long)st->head_seq);
	else
		diag_say("subscribed head_seq=%llu", (unsigned long long)st->head_seq);
	if (!f->have_head) {
		f->have_head = true;
		f->head = st->head_seq;
		if (f->o->until_head && f->head <= f->pos)
			finish(f, EXIT_OK);
	}
}

static void
on_status(struct follow *f, const Est__V1__FeedStatus *st)
{
	const char *msg = st->message ? st->message : "";
	if (!st->ok && strstr(msg, "unknown subscription") != NULL) {
		/* While a Subscribe is on its way this answers an older credit: ignore it. */
		if (f->awaiting)
			return;
		diag_say("the hub does not know this subscription (restarted?); subscribing "
		         "again from seq %llu",
		         (unsigned long long)(f->pos_known ? f->pos + 1 : f->o->from));
		subscribe(f, false);
		return;
	}
	if (!st->ok && strcmp(msg, "certificate revoked") == 0) {
		diag_say("hub: certificate revoked (%s)", f->o->cert);
		finish(f, EXIT_ENV);
		return;
	}
	if (st->caught_up) {
		diag_debug("caught up with head_seq=%llu", (unsigned long long)st->head_seq);
		if (f->o->until_head)
			finish(f, EXIT_OK);
		return;
	}
	if (f->awaiting)
		on_subscribed(f, st);
	else if (!st->ok)
		diag_say("hub: %s", msg);
}

static void
on_event(struct follow *f, const void *data, size_t len)
{
	char err[256];
	Est__V1__FeedEvent *ev = (Est__V1__FeedEvent *)wire_unpack(
	    &est__v1__feed_event__descriptor, data, len, FOLLOW_MAX_EVENT_BYTES, err, sizeof err);
	if (ev == NULL) {
		diag_say("an event from the hub does not decode: %s", err);
		return;
	}
	f->answered = true;
	if (ev->body_case == EST__V1__FEED_EVENT__BODY_ENTRY && ev->entry != NULL)
		on_entry(f, ev->entry);
	else if (ev->body_case == EST__V1__FEED_EVENT__BODY_STATUS && ev->status != NULL)
		on_status(f, ev->status);
	est__v1__feed_event__free_unpacked(ev, NULL);
}

/* Reads what the hub has sent, up to one burst. */
static void
receive(struct follow *f)
{
	for (int i = 0; i < FOLLOW_BURST && !f->done; i++) {
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, f->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			return;
		}
		f->heard_ms = timefmt_mono_ms();
		on_event(f, zmq_msg_data(&msg), zmq_msg_size(&msg));
		zmq_msg_close(&msg);
	}
}

/* Timeout, keepalive and silence. */
static void
timers(struct follow *f)
{
	int64_t now = timefmt_mono_ms();
	int64_t timeout_ms = f->o->timeout_ms;
	if (timeout_ms > 0 && (!f->answered || f->o->until_head) &&
	    now - f->heard_ms >= timeout_ms) {
		diag_say("no answer from the hub within %lld s", (long long)(timeout_ms / 1000));
		finish(f, EXIT_ENV);
		return;
	}
	if (now - f->heard_ms >= FOLLOW_SILENCE_MS && now - f->subscribed_ms >= FOLLOW_SILENCE_MS) {
		subscribe(f, f->answered);
		return;
	}
	/* Credit is also given back when the hub pauses: its window may be capped below ours. */
	if (now - f->sent_ms >= FOLLOW_KEEPALIVE_MS ||
	    (f->consumed > 0 && now - f->heard_ms >= FOLLOW_IDLE_CREDIT_MS))
		send_credit(f);
}

/*
 * Watches the connection: a refused certificate ends the session; a new
 * handshake after a drop means a new connection the hub knows nothing of
 * (a restarted hub, or a new routing id), so subscribe again at once.
 */
static void
watch_connection(struct follow *f)
{
	enum client_state st = client_state(f->cl);
	if (st == CLIENT_REFUSED) {
		diag_say("the hub refused the certificate %s (unknown or revoked key)", f->o->cert);
		finish(f, EXIT_ENV);
		return;
	}
	if (st == CLIENT_UP && f->conn == CLIENT_DOWN && f->answered) {
		diag_say("reconnected; subscribing again from seq %llu",
		         (unsigned long long)(f->pos_known ? f->pos + 1 : f->o->from));
		subscribe(f, false);
	} else if (st == CLIENT_DOWN && f->conn == CLIENT_UP) {
		diag_debug("connection to the hub lost; libzmq reconnects");
	}
	f->conn = st;
}

int
follow_run(const struct follow_opts *o, volatile sig_atomic_t *stop)
{
	struct follow f = {.o = o, .exit_code = EXIT_OK};
	char err[512];
	if (o->from > 0) {
		f.pos = o->from - 1;
		f.pos_known = true;
		f.pos_had = o->from_state;
	}
	bool outputs = o->out.html_dir != NULL || o->out.csv_dir != NULL ||
	               o->out.geojson_dir != NULL || o->out.summary;
	if (outputs && (f.out = output_new(&o->out, err, sizeof err)) == NULL) {
		diag_say("%s", err);
		return EXIT_ENV;
	}
	f.cl = client_new(o->hub, o->hub_cert, o->cert, err, sizeof err);
	if (f.cl == NULL) {
		diag_say("%s", err);
		output_destroy(&f.out);
		return EXIT_ENV;
	}
	f.sock = client_socket(f.cl);
	if ((f.verify = verify_new(o->sign_key, err, sizeof err)) == NULL) {
		diag_say("%s", err);
		finish(&f, EXIT_ENV);
	}
	f.heard_ms = timefmt_mono_ms();
	subscribe(&f, false);
	while (!f.done && !*stop) {
		zmq_pollitem_t item = {.socket = f.sock, .events = ZMQ_POLLIN};
		int n = zmq_poll(&item, 1, FOLLOW_TICK_MS);
		if (n < 0 && zmq_errno() != EINTR) {
			diag_say("cannot poll the hub connection: %s", zmq_strerror(zmq_errno()));
			finish(&f, EXIT_ENV);
			break;
		}
		if (n > 0)
			receive(&f);
		save_state(&f);
		if (!f.done)
			watch_connection(&f);
		if (!f.done)
			timers(&f);
	}
	save_state(&f);
	client_destroy(&f.cl);
	if (output_finish(f.out) != 0 && f.exit_code == EXIT_OK) {
		diag_say("cannot write to stdout: %s", strerror(errno));
		f.exit_code = EXIT_ENV;
	}
	output_destroy(&f.out);
	if (verify_refused(f.verify) > 0 && f.exit_code == EXIT_OK)
		f.exit_code = EXIT_INPUT; /* something the hub sent did not verify */
	verify_destroy(&f.verify);
	if (f.state_failed && f.exit_code == EXIT_OK)
		f.exit_code = EXIT_ENV;
	return f.exit_code;
}
