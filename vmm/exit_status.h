/* SPDX-License-Identifier: GPL-2.0 */
/*
 * icevmm's process exit statuses. CI scripts test these numbers, so they are
 * part of the interface: README.md documents every one of them.
 */
#ifndef ICEVMM_EXIT_STATUS_H
#define ICEVMM_EXIT_STATUS_H

enum icevmm_exit {
	EXIT_GUEST_POWEROFF = 0, /* PSCI SYSTEM_OFF, ACPI S5, or the user quit with Ctrl-A x */
	EXIT_VMM_ERROR = 1,	 /* icevmm itself failed: bad input file, KVM error, ... */
	EXIT_USAGE = 2,		 /* bad command line */
	EXIT_GUEST_RESET = 3, /* PSCI SYSTEM_RESET, i8042 reset, triple fault (reboot, panic=-1) */
	EXIT_TIMEOUT = 4,     /* --timeout expired before the guest stopped */
	EXIT_GUEST_CRASH =
		5, /* a guest crash (KVM_SYSTEM_EVENT_CRASH, or what KVM cannot emulate) */
	/* A guest write of v to the debug-exit device: status 64 + (v & 63). */
	EXIT_DEBUG_BASE = 64,
	EXIT_DEBUG_MASK = 63,
	/* Killed by SIGINT/SIGTERM/SIGHUP: 128 + signal number, as shells report it. */
	EXIT_SIGNAL_BASE = 128,
};

#endif
