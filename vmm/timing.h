/* SPDX-License-Identifier: GPL-2.0 */
/* Boot timing: how long from icevmm's start to the first KVM_RUN and to the guest's init. */
#ifndef ICEVMM_TIMING_H
#define ICEVMM_TIMING_H

/* Called first thing in main(): the reference point of every figure. */
void timing_start(void);
/* A vCPU is about to enter KVM_RUN; only the first call counts. */
void timing_first_run(void);
/* Wall and process CPU milliseconds since timing_start(); first_run_ms < 0 if none yet. */
void timing_read(double *wall_ms, double *cpu_ms, double *first_run_ms);

#endif
