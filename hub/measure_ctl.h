/* SPDX-License-Identifier: Apache-2.0 */
/*
 * measure_ctl: the hub's side of `estctl measure add / set / show / list`
 * on the control channel. Judges with the registry (measure.h), appends the
 * new state to the log on AREA/measures (org "esthub": the administrator),
 * publishes it on the feed and hands it back to the registry. `show` adds
 * the follow-up of a done measure (picture.h).
 */
#ifndef ESTHUB_HUB_MEASURE_CTL_H
#define ESTHUB_HUB_MEASURE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "est.pb-c.h"
#include "log.h"
#include "measure.h"

struct feed;
struct picture_store;
struct picture_rules;

/* What the handlers work with; all borrowed from the hub. */
struct measure_ctl {
	struct measures *ms;
	struct log *lg;
	struct feed *feed;
	const struct picture_store *pictures;
	const struct picture_rules *rules;
};

/* What a reply borrows until it is sent; measure_reply_fini releases it. */
struct measure_reply {
	char message[512];
	uint64_t seq;
	Est__V1__Measure *one;
	Est__V1__Measure *copies; /* list: shallow copies without the free texts */
	Est__V1__Measure **list;
	Est__V1__Followup followup;
	Est__V1__Followup *followup_ptr;
};

/* Whether req is one of the measure requests. */
bool measure_ctl_handles(const Est__V1__ControlRequest *req);

/*
 * Handles a measure request: fills reply (ok, message, seqs, measures,
 * followups), whose pointers borrow from mr and the registry until the
 * reply is sent and measure_reply_fini(mr) is called.
 */
void measure_ctl_serve(const struct measure_ctl *mc, const Est__V1__ControlRequest *req,
                       Est__V1__ControlReply *reply, struct measure_reply *mr);

void measure_reply_fini(struct measure_reply *mr);

#endif
