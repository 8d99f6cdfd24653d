// SPDX-License-Identifier: GPL-2.0
/* The MMIO bus: address → device. See bus.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "log.h"

int bus_register(struct mmio_bus *bus, const struct mmio_dev *dev)
{
	unsigned int i;

	if (dev->size == 0 || dev->base + dev->size < dev->base)
		return -EINVAL;
	for (i = 0; i < bus->ndevs; i++) {
		const struct mmio_dev *d = &bus->devs[i];

		if (dev->base < d->base + d->size && d->base < dev->base + dev->size)
			return -EEXIST;
	}
	if (bus->ndevs == BUS_MAX_DEVS)
		return -ENOSPC;
	bus->devs[bus->ndevs++] = *dev;
	return 0;
}

const struct mmio_dev *bus_find(const struct mmio_bus *bus, uint64_t addr, uint32_t len)
{
	unsigned int i;

	/* A handful of devices: a linear scan beats anything cleverer. */
	for (i = 0; i < bus->ndevs; i++) {
		const struct mmio_dev *d = &bus->devs[i];

		if (addr >= d->base && addr - d->base < d->size &&
		    len <= d->size - (addr - d->base))
			return d;
	}
	return NULL;
}

static void bus_miss(struct bus_misses *m, uint64_t addr)
{
	for (unsigned int i = 0; i < BUS_MISS_ADDRS; i++) {
		uint64_t seen = 0;

		/* A free entry becomes addr's; or this is addr's (maybe just taken by another vCPU). */
		if (atomic_compare_exchange_strong(&m->addr[i], &seen, addr + 1) ||
		    seen == addr + 1) {
			atomic_fetch_add_explicit(&m->count[i], 1, memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add_explicit(&m->others, 1, memory_order_relaxed);
}

void bus_misses_report(const struct bus_misses *m, const char *what)
{
	char line[BUS_MISS_ADDRS * 28 + 64];
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < BUS_MISS_ADDRS && atomic_load(&m->addr[i]); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s0x%llx x%u", i ? ", " : "",
				      (unsigned long long)(atomic_load(&m->addr[i]) - 1),
				      atomic_load(&m->count[i]));
	if (!n)
		return;
	if (atomic_load(&m->others))
		snprintf(line + n, sizeof(line) - n, ", %u more elsewhere",
			 atomic_load(&m->others));
	pr_info("%s to no device: %s", what, line);
}

bool bus_access(const struct mmio_bus *bus, uint64_t addr, void *data, uint32_t len, bool is_write)
{
	const struct mmio_dev *d = bus_find(bus, addr, len);

	if (!d) {
		if (bus->misses)
			bus_miss(bus->misses, addr);
		if (!is_write)
			memset(data, 0, len);
		return false;
	}
	if (is_write) {
		if (d->ops->write)
			d->ops->write(d->opaque, addr - d->base, data, len);
	} else if (d->ops->read) {
		d->ops->read(d->opaque, addr - d->base, data, len);
	} else {
		memset(data, 0, len);
	}
	return true;
}
