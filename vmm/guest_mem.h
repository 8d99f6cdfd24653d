/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest memory: one contiguous host mapping of guest RAM, seen by the guest at
 * gpa_base, optionally split by a hole. Every access to guest memory goes
 * through gmem_ptr(), the single checked translation: a guest-supplied
 * (address, length) pair is validated without overflow before any byte is
 * touched.
 *
 * The hole: an architecture whose RAM does not fit below its MMIO window (x86:
 * RAM above 3 GiB continues at 4 GiB) maps the first low_size bytes of the host
 * mapping at gpa_base and the rest hole_size bytes further up. No hole:
 * low_size == size, hole_size == 0 (gmem_init() sets that up). A guest_mem
 * left zeroed by a test (low_size == 0, hole_size == 0) is also correct, just
 * a function call slower.
 */
#ifndef ICEVMM_GUEST_MEM_H
#define ICEVMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

struct guest_mem {
	uint8_t *host;	    /* host mapping of guest RAM, size bytes */
	uint64_t gpa_base;  /* guest-physical address of host[0] */
	uint64_t size;	    /* bytes of RAM */
	uint64_t low_size;  /* RAM bytes below the hole (== size: no hole) */
	uint64_t hole_size; /* guest-physical bytes skipped after them (0: none) */
};

/* RAM without a hole: size bytes at gpa_base. */
static inline void gmem_init(struct guest_mem *gm, void *host, uint64_t gpa_base, uint64_t size)
{
	*gm = (struct guest_mem){
		.host = host, .gpa_base = gpa_base, .size = size, .low_size = size
	};
}

/*
 * The rest of gmem_ptr(), out of line: off (from gpa_base) is at or past the
 * hole's start, or [off, off + len) runs into it. Refuses anything touching
 * the hole; above it, translates down by the hole's size.
 */
static __attribute__((noinline, unused)) void *gmem_ptr_above(const struct guest_mem *gm,
							      uint64_t off, uint64_t len)
{
	if (off < gm->low_size) /* starts below the hole, runs into it */
		return NULL;
	if (off - gm->low_size < gm->hole_size) /* starts in the hole */
		return NULL;
	off -= gm->hole_size; /* >= low_size: cannot wrap */
	if (off > gm->size || len > gm->size - off)
		return NULL;
	return gm->host + off;
}

/*
 * Translate [gpa, gpa + len) to a host pointer, or NULL if any byte of it lies
 * outside guest RAM or in the hole. Written so that no intermediate sum can
 * wrap: a guest may pass gpa and len close to UINT64_MAX. The common case, a
 * range below the hole (every range in RAM when there is none), costs what it
 * did before holes existed: three comparisons, inline; the rest is a call.
 * (That call is not free for a caller in a loop, which must keep its state
 * across it: make reqpath-count went from 880 to 890 instructions per 4 KiB
 * read. Inlining the rest instead cost 894.)
 */
static inline void *gmem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t off;

	if (gpa < gm->gpa_base)
		return NULL;
	off = gpa - gm->gpa_base;
	if (__builtin_expect(off < gm->low_size && len <= gm->low_size - off, 1))
		return gm->host + off;
	return gmem_ptr_above(gm, off, len);
}

#endif
