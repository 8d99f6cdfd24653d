// SPDX-License-Identifier: GPL-2.0
/* The MMIO bus: address → device. See bus.h. */
#include <errno.h>
#include <string.h>

#include "bus.h"

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

bool bus_access(const struct mmio_bus *bus, uint64_t addr, void *data, uint32_t len, bool is_write)
{
	const struct mmio_dev *d = bus_find(bus, addr, len);

	if (!d) {
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
