// SPDX-License-Identifier: GPL-2.0
/* rig-arch: arm64 */
/*
 * An L2 guest program (built static for arm64 by mkinitramfs.sh): one
 * load/store pair (ldp) from an MMIO address, which KVM cannot decode
 * (ESR_EL2.ISV = 0). icevmm must answer with an external data abort, which
 * the guest kernel turns into SIGBUS here; before, KVM_RUN failed and icevmm
 * exited 1.
 *
 *   ldp-mmio [PHYS_ADDR]    default 0x09030000: a hole in icevmm's map
 *                           (arch/arm64/layout.h), claimed by no guest driver,
 *                           so /dev/mem hands it out despite IO_STRICT_DEVMEM
 * Prints "ldp-mmio: SIGBUS" and exits 0 if the abort came, exits 1 if not.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] = "ldp-mmio: SIGBUS\n";

	(void)sig, (void)si, (void)uc;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(0);
}

int main(int argc, char **argv)
{
	unsigned long addr = argc > 1 ? strtoul(argv[1], NULL, 0) : 0x09030000UL;
	struct sigaction sa;
	volatile uint64_t *p;
	uint64_t a, b;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0) {
		perror("ldp-mmio: /dev/mem");
		return 1;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)addr);
	if (p == MAP_FAILED) {
		perror("ldp-mmio: mmap /dev/mem");
		return 1;
	}
	__asm__ volatile("ldp %0, %1, [%2]" : "=r"(a), "=r"(b) : "r"(p) : "memory");
	printf("ldp-mmio: no abort, read 0x%llx 0x%llx\n", (unsigned long long)a,
	       (unsigned long long)b);
	return 1;
}
