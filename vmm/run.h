/* SPDX-License-Identifier: GPL-2.0 */
/* The main thread's loop while the guest runs: console input, signals, timeout, stop. */
#ifndef ICEVMM_RUN_H
#define ICEVMM_RUN_H

#include "../devices/serial.h"
#include "vm.h"

/* Block the signals the loop handles; call before any thread is created. */
int run_block_signals(void);
/* How long a stop waits for the vCPUs before icevmm exits without them. */
#define RUN_STOP_GRACE_MS 3000

/*
 * Runs until the VM stops, restores the terminal, then joins the vCPU threads
 * (run.c: run_join). Returns with every vCPU joined and the exit status in
 * vm->exit_status; if a vCPU does not come back within RUN_STOP_GRACE_MS, or
 * a signal arrives during the wait, the process exits from in here.
 */
void run_main_loop(struct vm *vm, struct serial *uart, unsigned int timeout_s);

#endif
