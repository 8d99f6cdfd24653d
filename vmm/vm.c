// SPDX-License-Identifier: GPL-2.0
/*
 * The KVM VM and its vCPU threads (Documentation/virt/kvm/api.rst).
 *
 * Each vCPU runs in its own thread: KVM_RUN executes guest code until the
 * guest does something KVM leaves to user space (here: an MMIO access outside
 * RAM, or a PSCI SYSTEM_OFF/RESET), then returns with the details in the
 * shared kvm_run page. The thread handles the exit and loops.
 *
 * Stopping: vm_stop() records the status once and wakes the main thread,
 * which then kicks each vCPU with SIGUSR1. kvm_run.immediate_exit closes the
 * race where the signal lands just before the thread re-enters KVM_RUN.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../arch/arch.h"
#include "cli.h"
#include "exit_status.h"
#include "guest_ram.h"
#include "log.h"
#include "timing.h"
#include "vm.h"

#define KVM_VCPU_KICK_SIGNAL SIGUSR1
#define VCPU_STACK_SIZE (1024 * 1024)
/* vm_report_vcpus: how long it watches the vCPUs' exit counts. */
#define VM_REPORT_SAMPLE_MS 200

int vm_create(struct vm *vm, uint64_t gpa_base, uint64_t mem_bytes)
{
	struct kvm_userspace_memory_region region;
	int ver;
	void *ram;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->fd = -1;
	vm->bus.misses = &vm->bus_misses;
	vm->pio.misses = &vm->pio_misses;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (vm->stop_fd < 0) {
		pr_err("eventfd: %s", strerror(errno));
		return -1;
	}
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		pr_err("cannot open /dev/kvm: %s (is KVM enabled, and may this user use it?)",
		       strerror(errno));
		return -1;
	}
	ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		pr_err("/dev/kvm speaks API version %d, icevmm needs %d", ver, KVM_API_VERSION);
		return -1;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) {
		pr_err("this kernel's KVM lacks KVM_CAP_IMMEDIATE_EXIT or KVM_CAP_USER_MEMORY");
		return -1;
	}
	/* Machine type 0: the default IPA size (40 bits on arm64) is plenty. */
	vm->fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	/* 2 MiB aligned, THP-advised, NORESERVE: vmm/guest_ram.c. */
	ram = guest_ram_map(mem_bytes);
	if (!ram) {
		pr_err("cannot map %llu MiB of guest RAM: %s",
		       (unsigned long long)(mem_bytes >> 20), strerror(errno));
		return -1;
	}
	gmem_init(&vm->mem, ram, gpa_base, mem_bytes);
	/*
	 * RAM that would run into the arch's MMIO hole continues above it: one
	 * host mapping, two memory slots (the first low_size bytes, then the
	 * rest at the hole's end).
	 */
	if (arch_layout.ram_hole_end > arch_layout.ram_hole_start &&
	    gpa_base < arch_layout.ram_hole_start &&
	    mem_bytes > arch_layout.ram_hole_start - gpa_base) {
		vm->mem.low_size = arch_layout.ram_hole_start - gpa_base;
		vm->mem.hole_size = arch_layout.ram_hole_end - arch_layout.ram_hole_start;
	}
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = gpa_base,
		.memory_size = vm->mem.low_size,
		.userspace_addr = (uintptr_t)ram,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		pr_err("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -1;
	}
	if (vm->mem.low_size == mem_bytes)
		return 0;
	region = (struct kvm_userspace_memory_region){
		.slot = 1,
		.guest_phys_addr = arch_layout.ram_hole_end,
		.memory_size = mem_bytes - vm->mem.low_size,
		.userspace_addr = (uintptr_t)ram + vm->mem.low_size,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		pr_err("KVM_SET_USER_MEMORY_REGION (RAM above the hole): %s", strerror(errno));
		return -1;
	}
	return 0;
}

