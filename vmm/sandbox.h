/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seccomp sandbox: once the VM is set up, every thread of icevmm may make
 * only the system calls the run loop, the vCPU threads and the devices need.
 * A forbidden call ends icevmm with status 1 and one line naming the call.
 */
#ifndef ICEVMM_SANDBOX_H
#define ICEVMM_SANDBOX_H

#include "cli.h"
#include "vm.h"

/*
 * Install the allow-list on the calling thread and every thread that exists
 * (threads created later inherit it). Call after set-up, before the vCPU
 * threads start, so no guest instruction runs unfiltered. With cfg->no_seccomp
 * it does nothing. cfg->seccomp_selftest makes one forbidden call (socket)
 * once the filter is on, which must end the process. vm (may be NULL) names
 * the vCPU threads in the message. Returns 0, or -1 with a message printed.
 */
int sandbox_enter(const struct vm *vm, const struct vmm_config *cfg);

/*
 * This process holds key material from now on, or may at any time (a guest
 * programs keys whenever it likes): no core dump (it would carry the AES key
 * schedules), no ptrace by the user's other processes (PR_SET_DUMPABLE 0).
 * Call it before the first key exists, before any keys file is read:
 * vmm/main.c for a VM with an ICE disk, the offline `icevmm ice` commands.
 * Calling it again does nothing new.
 */
void sandbox_no_dump(void);

#endif
