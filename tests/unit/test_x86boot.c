// SPDX-License-Identifier: GPL-2.0
/*
 * x86_64 boot CPU state (page tables, GDT, segment and control registers,
 * MSRs), per-vCPU CPUID and the /dev/kvm check, the port-I/O bus with the
 * platform's i8042 and ACPI sleep registers, and the internal-error policy.
 */
#include <string.h>

#include "../../arch/x86_64/boot64.h"
#include "../../arch/x86_64/cpuid.h"
#include "../../arch/x86_64/layout.h"
#include "../../arch/x86_64/platform.h"
#include "../../vmm/exit_status.h"
#include "../../vmm/vm.h"
#include "unit.h"

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

START_TEST(page_tables_identity_map_4g)
{
	static uint8_t pt[X86_PAGE_TABLES_SIZE];
	const uint64_t base = X86_PML4_ADDR;

	memset(pt, 0xaa, sizeof(pt));
	x86_build_page_tables(pt, base);
	/* PML4[0] -> PDPT (present, writable); the other 511 entries empty. */
	ck_assert_uint_eq(le64(pt), 0xa003);
	for (int i = 1; i < 512; i++)
		ck_assert_uint_eq(le64(pt + 8 * i), 0);
	/* PDPT[0..3] -> the four PDs; PDPT[4..] empty. */
	ck_assert_uint_eq(le64(pt + 4096), 0xb003);
	ck_assert_uint_eq(le64(pt + 4096 + 8), 0xc003);
	ck_assert_uint_eq(le64(pt + 4096 + 16), 0xd003);
	ck_assert_uint_eq(le64(pt + 4096 + 24), 0xe003);
	ck_assert_uint_eq(le64(pt + 4096 + 32), 0);
	/* PDEs: 2 MiB pages (PS), identity: entry n maps n * 2 MiB. */
	ck_assert_uint_eq(le64(pt + 2 * 4096), 0x83);
	ck_assert_uint_eq(le64(pt + 2 * 4096 + 8), 0x200083);
	ck_assert_uint_eq(le64(pt + 2 * 4096 + 8 * 8), 0x1000083);    /* 16 MiB: the kernel */
	ck_assert_uint_eq(le64(pt + 3 * 4096), 0x40000083);	      /* 1 GiB, second PD */
	ck_assert_uint_eq(le64(pt + 5 * 4096 + 8 * 511), 0xffe00083); /* the last 2 MiB of 4 GiB */
	for (uint64_t i = 0; i < 2048; i++)
		ck_assert_uint_eq(le64(pt + 2 * 4096 + 8 * i), i << 21 | 0x83);
}
END_TEST

START_TEST(gdt_descriptor_bytes)
{
	uint8_t gdt[X86_GDT_SIZE];

	memset(gdt, 0xaa, sizeof(gdt));
	x86_build_gdt(gdt, 0x600);
	ck_assert_uint_eq(le64(gdt), 0);     /* null */
	ck_assert_uint_eq(le64(gdt + 8), 0); /* unused: boot.rst's selectors start at 0x10 */
	/* Code: base 0, limit 0xfffff, G, L (64-bit), D clear, P, DPL 0, S, type 0xb. */
	ck_assert_uint_eq(le64(gdt + 0x10), 0x00af9b000000ffffULL);
	/* Data: base 0, limit 0xfffff, G, D/B, P, S, type 3 (read/write, accessed). */
	ck_assert_uint_eq(le64(gdt + 0x18), 0x00cf93000000ffffULL);
	/* TSS: base 0x600, limit 0x67, P, type 0xb (busy 64-bit TSS), 16 bytes. */
	ck_assert_uint_eq(le64(gdt + 0x20), 0x00008b0006000067ULL);
	ck_assert_uint_eq(le64(gdt + 0x28), 0);
	/* A base above 4 GiB lands in the upper half; byte 3 and byte 7 in their places. */
	x86_build_gdt(gdt, 0x123456789aULL);
	ck_assert_uint_eq(le64(gdt + 0x20), 0x34008b56789a0067ULL);
	ck_assert_uint_eq(le64(gdt + 0x28), 0x12);
	ck_assert_uint_eq(x86_seg_desc(0x12345678, 0xabcde, 0xc093), 0x12ca93345678bcdeULL);
}
END_TEST