int vm_create_vcpus(struct vm *vm, unsigned int ncpus)
{
	int size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	unsigned int i;

	if (size <= 0) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -1;
	}
	vm->run_size = (size_t)size;
	vm->vcpus = calloc(ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		pr_err("out of memory");
		return -1;
	}
	vm->ncpus = ncpus;
	for (i = 0; i < ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (i = 0; i < ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			pr_err("KVM_CREATE_VCPU %u: %s", i, strerror(errno));
			return -1;
		}
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			pr_err("mmap kvm_run of vCPU %u: %s", i, strerror(errno));
			return -1;
		}
		if (arch_vcpu_init(v) < 0)
			return -1;
	}
	return 0;
}

void vm_stop(struct vm *vm, int status)
{
	uint64_t one = 1;
	bool expected = false;

	if (!atomic_compare_exchange_strong(&vm->stopping, &expected, true))
		return;
	vm->exit_status = status;
	if (write(vm->stop_fd, &one, sizeof(one)) < 0)
		abort(); /* an eventfd write cannot fail here; never hang the VMM */
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	/* KVM has already decoded the access: address, width, direction, data. */
	bus_access(&v->vm->bus, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
		   run->mmio.is_write);
}

static void vcpu_handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_stop(v->vm, EXIT_GUEST_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_stop(v->vm, EXIT_GUEST_RESET);
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		pr_info("guest reported a crash");
		vm_stop(v->vm, EXIT_GUEST_CRASH);
		break;
	default:
		/* e.g. WAKEUP/SUSPEND: nothing to do, re-enter the guest */
		break;
	}
}

/*
 * api.rst, KVM_EXIT_INTERNAL_ERROR: suberror, then ndata words of detail
 * (for EMULATION with KVM_CAP_EXIT_ON_EMULATION_FAILURE: the instruction
 * bytes). One line with all of it, then stop with the policy's status.
 */
