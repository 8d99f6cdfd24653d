/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A KVM virtual machine: the VM file descriptor, guest RAM, the MMIO and
 * port-I/O buses, the vCPUs, and the one-shot "stop" that ends the run with an exit status.
 */
#ifndef ICEVMM_VM_H
#define ICEVMM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bus.h"
#include "exit_status.h"
#include "guest_mem.h"

struct kvm_run;
struct arch_vm;

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run; /* shared with KVM: exit information */
	pthread_t thread;
	bool started;
	/*
	 * Progress, for the report when --timeout ends a run (vm_report_vcpus):
	 * exits handled, the last exit's reason, and whether the thread is in
	 * KVM_RUN (the guest's side) or handling an exit (icevmm's side).
	 * Written by this vCPU's thread only, read by the main thread.
	 */
	atomic_uint_fast64_t exits;
	atomic_uint last_exit;
	atomic_bool in_guest;
};

struct vm {
	int kvm_fd;
	int fd;
	struct guest_mem mem;
	struct mmio_bus bus; /* MMIO: KVM_EXIT_MMIO */
	struct mmio_bus pio; /* port I/O (x86 KVM_EXIT_IO; empty elsewhere): addresses are ports */
	struct bus_misses bus_misses, pio_misses; /* accesses no device owned */
	unsigned int ncpus;
	struct vcpu *vcpus;
	size_t run_size;
	struct arch_vm *arch;

	/* The first vm_stop() wins; the main thread waits on stop_fd. */
	atomic_bool stopping;
	int exit_status;
	int stop_fd; /* eventfd */
};

/*
 * The status for a KVM_EXIT_INTERNAL_ERROR with this suberror (the policy,
 * README "Exit status"). KVM_INTERNAL_ERROR_EMULATION (an instruction KVM's
 * emulator cannot do, e.g. an exotic one touching MMIO), _SIMUL_EX (an
 * exception while delivering one) and _DELIVERY_EV (an event KVM could not
 * deliver, e.g. an IDT in MMIO) are what the guest did: it crashed,
 * EXIT_GUEST_CRASH. Anything else is KVM failing icevmm: EXIT_VMM_ERROR.
 */
static inline int vm_internal_error_status(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION:
	case KVM_INTERNAL_ERROR_SIMUL_EX:
	case KVM_INTERNAL_ERROR_DELIVERY_EV:
		return EXIT_GUEST_CRASH;
	default:
		return EXIT_VMM_ERROR;
	}
}

/* Opens /dev/kvm, creates the VM and maps mem_bytes of RAM at gpa_base. Prints why on error. */
int vm_create(struct vm *vm, uint64_t gpa_base, uint64_t mem_bytes);
/* Creates the vCPU fds and their kvm_run mappings (arch init happens in between). */
int vm_create_vcpus(struct vm *vm, unsigned int ncpus);
/* Starts one thread per vCPU running the exit loop. */
int vm_start_vcpus(struct vm *vm);
/* Ends the run with `status` (first caller wins); safe from any thread. */
void vm_stop(struct vm *vm, int status);
/* Stops the VM if not yet stopping and kicks every vCPU out of KVM_RUN. */
void vm_kick_vcpus(struct vm *vm);
/*
 * Joins the vCPU threads that end before `deadline` (CLOCK_REALTIME; NULL:
 * wait for all, however long). Returns how many are still running: a vCPU
 * blocked in the kernel, e.g. in I/O on a frozen file system, cannot be
 * kicked out of it.
 */
unsigned int vm_join_vcpus_until(struct vm *vm, const struct timespec *deadline);
/*
 * One line per vCPU: where its thread is (in the guest, or handling an exit in
 * icevmm) and how many exits it has handled. Said when --timeout ends a run, so
 * that a stalled guest can be told from a vCPU stuck in icevmm.
 */
void vm_report_vcpus(struct vm *vm);
/* vm_kick_vcpus, then waits for every vCPU thread. */
void vm_join_vcpus(struct vm *vm);
void vm_destroy(struct vm *vm);

#endif
