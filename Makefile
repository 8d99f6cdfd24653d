# icevmm build. `make` builds for this host; `make ARCH=arm64` cross-builds a
# static aarch64 icevmm against a sysroot unpacked from Debian's arm64 packages
# (scripts/deps.sh makes it). Everything lands in build/$(ARCH)/.
#
#   make [ARCH=arm64]   build icevmm and the unit tests
#   make check          install what is needed, then every test suite in turn
#                       ($(CHECK_SUITES)); each also runs alone:
#   make format-check   clang-format --dry-run on every C file
#   make series-lint    static checks of the Linux driver series (tests/series/lint.sh)
#   make unit           unit tests (host, and arm64 under qemu-aarch64-static)
#   make oracle         the crypto oracle (host, and arm64 under qemu-aarch64-static)
#   make fuzz-smoke     30 s of the fuzz target
#   make system         the nested-rig system tests; CASES="blk boot1" runs only those
#   make rig-soak       the rig's hang reproducer (docs/RIG.md; SOAK="--verbose")
#   make run            boot the default guest (natively, or in the nested rig)
#   make guest-kernel ARCH=arm64|x86_64 [GUEST_KERNEL=7.3|6.12]
#                       the guest kernel with the virtio_blk ICE series (cached)
#   make format         clang-format the sources

HOST_ARCH := $(shell uname -m | sed -e 's/aarch64/arm64/')
ARCH ?= $(HOST_ARCH)
O := build/$(ARCH)
ICEVMM_CACHE ?= $(HOME)/.cache/icevmm
export ICEVMM_CACHE
# The guest kernel's series (scripts/guest-kernel.sh): 7.3 from
# trixie-backports (the v4 driver), or Debian's 6.12 (the v2 driver); make
# run boots it (on a v4 or a v2 disk), make guest-kernel builds it. The system
# tests build the ones their cases need, whatever this says.
GUEST_KERNEL ?= 7.3
export GUEST_KERNEL

ifeq ($(ARCH),arm64)
ifneq ($(HOST_ARCH),arm64)
CROSS_COMPILE ?= aarch64-linux-gnu-
SYSROOT ?= $(ICEVMM_CACHE)/sysroot-arm64
TEST_RUNNER ?= qemu-aarch64-static
endif
STATIC := -static
ARCH_SRCS := arch/arm64/kvm.c
else ifeq ($(ARCH),x86_64)
ARCH_SRCS := arch/x86_64/arch.c arch/x86_64/bzimage.c arch/x86_64/boot64.c arch/x86_64/cpuid.c \
	arch/x86_64/platform.c arch/x86_64/acpi.c
else
$(error ARCH=$(ARCH): icevmm builds for arm64 and x86_64)
endif

CC := $(CROSS_COMPILE)gcc
AR := $(CROSS_COMPILE)ar

ifdef SYSROOT
MULTIARCH := aarch64-linux-gnu
PKG_CONFIG := PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/$(MULTIARCH)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig \
	PKG_CONFIG_SYSROOT_DIR=$(SYSROOT) pkg-config --static
SYS_CFLAGS := -isystem $(SYSROOT)/usr/include -isystem $(SYSROOT)/usr/include/$(MULTIARCH)
SYS_LDFLAGS := -L$(SYSROOT)/usr/lib/$(MULTIARCH)
else
# --static: the libraries' own dependencies too, which icevmm's static link needs.
PKG_CONFIG := pkg-config --static
endif

WARNINGS := -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wundef \
	-Wshadow -Wvla -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(SYS_CFLAGS) -MMD -MP
LIBS := $(SYS_LDFLAGS) -lfdt $(shell $(PKG_CONFIG) --libs libgcrypt 2>/dev/null || echo -lgcrypt -lgpg-error) -lpthread
# libseccomp: only icevmm itself links it (vmm/sandbox.c), not the unit tests.
SECCOMP_LIBS := $(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null || echo -lseccomp)
CHECK_LIBS := $(SYS_LDFLAGS) $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt) -lpthread

