/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the audit queue (hub/audit.c) against a real log in a
 * temporary directory: events land on all/audit in the order noted, one
 * flush is one transaction, refusals of one client coalesce while their
 * window is open (and go at a forced flush), a full queue drops and says
 * so in one entry, flushes are throttled, and what a client sent is kept
 * valid UTF-8 without control characters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "wire/ids.h"

struct fx {
	char dir[64];
	char path[128];
	struct log *lg;
	Est__V1__LogEntry *got[AUDIT_QUEUE_MAX + 8];
	size_t n_got;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/esthub-audit-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof fx->path, "%s/log.db", fx->dir);
	char err[256];
	if (log_open(&fx->lg, fx->path, LOG_CREATE, err, sizeof err) != 0) {
		fprintf(stderr, "log_open: %s\n", err);
		return -1;
	}
	audit_reset();
	*state = fx;
	return 0;
}

static void
forget(struct fx *fx)
{
	for (size_t i = 0; i < fx->n_got; i++)
		est__v1__log_entry__free_unpacked(fx->got[i], NULL);
	fx->n_got = 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	forget(fx);
	log_close(&fx->lg);
	unlink(fx->path);
	char p[160];
	snprintf(p, sizeof p, "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", fx->path);
	unlink(p);
	rmdir(fx->dir);
	free(fx);
	audit_reset();
	return 0;
}

static int
collect(void *arg, uint64_t seq, const char *topic, const uint8_t *body, size_t body_len,
        const uint8_t *hash)
{
	(void)seq;
	(void)hash;
	struct fx *fx = arg;
	assert_string_equal(topic, AUDIT_TOPIC);
	assert_true(fx->n_got < sizeof fx->got / sizeof fx->got[0]);
	Est__V1__LogEntry *e = est__v1__log_entry__unpack(NULL, body_len, body);
	assert_non_null(e);
	assert_int_equal(e->body_case, EST__V1__LOG_ENTRY__BODY_AUDIT);
	assert_string_equal(e->org, "esthub");
	fx->got[fx->n_got++] = e;
	return 0;
}

/* Reads every entry of the log into fx->got. */
static void
read_all(struct fx *fx)
{
	char err[256];
	forget(fx);
	assert_int_equal(log_scan(fx->lg, 1, log_head_seq(fx->lg), collect, fx, err, sizeof err),
	                 0);
}

static void
test_events_in_order_one_transaction(void **state)
{
	struct fx *fx = *state;
	char topics[2][IDS_TOPIC_MAX + 1] = {"hageby/reports", "all/pictures"};
	audit_note(AUDIT_CLIENT_ADDED, "polisen", "role %s, org %s", "adapter", "police");
	audit_subscription("hageby-grupp", topics, 2, 17, "");
	audit_note(AUDIT_PURGE, NULL, "12 entries purged");
	assert_int_equal(audit_pending(), 3);
	assert_int_equal(audit_flush(fx->lg, NULL, true), 3);
	assert_int_equal(audit_pending(), 0);
	assert_int_equal(log_head_seq(fx->lg), 3);
	read_all(fx);
	assert_int_equal(fx->n_got, 3);
	assert_string_equal(fx->got[0]->audit->action, "client_added");
	assert_string_equal(fx->got[0]->audit->client, "polisen");
	assert_string_equal(fx->got[0]->audit->detail, "role adapter, org police");
	Est__V1__AuditEvent *s = fx->got[1]->audit;
	assert_string_equal(s->action, "subscribed");
	assert_int_equal(s->n_topics, 2);
	assert_string_equal(s->topics[1], "all/pictures");
	assert_int_equal(s->from_seq, 17);
	assert_string_equal(s->detail, "hageby/reports,all/pictures from seq 17");
	assert_string_equal(fx->got[2]->audit->client, "");
	/* One transaction: the three share their logged_at. */
	assert_int_equal(fx->got[0]->logged_at, fx->got[2]->logged_at);
	/* Nothing queued: nothing appended. */
	assert_int_equal(audit_flush(fx->lg, NULL, true), 0);
	assert_int_equal(log_head_seq(fx->lg), 3);
}

