/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit: who saw and who changed what, as entries of the log itself on the
 * admin-only topic all/audit (org "esthub", body AuditEvent). Every
 * subscription, every refused attempt and every administrative change is
 * noted here by the module that decides it (feed, ingest, auth,
 * measure_ctl, hub, the purge).
 *
 * Noting costs no I/O: audit_note and its siblings only copy a small record
 * into a bounded queue in memory, so auditing never slows ingest or the
 * feeds. The hub's loop calls audit_flush, which appends what is ready as
 * one transaction at most every AUDIT_FLUSH_MS (and everything at stop) and
 * publishes it on the feed.
 *
 * Overflow: when the queue holds AUDIT_QUEUE_MAX records, further notes are
 * dropped and counted; the next flush logs one "audit_dropped" entry with
 * the number and says so on stderr.
 *
 * Coalescing: refusals (audit_refusal) of the same action by the same
 * client are one entry per AUDIT_COALESCE_MS window: the first opens the
 * window, repeats only count, and the entry (count = how many, detail = the
 * first refusal's reason and the time span) is logged when the window
 * closes. A revoked key hammering the hub thus costs one entry per 10 s.
 *
 * What an entry holds: the client's name (its certificate file name), never
 * a key or a secret, and the reason for a refusal, never the refused
 * content itself. "estctl" as the client means the instance's
 * administrator on the local control channel.
 *
 * Threading: the queue is one per process and guarded by a mutex, so a
 * note may come from any thread; audit_flush belongs to the hub's loop.
 */
#ifndef ESTHUB_HUB_AUDIT_H
#define ESTHUB_HUB_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/ids.h"

#define AUDIT_TOPIC       "all/audit"
#define AUDIT_QUEUE_MAX   1024
#define AUDIT_FLUSH_MS    200
#define AUDIT_COALESCE_MS 10000
#define AUDIT_DETAIL_MAX  512

/* The actions (AuditEvent.action). docs/audit.md lists what each detail holds. */
#define AUDIT_SUBSCRIBED        "subscribed"
#define AUDIT_SUBSCRIBE_REFUSED "subscription_refused"
#define AUDIT_REVOKED_KEY       "revoked_key_refused"
#define AUDIT_SEND_REFUSED      "send_refused"
#define AUDIT_ENVELOPE_REFUSED  "envelope_refused"
#define AUDIT_REPORT_REFUSED    "report_refused_personal_data"
#define AUDIT_MEASURE_REFUSED   "measure_update_refused"
#define AUDIT_CLIENT_ADDED      "client_added"
#define AUDIT_CLIENT_CHANGED    "client_changed"
#define AUDIT_CLIENT_ROTATED    "client_rotated"
#define AUDIT_CLIENT_REVOKED    "client_revoked"
#define AUDIT_CLIENT_REMOVED    "client_removed"
#define AUDIT_MEASURE_ADDED     "measure_added"
#define AUDIT_MEASURE_CHANGED   "measure_changed"
#define AUDIT_PICTURES_COMPILED "pictures_compiled"
#define AUDIT_PURGE             "purge"
#define AUDIT_DROPPED           "audit_dropped"
#define AUDIT_HANDSHAKE_REFUSED "handshake_refused"
#define AUDIT_STORE_RESTORED    "store_restored"

/* The client of an administrator's change made through estctl. */
#define AUDIT_BY_ESTCTL "estctl"

struct log;
struct feed;

/*
 * Queues one event (an administrative change, a purge run). client may be
 * NULL or "" when no client is concerned; detail is printf-formatted and
 * cut at AUDIT_DETAIL_MAX bytes. Never blocks on I/O.
 */
__attribute__((format(printf, 3, 4))) void audit_note(const char *action, const char *client,
                                                      const char *fmt, ...);

/*
 * Queues one refusal, coalesced with the same (action, client) within
 * AUDIT_COALESCE_MS (see above). detail: the reason as told to the one
 * refused, never what was refused.
 */
__attribute__((format(printf, 3, 4))) void audit_refusal(const char *action, const char *client,
                                                         const char *fmt, ...);

/*
 * Queues a subscription: the topics granted (patterns as asked), the seq
 * it starts from, and in detail what of it was refused ("" when nothing).
 * The entry's detail reads "T1,T2 from seq N[; refused: ...]".
 */
void audit_subscription(const char *client, const char (*topics)[IDS_TOPIC_MAX + 1],
                        size_t n_topics, uint64_t from_seq, const char *detail);

/*
 * Appends what is ready in one transaction and publishes it on feed (may be
 * NULL). Returns at once when the last flush was less than AUDIT_FLUSH_MS
 * ago, unless force is set; force also takes the refusals whose window is
 * still open (at stop). Returns the number of entries appended, 0 when none
 * were due, -1 when the store refused them (reported on stderr and counted
 * as dropped).
 */
int audit_flush(struct log *lg, struct feed *feed, bool force);

/* Records waiting in the queue (for tests and estctl status). */
size_t audit_pending(void);

/* Empties the queue and the counters (for tests). */
void audit_reset(void);

#endif