# Components: small static libraries, one public header each (docs/ARCHITECTURE.md).
# libbus: the bus, and how devices describe themselves (device tree; ACPI's AML).
LIB_BUS := vmm/bus.c vmm/dt.c vmm/acpi_dev.c vmm/aml.c
LIB_CLI := vmm/cli.c
LIB_SERIAL := devices/serial.c
LIB_DOORBELL := devices/doorbell.c
LIB_CONSOLE := vmm/console.c
LIB_VIRTIO := virtio/virtq.c virtio/mmio.c
LIB_BLK := devices/blk.c devices/blk_keyq.c devices/blk_ctrl.c devices/blk_hwkey.c devices/ice_keyq.c devices/ice_v4.c devices/disk.c
LIB_ICE := devices/ice.c devices/ice_config.c devices/ice_keys_lex.c devices/ice_keyread.c devices/ice_hwkey.c
LIB_ARM64BOOT := arch/arm64/image.c arch/arm64/fdt.c
LIB_GUEST_RAM := vmm/guest_ram.c
VMM_SRCS := vmm/main.c vmm/vm.c vmm/run.c vmm/file.c vmm/ice_cmd.c vmm/ice_derive.c vmm/timing.c vmm/sandbox.c vmm/dump.c \
	$(ARCH_SRCS)

# `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
else
Q = @echo "  $(notdir $(CC)) $@";
endif

obj = $(patsubst %.c,$(O)/%.o,$(1))
# Users before providers: the static linker resolves left to right.
LIBS_A := $(O)/libblk.a $(O)/libice.a $(O)/libvirtio.a $(O)/libserial.a $(O)/libdoorbell.a $(O)/libarm64boot.a $(O)/libconsole.a \
	$(O)/libcli.a $(O)/libbus.a $(O)/libguest_ram.a

all: $(O)/icevmm unit-build

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/libbus.a: $(call obj,$(LIB_BUS))
$(O)/libcli.a: $(call obj,$(LIB_CLI))
$(O)/libguest_ram.a: $(call obj,$(LIB_GUEST_RAM))
$(O)/libserial.a: $(call obj,$(LIB_SERIAL))
$(O)/libdoorbell.a: $(call obj,$(LIB_DOORBELL))
$(O)/libarm64boot.a: $(call obj,$(LIB_ARM64BOOT))
$(O)/libconsole.a: $(call obj,$(LIB_CONSOLE))
$(O)/libvirtio.a: $(call obj,$(LIB_VIRTIO))
$(O)/libblk.a: $(call obj,$(LIB_BLK))
$(O)/libice.a: $(call obj,$(LIB_ICE))
$(O)/%.a:
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

# icevmm itself is static on every architecture: one file to copy to a CI
# runner, a device or the nested rig's L1 (a busybox initramfs, no libc).
$(O)/icevmm: $(call obj,$(VMM_SRCS)) $(LIBS_A)
	$(Q)$(CC) -static -o $@ $(call obj,$(VMM_SRCS)) $(LIBS_A) $(LIBS) $(SECCOMP_LIBS)

# Unit tests: one binary per component, linking only that component (and bus).
UNIT_TESTS := image fdt serial cli bus virtio blk ice disk guest_ram console sandbox keyq blk_keyq blk_v4 ice_v4 ice_hwkey aml dump keyread \
	timing lock
ifeq ($(ARCH),x86_64)
UNIT_TESTS += bzimage x86boot acpi
endif
unit_bin = $(O)/tests/unit/test_$(1)
$(O)/tests/unit/test_image: $(O)/libarm64boot.a
$(O)/tests/unit/test_bzimage: $(O)/arch/x86_64/bzimage.o
# x86 boot CPU state, CPUID, the port bus and its platform devices, the exit policy
$(O)/tests/unit/test_x86boot: $(O)/arch/x86_64/boot64.o $(O)/arch/x86_64/cpuid.o \
	$(O)/arch/x86_64/platform.o $(O)/libbus.a
