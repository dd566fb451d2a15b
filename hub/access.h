/* SPDX-License-Identifier: Apache-2.0 */
/*
 * access: the one place that says who may do what (need-to-know). Every
 * decision of the hub about sending and reading goes through here.
 *
 *   role        may send reports   may read
 *   adapter     yes (as its org)   nothing
 *   subscriber  no                 AREA/reports, AREA/measures, AREA/pictures of the
 *                                  areas of its groups; all/pictures; all/checkpoints
 *                                  (an organisation's overview: org, no groups: the
 *                                  all/ topics only)
 *   admin       yes (as its org)   everything, all/audit included
 *
 * Measures of a social working group (Measure.group GROUP_SOCIAL) are
 * need-to-know within AREA/measures: a subscriber gets them only when it
 * holds AREA/social, or the bare AREA (the whole area), of their area, on
 * named and wildcard subscriptions alike; others on AREA/measures get the
 * situational and ungrouped ones only. Adapters may send measure updates
 * (Envelope.measure) for measures assigned to their own org.
 */
#ifndef ESTHUB_HUB_ACCESS_H
#define ESTHUB_HUB_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "wire/cert.h"

/* Whether who may send reports; when not, why (for the Ack). */
bool access_may_send(const struct cert_info *who, char *why, size_t whylen);

/* Whether who may follow feeds at all; when not, why. */
bool access_may_subscribe(const struct cert_info *who, char *why, size_t whylen);

/* Whether who may read entries of topic (a concrete topic, never a pattern). */
bool access_may_read(const struct cert_info *who, const char *topic);

/*
 * Whether who may read one entry of topic whose measure belongs to working
 * group (an Est__V1__WorkingGroup value; GROUP_UNSPECIFIED for entries that
 * are not measures or have no group): access_may_read, and for a social
 * group's measure the social group of the area (or the whole area).
 */
bool access_may_read_entry(const struct cert_info *who, const char *topic, int group);

#endif
