// SPDX-License-Identifier: GPL-2.0
/*
 * icevmm: boot a Linux guest on KVM. This file is the boot path, top to
 * bottom; each step lives in the file named in its comment.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../arch/arch.h"
#include "../devices/blk.h"
#include "../devices/doorbell.h"
#include "../devices/ice_hwkey.h"
#include "../devices/serial.h"
#include "../virtio/mmio.h"
#include "bus.h"
#include "cli.h"
#include "console.h"
#include "dump.h"
#include "exit_status.h"
#include "file.h"
#include "ice_cmd.h"
#include "log.h"
#include "run.h"
#include "sandbox.h"
#include "timing.h"
#include "vm.h"

/* The 16550's registers as I/O ports (one byte apart, like its MMIO form). */
#define SERIAL_PIO_SIZE 8

/* How long a finished run waits for stdout to take the guest's output. */
#define CONSOLE_FLUSH_MS 2000

static void debug_exit_ring(void *ctx, uint32_t value)
{
	vm_stop(ctx, EXIT_DEBUG_BASE + (int)(value & EXIT_DEBUG_MASK));
}

static void boot_timer_ring(void *ctx, uint32_t value)
{
	static struct log_ratelimit rl; /* the guest rings at will: its lines are limited */
	static bool reported_setup;
	const struct vm *vm = ctx;
	double wall, cpu, first_run;
	uint64_t exits = 0;

	if (!log_ratelimit_ok(&rl))
		return;
	timing_read(&wall, &cpu, &first_run);
	for (unsigned int i = 0; i < vm->ncpus; i++)
		exits += atomic_load_explicit(&vm->vcpus[i].exits, memory_order_relaxed);
	pr_info("boot-timer: guest rang with %u: %.1f ms wall, %.1f ms CPU since icevmm started; "
		"first KVM_RUN at %.1f ms; %llu exits",
		value, wall, cpu, first_run, (unsigned long long)exits);
	if (!__atomic_exchange_n(&reported_setup, true, __ATOMIC_RELAXED)) {
		char phases[256];

		/* Once: what icevmm did before the guest's first instruction. */
		timing_phases_format(phases, sizeof(phases));
		pr_info("boot-timer: set-up: %s", phases);
	}
	/* Where exits went for nothing: the guest probing for devices icevmm does not have. */
	bus_misses_report(&vm->bus_misses, "boot-timer: MMIO accesses");
	bus_misses_report(&vm->pio_misses, "boot-timer: port I/O accesses");
}

/* The devices every guest has: its console UART and the doorbells. */
static int add_platform_devices(struct vm *vm, const struct vmm_config *cfg, struct serial *uart,
				struct doorbell *doorbells)
{
	const struct irq_line uart_irq = { .set_level = arch_set_irq,
					   .ctx = vm,
					   .irq = arch_layout.uart_irq };
	/* On a port bus the 16550's eight registers take eight ports (x86: 0x3f8..0x3ff). */
	const struct mmio_dev devs[] = {
		{ .name = "uart",
		  .base = arch_layout.uart_base,
		  .size = arch_layout.uart_on_pio ? SERIAL_PIO_SIZE : SERIAL_MMIO_SIZE,
		  .irq = arch_layout.uart_irq,
		  .has_irq = true,
		  .ops = &serial_ops,
		  .opaque = uart },
		{ .name = "debug-exit",
		  .base = arch_layout.debug_exit_base,
		  .size = DOORBELL_MMIO_SIZE,
		  .ops = &doorbell_ops,
		  .opaque = &doorbells[0] },
		{ .name = "boot-timer",
		  .base = arch_layout.boot_timer_base,
		  .size = DOORBELL_MMIO_SIZE,
		  .ops = &doorbell_ops,
		  .opaque = &doorbells[1] },
	};
	size_t i, n = cfg->boot_timer ? 3 : 2;

	serial_init(uart, &uart_irq, console_tx, NULL);
	doorbells[0] = (struct doorbell){ .name = "debug-exit",
					  .compatible = "icevmm,debug-exit",
					  .ring = debug_exit_ring,
					  .ctx = vm };
	doorbells[1] = (struct doorbell){ .name = "boot-timer",
					  .compatible = "icevmm,boot-timer",
					  .ring = boot_timer_ring,
					  .ctx = vm };
	for (i = 0; i < n; i++) {
		/* The arch says which bus the UART is on; the other devices are MMIO everywhere. */
		struct mmio_bus *bus = i == 0 && arch_layout.uart_on_pio ? &vm->pio : &vm->bus;

		if (bus_register(bus, &devs[i])) {
			pr_err("cannot place device %s", devs[i].name);
			return -1;
		}
	}
	return 0;
}