$(O)/tests/unit/test_aml: $(O)/libbus.a
$(O)/tests/unit/test_dump: $(O)/vmm/dump.o
$(O)/tests/unit/test_timing: $(O)/vmm/timing.o
$(O)/tests/unit/test_acpi: $(O)/arch/x86_64/acpi.o $(O)/libserial.a $(O)/libvirtio.a $(O)/libbus.a
$(O)/tests/unit/test_fdt: $(O)/libarm64boot.a $(O)/libserial.a $(O)/libdoorbell.a $(O)/libbus.a
$(O)/tests/unit/test_serial: $(O)/libserial.a $(O)/libbus.a
$(O)/tests/unit/test_cli: $(O)/libcli.a
$(O)/tests/unit/test_bus: $(O)/libbus.a $(O)/libconsole.a
# guest_ram: mmap/munmap/madvise wrapped, so the test picks the addresses
$(O)/tests/unit/test_guest_ram: $(O)/libguest_ram.a
$(O)/tests/unit/test_console: $(O)/libconsole.a
# console: the rate limiter's clock (vmm/log.h) is faked
$(O)/tests/unit/test_console: LDFLAGS_TEST := -Wl,--wrap=time,--wrap=clock_gettime
$(O)/tests/unit/test_guest_ram: LDFLAGS_TEST := -Wl,--wrap=mmap,--wrap=munmap,--wrap=madvise
# the seccomp sandbox, loaded for real in child processes
$(O)/tests/unit/test_sandbox: $(O)/vmm/sandbox.o $(O)/libconsole.a
$(O)/tests/unit/test_sandbox: LIBS += $(SECCOMP_LIBS)
# virtio and blk tests drive the device through a fake guest memory (guest.c)
BLK_LIBS_A := $(O)/libblk.a $(O)/libice.a $(O)/libvirtio.a $(O)/libbus.a
$(O)/tests/unit/test_virtio: $(O)/tests/unit/guest.o $(BLK_LIBS_A)
$(O)/tests/unit/test_blk: $(O)/tests/unit/guest.o $(BLK_LIBS_A)
$(O)/tests/unit/test_ice: $(O)/tests/unit/guest.o $(BLK_LIBS_A)
# keyq: the command library, on hand-made chains and on chains the virtqueue
# pops from the fake guest; libice to check its caps against the store's
$(O)/tests/unit/test_keyq: $(O)/tests/unit/guest.o $(BLK_LIBS_A)
$(O)/tests/unit/test_blk_keyq: $(O)/tests/unit/guest.o $(BLK_LIBS_A)
$(O)/tests/unit/test_blk_v4: $(O)/tests/unit/guest.o $(BLK_LIBS_A)
# the v4 wire format (devices/ice_v4.c) on hand-made chains
$(O)/tests/unit/test_ice_v4: $(BLK_LIBS_A)
# hardware-wrapped keys: the KDF's known answers, the blobs
$(O)/tests/unit/test_ice_hwkey: $(O)/libice.a
# keys files: read(2) fails half-way, munmap(2) checks the pages are wiped
$(O)/tests/unit/test_keyread: $(O)/libice.a
$(O)/tests/unit/test_keyread: LDFLAGS_TEST := -Wl,--wrap=read,--wrap=munmap
# The disk test fakes the image's I/O calls (faults, short counts). On 64-bit
# glibc these are the plain symbols (no preadv64 redirection): check with
# `nm -u $(O)/devices/disk.o` if that ever changes.
DISK_WRAP := $(foreach f,preadv pwritev pwrite fdatasync fallocate,-Wl,--wrap=$(f))
$(O)/tests/unit/test_disk: $(O)/tests/unit/guest.o $(BLK_LIBS_A)
$(O)/tests/unit/test_disk: LDFLAGS_TEST := $(DISK_WRAP)
$(O)/tests/unit/test_%: $(O)/tests/unit/test_%.o $(O)/tests/unit/runner.o
	$(Q)$(CC) $(STATIC) $(LDFLAGS_TEST) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LIBS) $(CHECK_LIBS)

# Benchmarks' helpers
$(O)/tests/bench/reqpath: $(O)/tests/bench/reqpath.o $(O)/tests/unit/guest.o $(BLK_LIBS_A)
	$(Q)$(CC) $(STATIC) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LIBS)