START_TEST(sregs_long_mode_consistent_with_gdt)
{
	uint8_t gdt[X86_GDT_SIZE];
	struct kvm_sregs s;

	memset(&s, 0xff, sizeof(s));
	s.apic_base = 0xfee00900;
	x86_build_gdt(gdt, X86_TSS_ADDR);
	x86_boot_sregs(&s, gdt, X86_GDT_ADDR, X86_PML4_ADDR);
	/* SDM Vol. 3A 10.8.5: PE and PG, PAE, LME and LMA; CR3 the PML4. */
	ck_assert_uint_eq(s.cr0, 0x80000011);
	ck_assert_uint_eq(s.cr4, 0x20);
	ck_assert_uint_eq(s.efer, 0x500);
	ck_assert_uint_eq(s.cr3, 0x9000);
	ck_assert_uint_eq(s.gdt.base, 0x500);
	ck_assert_uint_eq(s.gdt.limit, 47);
	ck_assert_uint_eq(s.idt.limit, 0);
	ck_assert_uint_eq(s.apic_base, 0xfee00900); /* left as KVM had it */
	/* CS: __BOOT_CS, 64-bit code (L=1, D=0), execute/read accessed, flat. */
	ck_assert_uint_eq(s.cs.selector, 0x10);
	ck_assert_uint_eq(s.cs.type, 0xb);
	ck_assert_uint_eq(s.cs.l, 1);
	ck_assert_uint_eq(s.cs.db, 0);
	ck_assert_uint_eq(s.cs.s, 1);
	ck_assert_uint_eq(s.cs.present, 1);
	ck_assert_uint_eq(s.cs.dpl, 0);
	ck_assert_uint_eq(s.cs.g, 1);
	ck_assert_uint_eq(s.cs.base, 0);
	ck_assert_uint_eq(s.cs.limit, 0xffffffff);
	ck_assert_uint_eq(s.cs.unusable, 0);
	/* DS = ES = FS = GS = SS: __BOOT_DS, read/write accessed, 32-bit flat. */
	const struct kvm_segment *data[] = { &s.ds, &s.es, &s.fs, &s.gs, &s.ss };
	for (unsigned int i = 0; i < 5; i++) {
		ck_assert_uint_eq(data[i]->selector, 0x18);
		ck_assert_uint_eq(data[i]->type, 3);
		ck_assert_uint_eq(data[i]->s, 1);
		ck_assert_uint_eq(data[i]->db, 1);
		ck_assert_uint_eq(data[i]->l, 0);
		ck_assert_uint_eq(data[i]->present, 1);
		ck_assert_uint_eq(data[i]->limit, 0xffffffff);
		ck_assert_uint_eq(data[i]->unusable, 0);
	}
	/* TR: a present busy 64-bit TSS (VM-entry checks); LDTR unusable. */
	ck_assert_uint_eq(s.tr.selector, 0x20);
	ck_assert_uint_eq(s.tr.type, 0xb);
	ck_assert_uint_eq(s.tr.s, 0);
	ck_assert_uint_eq(s.tr.present, 1);
	ck_assert_uint_eq(s.tr.base, 0x600);
	ck_assert_uint_eq(s.tr.limit, 0x67);
	ck_assert_uint_eq(s.tr.g, 0);
	ck_assert_uint_eq(s.tr.unusable, 0);
	ck_assert_uint_eq(s.ldt.unusable, 1);
	ck_assert_uint_eq(s.ldt.selector, 0);
	ck_assert_uint_eq(s.ldt.present, 0);
}
END_TEST

START_TEST(reset_vector_stub)
{
	static const uint8_t want[16] = { 0xb0, 0xfe, 0xe6, 0x64, 0xf4, 0xeb, 0xfd };
	uint8_t buf[X86_RESET_STUB_SIZE];

	memset(buf, 0xaa, sizeof(buf));
	ck_assert_uint_eq(x86_reset_stub(buf), 7);
	ck_assert_mem_eq(buf, want, sizeof(want));
	/* The 16 bytes end exactly at 1 MiB; the ACPI area ends where they start. */
	ck_assert_uint_eq(X86_RESET_VECTOR_ADDR + X86_RESET_STUB_SIZE, 0x100000);
	ck_assert_uint_eq(X86_ACPI_BASE + X86_ACPI_SIZE, X86_RESET_VECTOR_ADDR);
}
END_TEST

