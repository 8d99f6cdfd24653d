/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory: one contiguous RAM region, seen by the guest at gpa_base and
 * by icevmm at host. Every access to guest memory goes through
 * gmem_ptr(), the single checked translation: a guest-supplied (address,
 * length) pair is validated without overflow before any byte is touched.
 */
#ifndef ICEVMM_GUEST_MEM_H
#define ICEVMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *host;	   /* host mapping of guest RAM */
	uint64_t gpa_base; /* guest-physical address of host[0] */
	uint64_t size;	   /* bytes */
};

/*
 * Translate [gpa, gpa + len) to a host pointer, or NULL if any byte of it lies
 * outside guest RAM. Written so that no intermediate sum can wrap: a guest may
 * pass gpa and len close to UINT64_MAX.
 */
static inline void *gmem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t off;

	if (gpa < gm->gpa_base)
		return NULL;
	off = gpa - gm->gpa_base;
	if (off > gm->size || len > gm->size - off)
		return NULL;
	return gm->host + off;
}

#endif