$(O)/tests/oracle/ice_devpath: $(O)/tests/oracle/ice_devpath.o $(O)/tests/unit/guest.o $(BLK_LIBS_A)
	$(Q)$(CC) $(STATIC) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LIBS)

# The x86_64 ACPI tables of a fake machine, written as --dump-acpi writes them.
$(O)/tests/oracle/acpi_tables: $(O)/tests/oracle/acpi_tables.o $(O)/arch/x86_64/acpi.o $(O)/vmm/dump.o \
		$(O)/libserial.a $(O)/libvirtio.a $(O)/libbus.a
	$(Q)$(CC) $(STATIC) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LIBS)

# The independent oracles: the crypto oracle (Python's cryptography) against
# the device path and the offline command (ORACLE_SEED=N reproduces a run);
# on x86_64, iasl (acpica-tools) reading the ACPI tables.
ORACLE_BINS := $(O)/icevmm $(O)/tests/oracle/ice_devpath
ifeq ($(ARCH),x86_64)
ORACLE_BINS += $(O)/tests/oracle/acpi_tables
endif
oracle-run: $(ORACLE_BINS)
	/usr/bin/python3 tests/oracle/ice_oracle.py --build $(O) \
		$(if $(TEST_RUNNER),--runner $(TEST_RUNNER)) $(if $(ORACLE_SEED),--seed $(ORACLE_SEED))
	/usr/bin/python3 tests/oracle/test_fscrypt_oracle.py --build $(O) $(if $(TEST_RUNNER),--runner $(TEST_RUNNER)) $(if $(ORACLE_SEED),--seed $(ORACLE_SEED))
	$(if $(filter x86_64,$(ARCH)),tests/oracle/acpi_iasl.sh $(O))

$(O)/tests/bench/devbench: $(O)/tests/bench/devbench.o $(O)/tests/unit/guest.o $(BLK_LIBS_A)
	$(Q)$(CC) $(STATIC) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LIBS)
$(O)/tests/bench/hwkeybench: $(O)/tests/bench/hwkeybench.o $(O)/tests/unit/guest.o $(BLK_LIBS_A)
	$(Q)$(CC) $(STATIC) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LIBS)

# `make bench`: all benchmarks, one table, build/bench.json (docs/PERFORMANCE.md).
bench: deps
	$(MAKE) $(O)/tests/bench/devbench $(O)/tests/bench/hwkeybench $(O)/tests/bench/reqpath
	$(MAKE) ARCH=arm64 build/arm64/icevmm
	$(MAKE) ARCH=$(HOST_ARCH) build/$(HOST_ARCH)/icevmm
	tests/bench/run-bench.sh

reqpath-count: $(O)/tests/bench/reqpath
	tests/bench/reqpath-callgrind.sh $(O)

unit-build: $(foreach t,$(UNIT_TESTS),$(call unit_bin,$(t))) $(O)/tests/oracle/ice_devpath \
	$(if $(filter x86_64,$(ARCH)),$(O)/tests/oracle/acpi_tables)

# Runs the unit tests of this ARCH (arm64 ones under qemu-aarch64-static on x86).
unit-run: unit-build
	@set -e; for t in $(UNIT_TESTS); do \
		echo "== unit ($(ARCH)): $$t"; \
		CK_VERBOSITY=normal $(TEST_RUNNER) $(O)/tests/unit/test_$$t; \
	done

# ThreadSanitizer: the device unit tests (virtio-mmio, virtio-blk, ICE) built
# with -fsanitize=thread into build/tsan/ and run; the concurrent-driver tests
# run a notify and a reset on two threads, and ICE's race programs and evicts
# a slot while requests use it. Any report fails the run. CK_FORK=no:
# in check's forked children TSan missed a race it finds in one process. (The
# -Wtsan note about fences is known: virtq's fences pair with the guest.)
TSAN_TESTS := virtio blk ice blk_keyq blk_v4 lock
TSAN_FLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -Wno-tsan -g -O1 -fsanitize=thread
TSAN_SRCS := tests/unit/guest.c tests/unit/runner.c $(LIB_BLK) $(LIB_ICE) $(LIB_VIRTIO) $(LIB_BUS)

