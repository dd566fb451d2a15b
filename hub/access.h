/* SPDX-License-Identifier: Apache-2.0 */
/*
 * access: the one place that says who may do what (need-to-know). Every
 * decision of the hub about sending and reading goes through here.
 *
 *   role        may send reports   may read
 *   adapter     yes (as its org)   nothing
 *   subscriber  no                 AREA/reports, AREA/measures, AREA/pictures of the
 *                                  areas of its groups; all/pictures; all/checkpoints
 *   admin       yes (as its org)   everything, all/audit included
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

#endif