/*
 * Keyslot stores of the ICE disks, built before any VM work (a bad keys file
 * fails fast). An ICE disk is one of two kinds (docs/ICE.md "Two kinds of ICE
 * disk"): host-provisioned (a keys file with [slot N] sections, loaded here,
 * no key queue) or guest-programmed (the default engine of `--disk PATH,ice`,
 * or a keys file without slots: every slot empty, guest_keys set, the guest
 * loads keys through the key queue while the VM runs).
 */
static int load_keys(const struct vmm_config *cfg, struct ice_store **stores)
{
	struct ice_keys *keys[VMM_MAX_DISKS] = { 0 };
	unsigned int i, ice_disks = 0, pool_keys = 0;
	int rc = -1, err = 0;

	for (i = 0; i < cfg->ndisks; i++)
		ice_disks += cfg->disks[i].ice;
	if (!ice_disks)
		return 0;
	/*
	 * The non-dumpable rule: a process with an ICE disk holds keys, or may at
	 * any moment (a guest programs them whenever it likes). So icevmm is
	 * non-dumpable from here, before any keys file is read, any store exists
	 * or any vCPU runs, whenever a disk has ICE.
	 */
	sandbox_no_dump();
	/*
	 * Each keys file read once. libgcrypt's locked pool is sized once, here,
	 * for the worst case of every disk (ice_keys_pool_keys(): a
	 * host-provisioned disk's slots; a guest-programmed disk's every slot,
	 * one key being built and one replaced key still pinned by each request
	 * the device serves at once, BLK_KEY_PINNERS), and never grows. A
	 * guest-programmed disk's device also takes its command buffer from the
	 * pool (libgcrypt's secure allocator; 80 bytes for v2's key queue, 168
	 * for v4's control queue): the fixed 32 KiB on top of the keys
	 * (ICE_SECMEM_BASE, devices/ice.c) holds eight of them many times over.
	 */
	for (i = 0; i < cfg->ndisks; i++) {
		const struct vmm_disk *d = &cfg->disks[i];

		if (!d->ice)
			continue;
		if (d->ice_keys) {
			keys[i] = ice_keys_read(d->ice_keys, cfg->allow_insecure_keys);
			if (!keys[i])
				goto out;
		}
		/* NULL: the default engine */
		pool_keys += ice_keys_pool_keys(keys[i], BLK_KEY_PINNERS);
		if (d->ice_spec == 4) /* hardware-wrapped keys (devices/ice_hwkey.h) */
			pool_keys += ICE_HWKEY_POOL_KEYS;
	}
	if (ice_global_init(ice_secmem_size(pool_keys)))
		goto out;
	for (i = 0; i < cfg->ndisks; i++) {
		if (!cfg->disks[i].ice)
			continue;
		stores[i] = calloc(1, sizeof(*stores[i]));
		if (stores[i] && keys[i])
			err = ice_store_load_keys(stores[i], keys[i]);
		else if (stores[i])
			err = ice_store_init_default(stores[i]);
		if (!stores[i] || err) {
			free(stores[i]);
			stores[i] = NULL;
			goto out;
		}
	}
	rc = 0;
out:
	for (i = 0; i < cfg->ndisks; i++)
		ice_keys_free(keys[i]);
	return rc;
}

static void free_keys(const struct vmm_config *cfg, struct ice_store **stores)
{
	for (unsigned int i = 0; i < cfg->ndisks; i++) {
		if (stores[i])
			ice_store_free(stores[i]); /* wipes every key */
		free(stores[i]);
	}
}

/*
 * virtio-blk disks: one virtio-mmio slot and one interrupt line each, vda
 * first. The transport carries the device (virtio/mmio.h, devices/blk.h).
 */
static int add_disks(struct vm *vm, const struct vmm_config *cfg, struct blk_dev *disks,
		     struct ice_store **stores)
{
	static struct virtio_mmio transports[VMM_MAX_DISKS];
	unsigned int i;

	for (i = 0; i < cfg->ndisks; i++) {
		const struct vmm_disk *d = &cfg->disks[i];
		const struct blk_opts o = {
			.path = d->path,
			.ro = d->ro,
			.serial = d->serial,
			.ice = stores[i],
			.spec = d->ice_spec == 4 ? BLK_ICE_V4 : BLK_ICE_V2,
			.block_size = d->block,
			.key_fault = d->key_fault,
			.many_queues = d->many_queues,
		};
		const struct irq_line irq = { .set_level = arch_set_irq,
					      .ctx = vm,
					      .irq = arch_layout.virtio_irq_base + i };
		struct mmio_dev dev = {
			.name = "virtio-blk",
			.base = arch_layout.virtio_base + i * arch_layout.virtio_stride,
			.size = arch_layout.virtio_stride,
			.irq = irq.irq,
			.has_irq = true,
			.ops = &virtio_mmio_ops,
			.opaque = &transports[i],
		};

		if (blk_open(&disks[i], &o) < 0)
			return -1;
		virtio_mmio_init(&transports[i], &disks[i].vdev, &vm->mem, &irq, &vm->stopping);
		if (bus_register(&vm->bus, &dev)) {
			pr_err("cannot place disk %s on the bus", d->path);
			return -1;
		}
	}
	return 0;
}

