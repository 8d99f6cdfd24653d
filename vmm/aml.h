/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small AML encoder (ACPI 6.5 section 20, "ACPI Machine Language (AML)
 * Specification"): the objects a DSDT of static devices needs, appended into a
 * bounded buffer. The first error is latched: later calls do nothing, and
 * aml_error() reports it once at the end, so callers need not check each call.
 *
 * Objects that carry a PkgLength (Scope, Device, Package, Buffer) are opened
 * with aml_*_begin() and closed with aml_end(); they nest. aml_end() writes
 * the shortest PkgLength that holds the object (as iasl does), moving the body
 * up when it needs more than the one byte reserved, so the buffer never holds
 * more than the finished AML.
 */
#ifndef ICEVMM_AML_H
#define ICEVMM_AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8

struct aml {
	uint8_t *buf;
	size_t size;
	size_t len;
	int err; /* 0, or the first error: -ENOSPC, -EINVAL, -E2BIG */
	unsigned int depth;
	size_t open[AML_MAX_DEPTH]; /* where each open object's PkgLength starts */
};

void aml_init(struct aml *a, void *buf, size_t size);
/* 0, or the first error latched so far. */
int aml_error(const struct aml *a);
/* Latches err (a negative errno) unless an error is latched already. */
void aml_fail(struct aml *a, int err);
/* At the end: an object still open is an error too (-EINVAL). Returns aml_error(). */
int aml_finish(struct aml *a);

/* Raw bytes: the encoder's primitive, and a way to add what it lacks. */
void aml_bytes(struct aml *a, const void *data, size_t n);

/*
 * PkgLength (20.2.4) for a package whose total length, this encoding
 * included, is len. Returns the number of bytes (1-4) written to out, or 0 if
 * len does not fit in 28 bits.
 */
size_t aml_pkglen_encode(uint8_t out[4], uint32_t len);

/*
 * NameString (20.2.2): "\\" for the root, "^" per parent level, then NameSegs
 * separated by '.': "\\_SB", "_HID", "\\_SB.COM0". A segment shorter than 4
 * characters is padded with '_'. Lead character A-Z or '_', then A-Z, 0-9, '_'.
 */
void aml_name_string(struct aml *a, const char *name);

/* Integer (20.2.3): ZeroOp, OneOp, or the shortest of Byte/Word/DWord/QWordConst. */
void aml_int(struct aml *a, uint64_t v);
/* String (20.2.3): StringPrefix, ASCII 0x01-0x7f, NUL. */
void aml_string(struct aml *a, const char *s);
/*
 * A compressed EISA ID ("PNP0501": 3 letters A-Z, 4 hex digits) as the
 * DWordConst that ASL's EISAID() produces (ACPI 6.5 section 6.1.5).
 */
void aml_eisaid(struct aml *a, const char *id);

/* Name(name, <next object>): NameOp and the NameString; the value follows. */
void aml_name(struct aml *a, const char *name);

/* Scope(name) { ... } (20.2.5.1) and Device(name) { ... } (20.2.5.2). */
void aml_scope_begin(struct aml *a, const char *name);
void aml_device_begin(struct aml *a, const char *name);
/* Package(n) { ... } (20.2.5.4): exactly n elements follow (n <= 255). */
void aml_package_begin(struct aml *a, unsigned int nelems);
/* Closes the innermost Scope, Device or Package (none open: -EINVAL). */
void aml_end(struct aml *a);

/* Buffer() { data } (20.2.5.4): BufferOp PkgLength BufferSize ByteList. */
void aml_buffer(struct aml *a, const void *data, size_t n);

/*
 * Resource descriptors (ACPI 6.5 section 6.4), appended to a struct aml that
 * holds only the template's descriptors; aml_restemplate() then writes them
 * as the Buffer of a ResourceTemplate() into the AML.
 */
enum aml_irq_trigger { AML_LEVEL = 0, AML_EDGE = 1 };
enum aml_irq_polarity { AML_ACTIVE_HIGH = 0, AML_ACTIVE_LOW = 1 };

/* Memory32Fixed(ReadWrite, base, len) (6.4.3.4). */
void aml_res_memory32_fixed(struct aml *r, uint32_t base, uint32_t len);
/* IO(Decode16, base, base, 1, len) (6.4.2.5): a fixed range, len <= 255. */
void aml_res_io(struct aml *r, uint16_t base, uint8_t len);
/* Interrupt(ResourceConsumer, trigger, polarity, Exclusive) { gsi } (6.4.3.6). */
void aml_res_ext_irq(struct aml *r, uint32_t gsi, enum aml_irq_trigger trigger,
		     enum aml_irq_polarity polarity);
/*
 * Ends the template (End Tag, 6.4.2.9, checksum 0: "treated as correct") and
 * writes it into a as a Buffer; an error latched in r is latched in a.
 */
void aml_restemplate(struct aml *a, struct aml *r);

#endif
