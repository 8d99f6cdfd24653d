/* SPDX-License-Identifier: GPL-2.0 */
/* The main thread's loop while the guest runs: console input, signals, timeout, stop. */
#ifndef ICEVMM_RUN_H
#define ICEVMM_RUN_H

#include "../devices/serial.h"
#include "vm.h"

/* Block the signals the loop handles; call before any thread is created. */
int run_block_signals(void);
/* Returns when the VM has stopped; the exit status is in vm->exit_status. */
void run_main_loop(struct vm *vm, struct serial *uart, unsigned int timeout_s);

#endif