static int boot(const struct vmm_config *cfg)
{
	static struct blk_dev disks[VMM_MAX_DISKS];
	struct ice_store *stores[VMM_MAX_DISKS] = { NULL };
	struct guest_file kernel = { .fd = -1 }, initrd = { .fd = -1 };
	const struct boot_desc desc = { .kernel = &kernel,
					.initrd = cfg->initrd ? &initrd : NULL,
					.cmdline = cfg->cmdline,
					.mem_bytes = cfg->mem_bytes,
					.cpus = cfg->cpus };
	struct boot_blobs blobs = { .n = 0 };
	struct doorbell doorbells[2];
	struct serial uart;
	struct vm vm;
	int status = EXIT_VMM_ERROR, err;

	if (arch_host_check() < 0)
		return EXIT_VMM_ERROR;
	/* 1. Check the guest's files and keys first: a typo should not cost a VM setup. */
	if (guest_file_open(&kernel, cfg->kernel, "kernel", cfg->mem_bytes) ||
	    arch_kernel_check(&kernel) ||
	    (cfg->initrd && guest_file_open(&initrd, cfg->initrd, "initrd", cfg->mem_bytes)) ||
	    load_keys(cfg, stores))
		goto out_files;
	if (run_block_signals() < 0)
		goto out_files;
	/* Each step's time is in --boot-timer's report (vmm/timing.h). */
	timing_phase_done("files and keys");

	/* 2. The VM and its RAM (vmm/vm.c), the interrupt controller (arch). */
	if (vm_create(&vm, arch_layout.ram_base, desc.mem_bytes) || arch_vm_init(&vm, &desc))
		goto out_vm;
	timing_phase_done("VM");
	/* 3. vCPUs (vmm/vm.c + arch_vcpu_init), then finish the interrupt controller. */
	if (vm_create_vcpus(&vm, desc.cpus) || arch_vm_finalize(&vm))
		goto out_vm;
	timing_phase_done("vCPUs");
	/* 4. Devices on the MMIO bus (devices/). */
	if (add_platform_devices(&vm, cfg, &uart, doorbells) || add_disks(&vm, cfg, disks, stores))
		goto out_vm;
	timing_phase_done("devices");

	/* 5. Kernel, initrd and machine description into RAM; boot registers (arch). */
	err = arch_load_guest(&vm, &desc, &blobs);
	guest_file_close(&kernel);
	guest_file_close(&initrd);
	if (err < 0)
		goto out_vm;
	timing_phase_done("guest loaded");
	if (cfg->dump_dtb || cfg->dump_acpi) { /* written (vmm/dump.c), nothing to run */
		if ((!cfg->dump_dtb || dump_dtb(cfg->dump_dtb, &blobs) == 0) &&
		    (!cfg->dump_acpi || dump_acpi(cfg->dump_acpi, &blobs) == 0))
			status = 0;
		goto out_vm;
	}

	/*
	 * 6. The seccomp sandbox (vmm/sandbox.c), before any guest instruction
	 * runs; then run: vCPU threads (vmm/vm.c) + this thread's event loop,
	 * which restores the terminal and joins the vCPUs (vmm/run.c). If the
	 * sandbox or a vCPU cannot start, the VM is stopped and the loop only
	 * joins.
	 */
	console_init();
	if (sandbox_enter(&vm, cfg) == 0) {
		timing_phase_done("console and sandbox");
		vm_start_vcpus(&vm);
	} else {
		vm_stop(&vm, EXIT_VMM_ERROR);
	}
	run_main_loop(&vm, &uart, cfg->timeout_s);
	/* The guest's last words (e.g. a test's verdict) reach stdout if anyone reads it. */
	console_flush(CONSOLE_FLUSH_MS);
	status = vm.exit_status;
	/* What each ICE disk did (a kernel engineer's first question: did the guest use it?). */
	for (unsigned int i = 0; i < cfg->ndisks; i++)
		blk_ice_summary(&disks[i], cfg->disks[i].path);
out_vm:
	for (unsigned int i = 0; i < cfg->ndisks; i++)
		blk_close(&disks[i]);
	vm_destroy(&vm);
out_files:
	free_keys(cfg, stores);
	guest_file_close(&kernel);
	guest_file_close(&initrd);
	return status;
}

int main(int argc, char **argv)
{
	struct vmm_config cfg;

	timing_start();
	if (console_stdio_open())
		return EXIT_VMM_ERROR;
	if (argc > 1 && !strcmp(argv[1], "ice"))
		return ice_cmd_main(argc - 1, argv + 1);
	switch (cli_parse(argc, argv, &cfg, stdout, stderr)) {
	case CLI_DONE:
		return 0;
	case CLI_ERROR:
		return EXIT_USAGE;
	case CLI_RUN:
		break;
	}
	return boot(&cfg);
}