START_TEST(regs_and_msrs)
{
	struct kvm_msr_entry e[X86_BOOT_MSRS];
	struct kvm_regs r;

	memset(&r, 0xff, sizeof(r));
	x86_boot_regs(&r, 0x1000200, 0x7000, 0x9000);
	ck_assert_uint_eq(r.rip, 0x1000200);
	ck_assert_uint_eq(r.rsi, 0x7000);
	ck_assert_uint_eq(r.rflags, 2); /* IF clear */
	ck_assert_uint_eq(r.rsp, 0x9000);
	ck_assert_uint_eq(r.rax | r.rbx | r.rcx | r.rdx | r.rdi | r.rbp | r.r8 | r.r15, 0);
	x86_boot_msrs(e);
	ck_assert_uint_eq(e[0].index, 0x174);
	for (int i = 0; i < X86_BOOT_MSRS; i++) {
		switch (e[i].index) {
		case 0x1a0:
			ck_assert_uint_eq(e[i].data, 1); /* fast strings */
			break;
		case 0x2ff:
			ck_assert_uint_eq(e[i].data, 0x806); /* MTRRs on, default write-back */
			break;
		default:
			ck_assert_uint_eq(e[i].data, 0);
		}
		ck_assert_uint_eq(e[i].reserved, 0);
	}
	ck_assert_uint_eq(e[X86_BOOT_MSRS - 1].index, 0x2ff);
}
END_TEST

/* A small fake KVM_GET_SUPPORTED_CPUID table. */
static struct kvm_cpuid_entry2 fake[8];

static unsigned int make_cpuid(void)
{
	memset(fake, 0, sizeof(fake));
	fake[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0x1f };
	/* leaf 1: stepping etc. in EAX, CLFLUSH size 8 in EBX[15:8], host APIC ID 7 */
	fake[1] = (struct kvm_cpuid_entry2){ .function = 1,
					     .eax = 0x800f12,
					     .ebx = 0x07020800,
					     .ecx = 0x00f8320b | CPUID1_ECX_SSE4_2,
					     .edx = 0x178bfbff };
	fake[2] = (struct kvm_cpuid_entry2){ .function = 0xb,
					     .index = 0,
					     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
					     .eax = 1,
					     .ebx = 1,
					     .ecx = 0x100,
					     .edx = 7 };
	fake[3] = (struct kvm_cpuid_entry2){ .function = 0xb,
					     .index = 1,
					     .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
					     .eax = 4,
					     .ebx = 2,
					     .ecx = 0x201,
					     .edx = 7 };
	fake[4] = (struct kvm_cpuid_entry2){ .function = 0x40000000,
					     .eax = 0x40000001,
					     .ebx = 0x4b4d564b };
	fake[5] = (struct kvm_cpuid_entry2){ .function = 0x80000001, .edx = 0x2fd3fbff };
	fake[6] = (struct kvm_cpuid_entry2){ .function = 0x8000001e, .eax = 7, .ebx = 0x100 };
	fake[7] = (struct kvm_cpuid_entry2){
		.function = 0x1f, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .edx = 7
	};
	return 8;
}

START_TEST(cpuid_fixup_per_vcpu)
{
	unsigned int n = make_cpuid();

	x86_cpuid_fixup(fake, n, 3, 4, false);
	ck_assert_uint_eq(fake[1].ebx, 0x03040800); /* APIC ID 3, 4 logical, CLFLUSH kept */
	ck_assert_uint_eq(fake[1].edx, 0x178bfbff | CPUID1_EDX_HTT);
	ck_assert_uint_eq(fake[1].ecx, 0x00f8320b | CPUID1_ECX_SSE4_2 | CPUID1_ECX_HYPERVISOR);
	ck_assert_uint_eq(fake[1].eax, 0x800f12);
	ck_assert_uint_eq(fake[2].edx, 3);
	ck_assert_uint_eq(fake[3].edx, 3);
	ck_assert_uint_eq(fake[7].edx, 3);
	ck_assert_uint_eq(fake[2].ebx, 1); /* the rest of the topology as KVM gave it */
	ck_assert_uint_eq(fake[6].eax, 3);
	ck_assert_uint_eq(fake[6].ebx, 0x100);
	ck_assert_uint_eq(fake[4].ebx, 0x4b4d564b); /* KVM's signature leaf untouched */
	/* One vCPU: APIC ID 0, count 1, no HTT. */
	make_cpuid();
	x86_cpuid_fixup(fake, n, 0, 1, true);
	ck_assert_uint_eq(fake[1].ebx, 0x00010800);
	ck_assert_uint_eq(fake[1].ecx, 0x00f8320b | CPUID1_ECX_SSE4_2 | CPUID1_ECX_HYPERVISOR |
					       CPUID1_ECX_TSC_DEADLINE);
	ck_assert_uint_eq(fake[1].edx & CPUID1_EDX_HTT, 0);
	ck_assert_uint_eq(fake[2].edx, 0);
	/* x86_cpuid_find honours the significant index. */
	ck_assert_ptr_eq(x86_cpuid_find(fake, n, 0xb, 1), &fake[3]);
	ck_assert_ptr_eq(x86_cpuid_find(fake, n, 0x40000000, 5), &fake[4]);
	ck_assert_ptr_null(x86_cpuid_find(fake, n, 0xb, 2));
	ck_assert_ptr_null(x86_cpuid_find(fake, n, 0x80000008, 0));
}
END_TEST

