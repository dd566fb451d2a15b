/* SPDX-License-Identifier: Apache-2.0 */
/*
 * thp: the large hash tables of the hub (the log's key index, the picture
 * store's indexes) in transparent huge pages, where the kernel
 * offers them on request (/sys/kernel/mm/transparent_hugepage/enabled:
 * "madvise", as on this project's machines, or "always").
 *
 * A fresh 4 KiB page costs a fault on its first touch, about 10 us on the
 * virtual machines this project runs on: at 4 senders x 100 in flight the
 * hub took 28 faults a thousand reports, 93% of them in those two tables,
 * whose slots are written all over as they fill and as they grow. A huge
 * page is one fault for 2 MiB. A hash table is touched all over anyway, so
 * its resident memory is the same either way; arrays that grow at their end
 * are left in small pages (a huge page would make up to 2 MiB resident
 * ahead of use).
 */
#ifndef ESTHUB_THP_H
#define ESTHUB_THP_H

#include <stddef.h>

/* calloc, and the table's whole 2 MiB blocks asked for in huge pages. */
void *thp_calloc(size_t n, size_t size);

/* malloc, the same (the caller zeroes what it uses). */
void *thp_malloc(size_t size);

#endif
