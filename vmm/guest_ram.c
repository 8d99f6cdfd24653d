// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM on a 2 MiB boundary (see guest_ram.h).
 *
 * mmap() of anonymous memory returns a page-aligned address; only host
 * kernels from 6.7 on align large anonymous mappings to the THP size by
 * themselves. With RAM at, say, 0x...1000, no 2 MiB of guest-physical space
 * (the guest's RAM base is 2 MiB aligned) maps to a 2 MiB host page: THP
 * cannot back it, and KVM builds stage-2 from 4 KiB pages only
 * (Documentation/admin-guide/mm/transhuge.rst). So: reserve size + 2 MiB of
 * address space with no access and no commitment, map the RAM at the first
 * 2 MiB boundary inside it (MAP_FIXED), and give the unused head and tail
 * back.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "guest_ram.h"

void *guest_ram_map(size_t size)
{
	size_t span = size + GUEST_RAM_ALIGN, head, tail;
	uintptr_t start, ram;
	void *p;

	if (!size || span < size) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	start = (uintptr_t)p;
	ram = (start + GUEST_RAM_ALIGN - 1) & ~(uintptr_t)(GUEST_RAM_ALIGN - 1);
	head = ram - start;
	tail = span - head - size;
	/* NORESERVE: the guest touches what it uses; untouched RAM costs nothing. */
	if (mmap((void *)ram, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED) {
		int err = errno;

		munmap(p, span);
		errno = err;
		return NULL;
	}
	if (head)
		munmap(p, head);
	if (tail)
		munmap((void *)(ram + size), tail);
	/*
	 * Transparent huge pages where the host allows them: loading the kernel
	 * then faults in 2 MiB at a time instead of 4 KiB (thousands of faults
	 * fewer before the first KVM_RUN), and KVM can map the guest with
	 * block mappings. Only a hint: the boot works without.
	 */
	madvise((void *)ram, size, MADV_HUGEPAGE);
	return (void *)ram;
}