START_TEST(kvm_usable_check)
{
	unsigned int n = make_cpuid();
	const char *why = NULL;

	ck_assert_int_eq(x86_kvm_usable(fake, n, CPUID1_ECX_SSE4_2, false, &why), 0);
	ck_assert_int_eq(x86_kvm_usable(fake, n, 0, false, &why), 0);
	/* The kvm_pvm module, whatever the table says. */
	ck_assert_int_eq(x86_kvm_usable(fake, n, 0, true, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "kvm_pvm"));
	/* No long mode. */
	fake[5].edx &= ~CPUID_EXT_EDX_LM;
	ck_assert_int_eq(x86_kvm_usable(fake, n, 0, false, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "long mode"));
	/* No SSE2. */
	make_cpuid();
	fake[1].edx &= ~(1u << 26);
	ck_assert_int_eq(x86_kvm_usable(fake, n, 0, false, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "SSE2"));
	/* No leaf 0x80000001 at all. */
	make_cpuid();
	ck_assert_int_eq(x86_kvm_usable(fake, 5, 0, false, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "SYSCALL"));
	/* SSE4.2 hidden although the host CPU has it: kvm_pvm's signature. */
	make_cpuid();
	fake[1].ecx &= ~CPUID1_ECX_SSE4_2;
	ck_assert_int_eq(x86_kvm_usable(fake, n, 0, false, &why), 0);
	ck_assert_int_eq(x86_kvm_usable(fake, n, CPUID1_ECX_SSE4_2, false, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "SSE4.2"));
}
END_TEST

/* The platform devices with a recording stop callback. */
static int stops, last_status;

static void fake_stop(void *ctx, int status)
{
	(void)ctx;
	stops++;
	last_status = status;
}

static struct mmio_bus pio;
static struct x86_platform plat = { .stop = fake_stop };

static void platform_setup(void)
{
	memset(&pio, 0, sizeof(pio));
	stops = 0;
	last_status = -1;
	ck_assert_int_eq(x86_platform_register(&pio, &plat), 0);
}

static bool out8(uint16_t port, uint8_t v)
{
	return x86_pio_access(&pio, port, 1, 1, false, &v, 1);
}

static uint32_t in(uint16_t port, uint8_t size)
{
	uint32_t v = 0x5a5a5a5a;

	ck_assert(x86_pio_access(&pio, port, size, 1, true, (uint8_t *)&v, sizeof(v)));
	return v;
}

START_TEST(i8042_reset)
{
	platform_setup();
	ck_assert_uint_eq(in(0x64, 1), 0x5a5a5a00); /* status 0: one byte written */
	ck_assert_uint_eq(in(0x60, 1), 0x5a5a5a00);
	ck_assert(out8(0x64, 0xd1)); /* other commands: nothing */
	ck_assert(out8(0x60, 0xfe)); /* 0xfe on the data port: not a reset */
	ck_assert_int_eq(stops, 0);
	ck_assert(out8(0x64, 0xfe));
	ck_assert_int_eq(stops, 1);
	ck_assert_int_eq(last_status, EXIT_GUEST_RESET);
	ck_assert_int_eq(last_status, 3);
}
END_TEST

START_TEST(acpi_sleep_registers)
{
	platform_setup();
	ck_assert_uint_eq(in(0x601, 1), 0x5a5a5a00);
	ck_assert_uint_eq(in(0x600, 1), 0x5a5a5a00);
	ck_assert(out8(0x601, 0x80));		 /* clearing WAK_STS */
	ck_assert(out8(0x600, 5 << 2));		 /* SLP_TYP 5 without SLP_EN: nothing */
	ck_assert(out8(0x600, 1 << 5 | 3 << 2)); /* S3: ignored (a log line) */
	ck_assert(out8(0x601, 1 << 5 | 5 << 2)); /* S5 on the status register: nothing */
	ck_assert_int_eq(stops, 0);
	ck_assert(out8(0x600, 1 << 5 | 5 << 2)); /* SLP_EN | SLP_TYP 5: power off */
	ck_assert_int_eq(stops, 1);
	ck_assert_int_eq(last_status, EXIT_GUEST_POWEROFF);
	/* Another bit set alongside (bit 0, reserved): still S5. */
	ck_assert(out8(0x600, 1 << 5 | 5 << 2 | 1));
	ck_assert_int_eq(stops, 2);
}
END_TEST

