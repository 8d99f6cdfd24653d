// SPDX-License-Identifier: GPL-2.0
/*
 * 8250/16550A UART. Register semantics follow the National PC16550D
 * datasheet; Linux's drivers/tty/serial/8250 is the driver it must satisfy.
 *
 * Transmission is instantaneous: a byte written to THR goes straight to the
 * host, so THR and the transmitter are always empty (LSR.THRE|TEMT set). The
 * THRE interrupt still has to behave like the real thing, because Linux's
 * tty layer writes only when that interrupt fires: it is latched when THR
 * empties (after every write, and when IER.ETBEI is switched on) and cleared
 * by reading IIR while it is the reported source, or by writing THR.
 */
#include <libfdt.h>
#include <string.h>

#include "../vmm/aml.h"
#include "serial.h"

/* Register offsets (DLAB = LCR bit 7 selects the divisor latch at 0/1). */
#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_MASK 0x0f

#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

void serial_init(struct serial *s, const struct irq_line *irq, void (*tx)(void *, uint8_t),
		 void *tx_ctx)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->irq = *irq;
	s->tx = tx;
	s->tx_ctx = tx_ctx;
	s->mcr = MCR_OUT2;
	s->lcr = 0x03; /* 8N1 */
}

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0;

	if ((s->ier & IER_ERBFI) && s->rx_count)
		return fifo | IIR_RDI;
	if ((s->ier & IER_ETBEI) && s->thri_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NO_INT;
}

/* Called with the lock held after every state change. */
static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->irq, level);
	}
}

static void serial_rx_put(struct serial *s, uint8_t byte)
{
	if (s->rx_count == SERIAL_RX_FIFO)
		return; /* overrun: the byte is lost, as on hardware */
	s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO] = byte;
	s->rx_count++;
}

static uint8_t serial_reg_read(struct serial *s, unsigned int reg)
{
	uint8_t v = 0, iir;

	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO;
			s->rx_count--;
		}
		return v;
	case UART_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case UART_IIR_FCR:
		iir = serial_iir(s);
		if ((iir & 0x0f) == IIR_THRI)
			s->thri_pending = false;
		return iir;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
	case UART_MSR:
		if (s->mcr & MCR_LOOP) {
			/* Loopback: the modem inputs read back the modem outputs. */
			return ((s->mcr & MCR_RTS) ? MSR_CTS : 0) |
			       ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
			       ((s->mcr & MCR_OUT1) ? MSR_RI : 0) |
			       ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
		}
		/* A cable that is always connected and always ready. */
		return MSR_DCD | MSR_DSR | MSR_CTS;
	case UART_SCR:
		return s->scr;
	}
	return 0;
}

static void serial_reg_write(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			break;
		}
		if (s->mcr & MCR_LOOP)
			serial_rx_put(s, v);
		else if (s->tx)
			s->tx(s->tx_ctx, v);
		s->thri_pending = true;
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* THR is always empty: enabling ETBEI raises the interrupt at once. */
		if ((v & IER_ETBEI) && !(s->ier & IER_ETBEI))
			s->thri_pending = true;
		s->ier = v & IER_MASK;
		break;
	case UART_IIR_FCR:
		s->fcr = v & FCR_ENABLE;
		if (v & FCR_CLEAR_RX)
			s->rx_head = s->rx_count = 0;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

void serial_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct serial *s = opaque;

	memset(data, 0, len);
	if (off > UART_SCR)
		return;
	pthread_mutex_lock(&s->lock);
	*(uint8_t *)data = serial_reg_read(s, (unsigned int)off);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct serial *s = opaque;

	(void)len; /* reg-io-width is 1: the low byte is the register value */
	if (off > UART_SCR)
		return;
	pthread_mutex_lock(&s->lock);
	serial_reg_write(s, (unsigned int)off, *(const uint8_t *)data);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

size_t serial_rx_space(struct serial *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = SERIAL_RX_FIFO - s->rx_count;
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t n)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n && s->rx_count < SERIAL_RX_FIFO; i++)
		serial_rx_put(s, buf[i]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return i;
}

/* Linux binds of_serial to this node; /chosen's stdout-path points at it. */
static int serial_dt_node(const struct mmio_dev *dev, const struct dt_ctx *ctx)
{
	int err = dt_begin_mmio_node(ctx, dev, "uart", "ns16550a");

	if (!err)
		err = fdt_property_u32(ctx->fdt, "clock-frequency", SERIAL_CLOCK_HZ);
	if (!err)
		err = fdt_property_u32(ctx->fdt, "reg-shift", 0);
	if (!err)
		err = fdt_property_u32(ctx->fdt, "reg-io-width", 1);
	if (!err)
		err = fdt_end_node(ctx->fdt);
	return err;
}

/*
 * PNP0501: a 16550A-compatible UART (Linux: 8250_pnp). Its window and
 * interrupt come from _CRS, whichever bus it sits on.
 */
static int serial_acpi_node(const struct mmio_dev *dev, const struct acpi_ctx *ctx)
{
	acpi_begin_device(ctx, dev, "UA", "PNP0501");
	aml_end(ctx->aml); /* after an error: does nothing */
	return aml_error(ctx->aml);
}

const struct mmio_dev_ops serial_ops = {
	.read = serial_read,
	.write = serial_write,
	.dt_node = serial_dt_node,
	.acpi_node = serial_acpi_node,
};
