/* SPDX-License-Identifier: Apache-2.0 */
#include "thp.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define THP_BLOCK ((uintptr_t)2 << 20)

/*
 * Asks for huge pages over the 2 MiB blocks that lie whole inside
 * [p, p + size). Only a request: a kernel without them, or with them off,
 * says no and the table stays in small pages.
 */
static void
advise(void *p, size_t size)
{
	if (p == NULL || size < 2 * THP_BLOCK)
		return;
	uintptr_t start = ((uintptr_t)p + THP_BLOCK - 1) & ~(THP_BLOCK - 1);
	uintptr_t end = ((uintptr_t)p + size) & ~(THP_BLOCK - 1);
	if (end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

void *
thp_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	advise(p, n * size); /* calloc checked n * size */
	return p;
}

void *
thp_malloc(size_t size)
{
	void *p = malloc(size);
	advise(p, size);
	return p;
}
