/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPUID a vCPU shows: KVM's supported table (KVM_GET_SUPPORTED_CPUID,
 * Documentation/virt/kvm/api.rst), made per-vCPU (APIC IDs), and the check
 * that a /dev/kvm can run a stock x86_64 kernel at all. Pure functions on the
 * table; arch.c does the ioctls.
 */
#ifndef ICEVMM_X86_CPUID_H
#define ICEVMM_X86_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

/* Leaf 1 (SDM Vol. 2A, CPUID) */
#define CPUID1_EBX_APIC_ID_SHIFT 24
#define CPUID1_EBX_LOGICAL_SHIFT 16
#define CPUID1_ECX_SSE4_2 (1u << 20)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_HYPERVISOR (1u << 31) /* reserved for hypervisors to set */
#define CPUID1_EDX_HTT (1u << 28)
#define CPUID_EXT_TOPOLOGY 0xb	   /* EDX: x2APIC ID */
#define CPUID_V2_EXT_TOPOLOGY 0x1f /* EDX: x2APIC ID */
#define CPUID_EXT_FEATURES 0x80000001
#define CPUID_EXT_EDX_LM (1u << 29)
#define CPUID_AMD_TOPOLOGY 0x8000001e /* EAX: extended APIC ID (APM Vol. 3, E.4.13) */

struct kvm_cpuid_entry2 *x86_cpuid_find(struct kvm_cpuid_entry2 *e, unsigned int n,
					uint32_t function, uint32_t index);

/*
 * Make KVM's supported table (copied into e) vCPU cpu's of ncpus: leaf 1
 * initial APIC ID = cpu and the logical-processor count (with HTT when
 * ncpus > 1), the hypervisor bit, and the TSC-deadline timer if tsc_deadline
 * (KVM_CAP_TSC_DEADLINE_TIMER: api.rst says KVM_GET_SUPPORTED_CPUID leaves
 * that bit to userspace before Linux 6.14, as it needs the in-kernel LAPIC;
 * without a PIT, it is how the guest's LAPIC timer needs no calibration);
 * leaves 0xb/0x1f x2APIC ID = cpu in every subleaf; AMD's leaf 0x8000001e
 * extended APIC ID = cpu. KVM's in-kernel LAPIC gives vCPU n APIC ID n, and
 * the MADT says the same.
 */
void x86_cpuid_fixup(struct kvm_cpuid_entry2 *e, unsigned int n, unsigned int cpu,
		     unsigned int ncpus, bool tsc_deadline);

/*
 * Can this KVM run a stock x86_64 Linux? Not if the kvm_pvm module drives
 * /dev/kvm (pvm_module: /sys/module/kvm_pvm exists), not if its supported
 * CPUID lacks a feature the x86_64 baseline requires, and not if it hides
 * SSE4.2 that the host CPU has (host_leaf1_ecx: the host's own CPUID leaf 1
 * ECX; kvm_pvm does that, real KVM passes it through). -1 with *why a
 * sentence to print after "/dev/kvm: ".
 */
int x86_kvm_usable(struct kvm_cpuid_entry2 *e, unsigned int n, uint32_t host_leaf1_ecx,
		   bool pvm_module, const char **why);

#endif