START_TEST(pio_unclaimed_and_string_io)
{
	uint8_t buf[16];

	platform_setup();
	/* Nothing at 0x80 or 0x3f8 here: reads are all ones, as on an idle ISA bus. */
	ck_assert_uint_eq(in(0x80, 1), 0x5a5a5aff);
	ck_assert_uint_eq(in(0x3f8, 2), 0x5a5affff);
	ck_assert_uint_eq(in(0xcf8, 4), 0xffffffff);
	ck_assert(out8(0x80, 0x12)); /* POST codes: accepted, dropped */
	/* A 2-byte read at 0x600: the sleep device takes it (zeros). */
	ck_assert_uint_eq(in(0x600, 2), 0x5a5a0000);
	/* A 2-byte read at 0x64 is wider than the 1-port device: unclaimed. */
	ck_assert_uint_eq(in(0x64, 2), 0x5a5affff);
	/* REP INSB: each element its own access to the same port. */
	memset(buf, 0x11, sizeof(buf));
	ck_assert(x86_pio_access(&pio, 0x60, 1, 4, true, buf, sizeof(buf)));
	ck_assert_uint_eq(le64(buf), 0x1111111100000000ULL);
	memset(buf, 0x11, sizeof(buf));
	ck_assert(x86_pio_access(&pio, 0x81, 2, 3, true, buf, sizeof(buf)));
	ck_assert_uint_eq(le64(buf), 0x1111ffffffffffffULL);
	/* REP OUTSB of 0xd1, 0xfe to 0x64: the second element resets. */
	buf[0] = 0xd1;
	buf[1] = 0xfe;
	ck_assert(x86_pio_access(&pio, 0x64, 1, 2, false, buf, sizeof(buf)));
	ck_assert_int_eq(stops, 1);
	/* Malformed exits: sizes KVM never gives, data past the room. Nothing touched. */
	memset(buf, 0x11, sizeof(buf));
	ck_assert(!x86_pio_access(&pio, 0x60, 3, 1, true, buf, sizeof(buf)));
	ck_assert(!x86_pio_access(&pio, 0x60, 8, 1, true, buf, sizeof(buf)));
	ck_assert(!x86_pio_access(&pio, 0x60, 1, 0, true, buf, sizeof(buf)));
	ck_assert(!x86_pio_access(&pio, 0x60, 4, 5, true, buf, sizeof(buf)));
	ck_assert(!x86_pio_access(&pio, 0x60, 4, 0x40000001, true, buf, sizeof(buf)));
	ck_assert_uint_eq(buf[0], 0x11);
	ck_assert(x86_pio_access(&pio, 0x60, 4, 4, true, buf, sizeof(buf)));
}
END_TEST

START_TEST(internal_error_policy)
{
	ck_assert_int_eq(vm_internal_error_status(KVM_INTERNAL_ERROR_EMULATION), 5);
	ck_assert_int_eq(vm_internal_error_status(KVM_INTERNAL_ERROR_SIMUL_EX), 5);
	ck_assert_int_eq(vm_internal_error_status(KVM_INTERNAL_ERROR_DELIVERY_EV), 5);
	ck_assert_int_eq(vm_internal_error_status(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON), 1);
	ck_assert_int_eq(vm_internal_error_status(0), 1);
	ck_assert_int_eq(vm_internal_error_status(99), 1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("x86boot");
	TCase *tc = tcase_create("cpu");

	tcase_add_test(tc, page_tables_identity_map_4g);
	tcase_add_test(tc, gdt_descriptor_bytes);
	tcase_add_test(tc, sregs_long_mode_consistent_with_gdt);
	tcase_add_test(tc, reset_vector_stub);
	tcase_add_test(tc, regs_and_msrs);
	tcase_add_test(tc, cpuid_fixup_per_vcpu);
	tcase_add_test(tc, kvm_usable_check);
	suite_add_tcase(s, tc);
	tc = tcase_create("platform");
	tcase_add_test(tc, i8042_reset);
	tcase_add_test(tc, acpi_sleep_registers);
	tcase_add_test(tc, pio_unclaimed_and_string_io);
	tcase_add_test(tc, internal_error_policy);
	suite_add_tcase(s, tc);
	return s;
}
