/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device register accessors and barriers.
 *
 * Each MMIO access is one plain LDR/STR of the register's width, base
 * register only, no writeback: KVM emulates a trapped access from the
 * syndrome in ESR_EL2, which is valid (ISV = 1) only for such single
 * loads/stores (Arm ARM, "ISS encoding for an exception from a Data Abort").
 * Inline asm keeps the compiler from choosing LDP, pre/post-index forms or
 * merged accesses.
 */
#ifndef ICE_SELFTEST_IO_H
#define ICE_SELFTEST_IO_H

#include <stdint.h>

static inline uint8_t readb(uintptr_t a)
{
	uint32_t v;

	asm volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return (uint8_t)v;
}

static inline uint16_t readw(uintptr_t a)
{
	uint32_t v;

	asm volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return (uint16_t)v;
}

static inline uint32_t readl(uintptr_t a)
{
	uint32_t v;

	asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void writeb(uint8_t v, uintptr_t a)
{
	asm volatile("strb %w0, [%1]" : : "rZ"((uint32_t)v), "r"(a) : "memory");
}

static inline void writel(uint32_t v, uintptr_t a)
{
	asm volatile("str %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}

#define dsb(opt) asm volatile("dsb " #opt : : : "memory")
#define dmb(opt) asm volatile("dmb " #opt : : : "memory")
#define isb() asm volatile("isb" : : : "memory")

/* A compiler-visible single access to memory shared with the device. */
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#define sysreg_read(r)                                                                             \
	({                                                                                         \
		uint64_t __v;                                                                      \
		asm volatile("mrs %0, " #r : "=r"(__v));                                           \
		__v;                                                                               \
	})
#define sysreg_write(r, v) asm volatile("msr " #r ", %0" : : "r"((uint64_t)(v)) : "memory")

#endif
