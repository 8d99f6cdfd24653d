/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An 8250/16550A UART, the guest's console (Linux: ttyS0 via the "ns16550a"
 * device-tree node and of_serial). Registers are one byte apart (reg-shift 0).
 */
#ifndef ICEVMM_SERIAL_H
#define ICEVMM_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vmm/bus.h"
#include "../vmm/irq.h"

#define SERIAL_MMIO_SIZE 0x1000
#define SERIAL_RX_FIFO 64
#define SERIAL_CLOCK_HZ 1843200 /* the classic 1.8432 MHz crystal; any value works */

struct serial {
	pthread_mutex_t lock; /* vCPU threads and the console thread both use it */
	/* 16550 registers (PC16550D datasheet, table II) */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thri_pending; /* "transmitter holding register empty" interrupt latched */
	uint8_t rx[SERIAL_RX_FIFO];
	unsigned int rx_head, rx_count;
	int irq_level;
	struct irq_line irq;
	/* Where transmitted bytes go (icevmm: stdout). */
	void (*tx)(void *ctx, uint8_t byte);
	void *tx_ctx;
};

void serial_init(struct serial *s, const struct irq_line *irq, void (*tx)(void *, uint8_t),
		 void *tx_ctx);
void serial_read(void *opaque, uint64_t off, void *data, uint32_t len);
void serial_write(void *opaque, uint64_t off, const void *data, uint32_t len);
/* Host → guest: queue up to n bytes; returns how many fit in the RX FIFO. */
size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t n);
/* How many more bytes serial_rx_push() would take right now. */
size_t serial_rx_space(struct serial *s);

extern const struct mmio_dev_ops serial_ops;

#endif