build/tsan/test_%: tests/unit/test_%.c $(TSAN_SRCS) $(wildcard devices/*.h virtio/*.h vmm/*.h tests/unit/*.h)
	@mkdir -p build/tsan
	@echo "  gcc -fsanitize=thread $@"
	@gcc $(TSAN_FLAGS) -o $@ $< $(TSAN_SRCS) -lfdt -lgcrypt $(CHECK_LIBS)

tsan: $(foreach t,$(TSAN_TESTS),build/tsan/test_$(t))
	@set -e; for t in $(TSAN_TESTS); do \
		echo "== unit (tsan): $$t"; \
		CK_FORK=no TSAN_OPTIONS="halt_on_error=1 exitcode=66" CK_VERBOSITY=normal build/tsan/test_$$t; \
	done

# Fuzzing (libFuzzer + ASan + UBSan, Debian's clang-14): the virtio-mmio
# transport, split virtqueue and virtio-blk, fed arbitrary guest memory.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 30
FUZZ_FLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SRCS := tests/fuzz/fuzz_blk.c $(LIB_BLK) $(LIB_ICE) $(LIB_VIRTIO) $(LIB_BUS)
FUZZ_RUN = build/fuzz/fuzz_blk -max_total_time=$(1) -timeout=10 -max_len=8192 \
	-print_final_stats=1 build/fuzz/corpus tests/fuzz/corpus

build/fuzz/fuzz_blk: $(FUZZ_SRCS) $(wildcard devices/*.h virtio/*.h vmm/*.h)
	@mkdir -p build/fuzz/corpus
	@echo "  clang $@"
	@clang $(FUZZ_FLAGS) -o $@ $(FUZZ_SRCS) -lfdt -lgcrypt

fuzz: deps build/fuzz/fuzz_blk
	$(call FUZZ_RUN,$(FUZZ_SECONDS))

fuzz-smoke: build/fuzz/fuzz_blk
	$(call FUZZ_RUN,$(FUZZ_SMOKE_SECONDS))

deps:
	@scripts/deps.sh

unit: deps
	$(MAKE) unit-run
	$(MAKE) ARCH=arm64 unit-run

oracle: deps
	$(MAKE) oracle-run
	$(MAKE) ARCH=arm64 oracle-run

# What the system tests boot: the arm64 icevmm, the ICE self-test firmware,
# and a host icevmm for `icevmm ice decrypt` on the results.
system-build:
	$(MAKE) ARCH=arm64 build/arm64/icevmm build/firmware/ice-selftest.Image
	$(MAKE) ARCH=$(HOST_ARCH) build/$(HOST_ARCH)/icevmm

# CASES="blk boot1": only those cases (tests/system/run-all.sh lists them);
# CASES=all: every case, with the twins the default leaves out for time.
system: deps system-build
	tests/system/run-all.sh $(CASES)

# The rig's hang reproducer (docs/RIG.md): boots the rig's stock guest again
# and again and counts hangs. SOAK="--l1s 3 --boots 30 --verbose" sets its
# options; RIG_ARCH=arm64 soaks the arm64 rig. Not part of check.
rig-soak: deps system-build
	tests/system/rig-soak.sh $(SOAK)

# Every suite in this order, each through its own target; a failed suite does
# not stop the ones after it, but fails check. The summary gives each suite's
# time and verdict.
CHECK_SUITES := format-check series-lint unit tsan oracle fuzz-smoke system
check: deps
	@failed=; summary=; \
	for s in $(CHECK_SUITES); do \
		echo "==== make $$s"; t0=$$(date +%s); \
		if $(MAKE) --no-print-directory $$s; then v=PASS; else v=FAIL; failed="$$failed $$s"; fi; \
		summary="$$summary$$(printf '%-4s  %-14s %4d s' $$v $$s $$(($$(date +%s) - t0)))\n"; \
	done; \
	echo "==== make check:"; printf "$$summary"; \
	if [ -n "$$failed" ]; then echo "make check: failed:$$failed"; exit 1; fi; \
	echo "make check: all suites passed"

# ARCH picks the guest: on an x86_64 host the x86_64 demo, `make run ARCH=arm64`
# the arm64 one (with the bare-metal ICE self-test, an arm64 program).
run: deps
	$(MAKE) system-build
	scripts/run-demo.sh $(ARCH)

# The guest kernel with the virtio_blk ICE series (firmware/linux/README.md),
# cached in $(ICEVMM_CACHE)/linux; prints the Image (arm64) or bzImage (x86_64)
# path. GUEST_KERNEL=6.12 builds Debian's 6.12 instead of 7.3.
guest-kernel: deps
	@scripts/guest-kernel.sh $(ARCH)

# Static checks of the Linux driver series for what no guest can observe
# (key buffers freed with kfree_sensitive, no fake ctx, fail closed, queue
# counts): tests/series/lint.sh.
series-lint:
	tests/series/lint.sh

FORMAT_FILES = $(shell git ls-files '*.c' '*.h')
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build

.SECONDARY:
.PHONY: series-lint rig-soak bench system-build oracle oracle-run reqpath-count tsan fuzz fuzz-smoke all unit-build unit-run unit deps system check run format format-check clean
.PHONY: guest-kernel
-include $(shell find $(O) -name '*.d' 2>/dev/null)

# ---- BEGIN firmware/ice-selftest (bare-metal arm64 ICE self-test guest) ----
# `make build/firmware/ice-selftest.Image`: a Linux-style arm64 Image that
# icevmm boots with --kernel; it drives a VIRTIO_BLK_F_ICE disk and exits
# through debug-exit. See firmware/ice-selftest/README.md and
# tests/system/run-all.sh (case ice_selftest). Cross-built whatever ARCH says.
ICE_FW_DIR := firmware/ice-selftest
ICE_FW_OUT := build/firmware/ice-selftest
ICE_FW_CC := aarch64-linux-gnu-gcc
ICE_FW_OBJCOPY := aarch64-linux-gnu-objcopy
ICE_FW_CFLAGS := -std=gnu11 -ffreestanding -nostdlib -nostartfiles -mgeneral-regs-only -O2 \
	-fno-pic -static -mstrict-align -mno-outline-atomics -fno-stack-protector \
	-fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables -fno-unwind-tables \
	$(WARNINGS) -MMD -MP
ICE_FW_LDFLAGS := -nostdlib -nostartfiles -static -no-pie -Wl,--build-id=none \
	-Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments -T $(ICE_FW_DIR)/ice-selftest.lds
ICE_FW_OBJS := $(addprefix $(ICE_FW_OUT)/,start.o vectors.o mmu.o fdt.o uart.o report.o lib.o \
	virtio.o blkio.o guest.o guest_v4.o selftest.o)

$(ICE_FW_OUT)/%.o: $(ICE_FW_DIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  $(notdir $(ICE_FW_CC)) $@"
	@$(ICE_FW_CC) $(ICE_FW_CFLAGS) -c -o $@ $<

$(ICE_FW_OUT)/%.o: $(ICE_FW_DIR)/%.S
	@mkdir -p $(dir $@)
	@echo "  $(notdir $(ICE_FW_CC)) $@"
	@$(ICE_FW_CC) $(ICE_FW_CFLAGS) -D__ASSEMBLY__ -c -o $@ $<

$(ICE_FW_OUT)/ice-selftest.elf: $(ICE_FW_OBJS) $(ICE_FW_DIR)/ice-selftest.lds
	@echo "  LD $@"
	@$(ICE_FW_CC) $(ICE_FW_LDFLAGS) -o $@ $(ICE_FW_OBJS)

build/firmware/ice-selftest.Image: $(ICE_FW_OUT)/ice-selftest.elf
	@echo "  OBJCOPY $@"
	@$(ICE_FW_OBJCOPY) -O binary $< $@

ice-selftest: build/firmware/ice-selftest.Image
.PHONY: ice-selftest
-include $(wildcard $(ICE_FW_OUT)/*.d)
# ---- END firmware/ice-selftest ----
