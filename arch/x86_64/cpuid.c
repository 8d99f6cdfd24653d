// SPDX-License-Identifier: GPL-2.0
/* The vCPUs' CPUID and the /dev/kvm check (cpuid.h). */
#include <stddef.h>

#include "cpuid.h"

struct kvm_cpuid_entry2 *x86_cpuid_find(struct kvm_cpuid_entry2 *e, unsigned int n,
					uint32_t function, uint32_t index)
{
	for (unsigned int i = 0; i < n; i++) {
		/* api.rst: index matters only with KVM_CPUID_FLAG_SIGNIFCANT_INDEX */
		if (e[i].function == function &&
		    (!(e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e[i].index == index))
			return &e[i];
	}
	return NULL;
}

void x86_cpuid_fixup(struct kvm_cpuid_entry2 *e, unsigned int n, unsigned int cpu,
		     unsigned int ncpus, bool tsc_deadline)
{
	uint32_t count = ncpus > 255 ? 255 : ncpus;

	for (unsigned int i = 0; i < n; i++) {
		switch (e[i].function) {
		case 1:
			/*
			 * SDM Vol. 2A, CPUID leaf 1: EBX[31:24] initial APIC ID,
			 * EBX[23:16] addressable logical processor IDs (valid with
			 * EDX.HTT). ECX[31] is what every hypervisor sets and Linux
			 * tests before it looks for KVM's leaves (kvmclock).
			 */
			e[i].ebx = (e[i].ebx & 0xffff) | cpu << CPUID1_EBX_APIC_ID_SHIFT |
				   count << CPUID1_EBX_LOGICAL_SHIFT;
			if (ncpus > 1)
				e[i].edx |= CPUID1_EDX_HTT;
			else
				e[i].edx &= ~CPUID1_EDX_HTT;
			e[i].ecx |= CPUID1_ECX_HYPERVISOR;
			if (tsc_deadline)
				e[i].ecx |= CPUID1_ECX_TSC_DEADLINE;
			break;
		case CPUID_EXT_TOPOLOGY:
		case CPUID_V2_EXT_TOPOLOGY:
			e[i].edx = cpu; /* the x2APIC ID, in every subleaf */
			break;
		case CPUID_AMD_TOPOLOGY:
			e[i].eax = cpu;
			break;
		}
	}
}

/* The x86-64 baseline a stock distribution kernel assumes (psABI "x86-64" level). */
#define NEED(fn, bit, name)                                                                        \
	{                                                                                          \
		fn, bit,                                                                           \
			"its KVM_GET_SUPPORTED_CPUID lacks " name ", which a stock x86_64 kernel " \
			"needs"                                                                    \
	}
static const struct {
	uint32_t function;
	uint32_t bit; /* in EDX */
	const char *why;
} required[] = {
	NEED(1, 0, "FPU"),
	NEED(1, 4, "TSC"),
	NEED(1, 5, "MSR"),
	NEED(1, 6, "PAE"),
	NEED(1, 8, "CX8"),
	NEED(1, 9, "APIC"),
	NEED(1, 13, "PGE"),
	NEED(1, 15, "CMOV"),
	NEED(1, 24, "FXSR"),
	NEED(1, 25, "SSE"),
	NEED(1, 26, "SSE2"),
	NEED(CPUID_EXT_FEATURES, 11, "SYSCALL"),
	NEED(CPUID_EXT_FEATURES, 29, "long mode"),
};

int x86_kvm_usable(struct kvm_cpuid_entry2 *e, unsigned int n, uint32_t host_leaf1_ecx,
		   bool pvm_module, const char **why)
{
	struct kvm_cpuid_entry2 *l1;

	if (pvm_module) {
		*why = "it is kvm_pvm's (/sys/module/kvm_pvm), which runs only PVM guest kernels: "
		       "a stock x86_64 guest would hang";
		return -1;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		struct kvm_cpuid_entry2 *l = x86_cpuid_find(e, n, required[i].function, 0);

		if (!l || !(l->edx & 1u << required[i].bit)) {
			*why = required[i].why;
			return -1;
		}
	}
	l1 = x86_cpuid_find(e, n, 1, 0);
	if ((host_leaf1_ecx & CPUID1_ECX_SSE4_2) && !(l1->ecx & CPUID1_ECX_SSE4_2)) {
		*why = "its KVM_GET_SUPPORTED_CPUID hides SSE4.2, which this CPU has: not a KVM "
		       "that runs stock guests (kvm_pvm behaves so)";
		return -1;
	}
	return 0;
}