static void vcpu_handle_internal_error(struct vcpu *v)
{
	const struct kvm_run *run = v->run;
	uint32_t i, n = run->internal.ndata;
	char words[16 * 19 + 1] = "";
	int status = vm_internal_error_status(run->internal.suberror);
	size_t len = 0;

	if (n > sizeof(run->internal.data) / sizeof(run->internal.data[0]))
		n = sizeof(run->internal.data) / sizeof(run->internal.data[0]);
	for (i = 0; i < n && len < sizeof(words); i++)
		len += (size_t)snprintf(words + len, sizeof(words) - len, " 0x%llx",
					(unsigned long long)run->internal.data[i]);
	if (status == EXIT_GUEST_CRASH)
		pr_guest("vCPU %u: the guest did something KVM cannot emulate (KVM internal "
			 "error, suberror %u, data:%s): stopping it as crashed",
			 v->id, run->internal.suberror, n ? words : " none");
	else
		pr_err("vCPU %u: KVM internal error, suberror %u, data:%s", v->id,
		       run->internal.suberror, n ? words : " none");
	vm_stop(v->vm, status);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;

	timing_first_run();
	while (!atomic_load(&vm->stopping)) {
		int ret;

		atomic_store_explicit(&v->in_guest, true, memory_order_relaxed);
		ret = ioctl(v->fd, KVM_RUN, 0);
		atomic_store_explicit(&v->in_guest, false, memory_order_relaxed);
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			pr_err("vCPU %u: KVM_RUN: %s", v->id, strerror(errno));
			vm_stop(vm, EXIT_VMM_ERROR);
			break;
		}
		/* Only this thread writes it: no locked add needed on the exit path. */
		atomic_store_explicit(&v->exits,
				      atomic_load_explicit(&v->exits, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		atomic_store_explicit(&v->last_exit, v->run->exit_reason, memory_order_relaxed);
		switch (v->run->exit_reason) {
		case KVM_EXIT_MMIO:
			vcpu_handle_mmio(v);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			vcpu_handle_system_event(v);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_FAIL_ENTRY:
			pr_err("vCPU %u: KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx", v->id,
			       (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
			vm_stop(vm, EXIT_VMM_ERROR);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			vcpu_handle_internal_error(v);
			break;
		default:
			if (arch_vcpu_exit(v) == 0)
				break;
			pr_err("vCPU %u: unexpected KVM exit reason %u", v->id,
			       v->run->exit_reason);
			vm_stop(vm, EXIT_VMM_ERROR);
			break;
		}
	}
	return NULL;
}

void vm_report_vcpus(struct vm *vm)
{
	uint64_t before[VMM_MAX_CPUS] = { 0 };
	unsigned int i, n = vm->ncpus < VMM_MAX_CPUS ? vm->ncpus : VMM_MAX_CPUS;

	/* Two samples, VM_REPORT_SAMPLE_MS apart: is the guest still exiting? */
	for (i = 0; i < n; i++)
		before[i] = atomic_load_explicit(&vm->vcpus[i].exits, memory_order_relaxed);
	poll(NULL, 0, VM_REPORT_SAMPLE_MS);
	for (i = 0; i < n; i++) {
		struct vcpu *v = &vm->vcpus[i];
		uint64_t exits = atomic_load_explicit(&v->exits, memory_order_relaxed);
		bool in_guest = atomic_load_explicit(&v->in_guest, memory_order_relaxed);

		if (!v->started)
			continue;
		pr_info("vCPU %u: %s; %llu exits, %llu in the last %d ms; the last: reason %u", i,
			in_guest ? "in the guest (KVM_RUN)" : "in icevmm, handling an exit",
			(unsigned long long)exits, (unsigned long long)(exits - before[i]),
			VM_REPORT_SAMPLE_MS,
			atomic_load_explicit(&v->last_exit, memory_order_relaxed));
	}
}

static void vcpu_kick_handler(int sig)
{
	(void)sig; /* only there to make KVM_RUN return EINTR */
}

int vm_start_vcpus(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };
	pthread_attr_t attr;
	unsigned int i;
	int err;

	/* No SA_RESTART: a kicked KVM_RUN must return to the loop. */
	sigemptyset(&sa.sa_mask);
	sigaction(KVM_VCPU_KICK_SIGNAL, &sa, NULL);
	/*
	 * 1 MiB of stack, not glibc's 8 MiB: the exit path needs tens of KiB.
	 * And a stack under 2 MiB can never be backed by a transparent huge
	 * page, which an 8 MiB one is whenever it lands right below the 2 MiB-
	 * aligned guest RAM (seen in the rig: +2 MiB RSS per such vCPU).
	 */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, VCPU_STACK_SIZE);
	for (i = 0; i < vm->ncpus; i++) {
		err = pthread_create(&vm->vcpus[i].thread, &attr, vcpu_thread, &vm->vcpus[i]);
		if (err) {
			pr_err("cannot start vCPU thread %u: %s", i, strerror(err));
			vm_stop(vm, EXIT_VMM_ERROR);
			pthread_attr_destroy(&attr);
			return -1;
		}
		vm->vcpus[i].started = true;
	}
	pthread_attr_destroy(&attr);
	return 0;
}

void vm_kick_vcpus(struct vm *vm)
{
	unsigned int i;

	vm_stop(vm, EXIT_VMM_ERROR); /* no-op if already stopping */
	/*
	 * Kick every vCPU before joining any: a vCPU still busy with a device
	 * request ends it only once the others stop feeding that device.
	 */
	for (i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].started) {
			vm->vcpus[i].run->immediate_exit = 1;
			pthread_kill(vm->vcpus[i].thread, KVM_VCPU_KICK_SIGNAL);
		}
	}
}

unsigned int vm_join_vcpus_until(struct vm *vm, const struct timespec *deadline)
{
	unsigned int i, running = 0;

	for (i = 0; i < vm->ncpus; i++) {
		if (!vm->vcpus[i].started)
			continue;
		/* CLOCK_REALTIME deadline (pthread_timedjoin_np(3)); NULL: wait. */
		if (deadline ? pthread_timedjoin_np(vm->vcpus[i].thread, NULL, deadline)
			     : pthread_join(vm->vcpus[i].thread, NULL)) {
			running++;
			continue;
		}
		vm->vcpus[i].started = false;
	}
	return running;
}

void vm_join_vcpus(struct vm *vm)
{
	vm_kick_vcpus(vm);
	vm_join_vcpus_until(vm, NULL);
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	for (i = 0; vm->vcpus && i < vm->ncpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, vm->run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
	}
	free(vm->vcpus);
	arch_vm_destroy(vm);
	if (vm->mem.host)
		munmap(vm->mem.host, vm->mem.size);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
}
