/* SPDX-License-Identifier: Apache-2.0 */
/*
 * validate: the contract's checks of one incoming report, each report on
 * its own. Errors name the field by its proto name and say why, in
 * English, without echoing the field's content (it may hold personal data).
 */
#ifndef ESTHUB_HUB_VALIDATE_H
#define ESTHUB_HUB_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "est.pb-c.h"
#include "personal.h"

struct areas;

#define VALIDATE_SOURCE_ID_MAX   128
#define VALIDATE_SUBCATEGORY_MAX 64
#define VALIDATE_PLACE_MAX       200
#define VALIDATE_DESCRIPTION_MAX 4000
#define VALIDATE_ROLE_MAX        64
#define VALIDATE_PEOPLE_MAX      100000
#define VALIDATE_EARLIEST        946684800 /* 2000-01-01T00:00:00Z */

/*
 * Checks r against the contract. When r has no area but a position, sets
 * r->area (a new string owned by r, from alloc: the allocator r was
 * unpacked with, NULL for malloc) to the area containing it, or "outside".
 * Returns 0, or -1 with "field: reason" in err.
 */
int validate_report(Est__V1__Report *r, ProtobufCAllocator *alloc, const struct areas *areas,
                    int64_t now, int64_t max_future_s, char *err, size_t errlen);

/*
 * Checks r's free-text fields (subcategory, place, description,
 * reporter_role) for personal data (personal.h); call after validate_report
 * accepted r. PERSONAL_REJECT: -1 with "field: contains what looks like
 * <kind> ..." in err for the first field holding some, the text never
 * echoed. PERSONAL_MASK: each such field of r is replaced by its masked
 * text (a new string owned by r, from alloc) and 0 returned; -1 only when out of
 * memory. Masking here, before the log compares a retry with what it
 * stored, keeps a resent unmasked report a DUPLICATE of the masked one.
 */
int validate_report_personal(Est__V1__Report *r, ProtobufCAllocator *alloc, enum personal_mode mode,
                             char *err, size_t errlen);

#endif