static void
test_refusals_coalesce_per_client_and_action(void **state)
{
	struct fx *fx = *state;
	for (int i = 0; i < 50; i++)
		audit_refusal(AUDIT_REVOKED_KEY, "polisen", "message refused: try %d", i);
	audit_refusal(AUDIT_REVOKED_KEY, "kommunen", "message refused");
	audit_refusal(AUDIT_SEND_REFUSED, "polisen", "role");
	assert_int_equal(audit_pending(), 3);
	/* The windows are open: an ordinary flush leaves them. */
	assert_int_equal(audit_flush(fx->lg, NULL, false), 0);
	assert_int_equal(audit_pending(), 3);
	assert_int_equal(log_head_seq(fx->lg), 0);
	assert_int_equal(audit_flush(fx->lg, NULL, true), 3);
	read_all(fx);
	assert_int_equal(fx->n_got, 3);
	Est__V1__AuditEvent *a = fx->got[0]->audit;
	assert_string_equal(a->client, "polisen");
	assert_int_equal(a->count, 50);
	/* The first reason stands for the window, with the count. */
	assert_non_null(strstr(a->detail, "message refused: try 0 (50 times within"));
	assert_int_equal(fx->got[1]->audit->count, 1);
	assert_string_equal(fx->got[1]->audit->detail, "message refused");
	assert_string_equal(fx->got[2]->audit->action, "send_refused");
}

static void
test_full_queue_drops_and_says_so(void **state)
{
	struct fx *fx = *state;
	for (int i = 0; i < AUDIT_QUEUE_MAX + 25; i++)
		audit_note(AUDIT_CLIENT_ADDED, "c", "%d", i);
	assert_int_equal(audit_pending(), AUDIT_QUEUE_MAX);
	assert_int_equal(audit_flush(fx->lg, NULL, true), AUDIT_QUEUE_MAX + 1);
	read_all(fx);
	assert_int_equal(fx->n_got, AUDIT_QUEUE_MAX + 1);
	Est__V1__AuditEvent *last = fx->got[AUDIT_QUEUE_MAX]->audit;
	assert_string_equal(last->action, "audit_dropped");
	assert_int_equal(last->count, 25);
	assert_non_null(strstr(last->detail, "audit events dropped: 25"));
	/* Room again, and the count starts anew. */
	audit_note(AUDIT_PURGE, "", "again");
	assert_int_equal(audit_flush(fx->lg, NULL, true), 1);
}

static void
test_flush_is_throttled(void **state)
{
	struct fx *fx = *state;
	audit_note(AUDIT_PURGE, "", "one");
	assert_int_equal(audit_flush(fx->lg, NULL, false), 1);
	audit_note(AUDIT_PURGE, "", "two");
	/* Within AUDIT_FLUSH_MS of the last flush: nothing yet. */
	assert_int_equal(audit_flush(fx->lg, NULL, false), 0);
	assert_int_equal(audit_pending(), 1);
	usleep((AUDIT_FLUSH_MS + 50) * 1000);
	assert_int_equal(audit_flush(fx->lg, NULL, false), 1);
}

static void
test_text_stays_clean_utf8(void **state)
{
	struct fx *fx = *state;
	char long_topic[AUDIT_DETAIL_MAX + 40];
	/* A detail cut in the middle of "å" (2 bytes) and a stray 0xff byte. */
	memset(long_topic, 'a', sizeof long_topic);
	for (size_t i = AUDIT_DETAIL_MAX - 4; i + 1 < sizeof long_topic; i += 2) {
		long_topic[i] = (char)0xc3;
		long_topic[i + 1] = (char)0xa5;
	}
	long_topic[sizeof long_topic - 1] = '\0';
	audit_note(AUDIT_SUBSCRIBE_REFUSED, "x", "%s", long_topic);
	audit_note(AUDIT_SUBSCRIBE_REFUSED, "x", "bad \xff topic\n\t");
	assert_int_equal(audit_flush(fx->lg, NULL, true), 2);
	read_all(fx);
	for (size_t i = 0; i < fx->n_got; i++) {
		const char *d = fx->got[i]->audit->detail;
		assert_true(ids_utf8_valid(d, strlen(d)));
		for (const char *p = d; *p; p++)
			assert_true((unsigned char)*p >= 0x20);
	}
	assert_string_equal(fx->got[1]->audit->detail, "bad ? topic  ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_events_in_order_one_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals_coalesce_per_client_and_action, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_full_queue_drops_and_says_so, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_is_throttled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_text_stays_clean_utf8, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
