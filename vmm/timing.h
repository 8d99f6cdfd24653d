/* SPDX-License-Identifier: GPL-2.0 */
/* Boot timing: how long from icevmm's start to the first KVM_RUN and to the guest's init. */
#ifndef ICEVMM_TIMING_H
#define ICEVMM_TIMING_H

#include <stddef.h>

/* Called first thing in main(): the reference point of every figure. */
void timing_start(void);
/*
 * The set-up step named `phase` has ended (main thread, before the vCPUs
 * start; a string literal). Up to TIMING_MAX_PHASES are kept.
 */
#define TIMING_MAX_PHASES 8
void timing_phase_done(const char *phase);
/* A vCPU is about to enter KVM_RUN; only the first call counts. */
void timing_first_run(void);
/* Wall and process CPU milliseconds since timing_start(); first_run_ms < 0 if none yet. */
void timing_read(double *wall_ms, double *cpu_ms, double *first_run_ms);
/*
 * The set-up phases as "name 1.2 ms, name 30.4 ms, ..." (each its own
 * length: from the end of the one before, or from the start) into buf.
 */
void timing_phases_format(char *buf, size_t len);

#endif
