/* SPDX-License-Identifier: Apache-2.0 */
/*
 * measure_view: what the rest of the hub sees of one measure (the measure
 * registry in measure.h keeps them; the picture compiler reads them). A
 * view is the measure's current state (its latest log entry) plus the
 * times its lifecycle tells, which follow-up and flags need.
 */
#ifndef ESTHUB_HUB_MEASURE_VIEW_H
#define ESTHUB_HUB_MEASURE_VIEW_H

#include <stdint.h>

#include "est.pb-c.h"

struct measure_view {
	const Est__V1__Measure *m; /* current state; owned by the registry */
	uint64_t first_seq;        /* the entry that created it */
	uint64_t last_seq;         /* its latest entry */
	int64_t created_at;        /* logged_at of the first entry */
	/* When it started: m->starts_at when given, else logged_at of the
	 * change to in_progress (or to done, when it skipped in_progress); 0
	 * while it has not started. */
	int64_t started_at;
	/* When it ended: m->ends_at when given and the measure is done or
	 * cancelled, else logged_at of the change to done or cancelled; 0 while
	 * it is not over. */
	int64_t ended_at;
};

#endif
