// SPDX-License-Identifier: GPL-2.0
/*
 * AML encoder. Opcode values: ACPI 6.5 section 20.3 ("AML Byte Stream Byte
 * Values"); grammar: 20.2; resource descriptors: 6.4.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "aml.h"

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after ExtOpPrefix */
#define AML_ROOT_CHAR 0x5c
#define AML_PARENT_PREFIX_CHAR 0x5e
#define AML_NULL_NAME 0x00

/* PkgLength (20.2.4): its longest encoding, and the largest value it holds. */
#define AML_PKGLEN_MAX_BYTES 4
#define AML_PKGLEN_MAX 0x0fffffffu

/* Resource descriptor tags (6.4.2, 6.4.3). */
#define RES_IO_TAG 0x47		/* small item 0x08, 7 bytes follow */
#define RES_END_TAG 0x79	/* small item 0x0f, 1 byte follows */
#define RES_MEMORY32_FIXED 0x86 /* large item 0x06 */
#define RES_EXT_IRQ 0x89	/* large item 0x09 */
#define RES_IO_DECODE16 0x01	/* IO information: 16-bit address decode */
#define RES_MEM_READ_WRITE 0x01 /* Memory32Fixed information */
#define RES_IRQ_CONSUMER 0x01	/* Extended Interrupt flags bit 0 */
#define RES_IRQ_EDGE 0x02	/* bit 1: 1 edge, 0 level */
#define RES_IRQ_ACTIVE_LOW 0x04 /* bit 2: 1 active low, 0 active high */

void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_init(struct aml *a, void *buf, size_t size)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->size = size;
}

int aml_error(const struct aml *a)
{
	return a->err;
}

int aml_finish(struct aml *a)
{
	if (a->depth)
		aml_fail(a, -EINVAL);
	return a->err;
}

void aml_bytes(struct aml *a, const void *data, size_t n)
{
	if (a->err || !n)
		return;
	if (n > a->size - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, data, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned int n)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, n);
}

size_t aml_pkglen_encode(uint8_t out[4], uint32_t len)
{
	size_t n;

	/*
	 * One byte holds 0-63 in bits 0-5. Otherwise bits 7-6 of the lead byte
	 * count the bytes that follow, its bits 3-0 are the value's low nibble
	 * and each following byte the next 8 bits (bits 5-4 stay 0).
	 */
	if (len <= 0x3f) {
		out[0] = (uint8_t)len;
		return 1;
	}
	if (len <= 0xfff)
		n = 2;
	else if (len <= 0xfffff)
		n = 3;
	else if (len <= AML_PKGLEN_MAX)
		n = 4;
	else
		return 0;
	out[0] = (uint8_t)((n - 1) << 6 | (len & 0x0f));
	for (size_t i = 1; i < n; i++)
		out[i] = (uint8_t)(len >> (4 + 8 * (i - 1)));
	return n;
}

/*
 * Opens an object with a PkgLength: reserves one byte, the shortest encoding;
 * aml_end() moves the body up if it needs more. So the buffer never holds
 * more than the finished AML: what fits, fits exactly.
 */
static void aml_pkg_begin(struct aml *a)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		aml_fail(a, -E2BIG);
		return;
	}
	a->open[a->depth] = a->len;
	aml_byte(a, 0);
	if (!a->err)
		a->depth++;
}

void aml_end(struct aml *a)
{
	uint8_t enc[AML_PKGLEN_MAX_BYTES];
	size_t start, body, n;

	if (a->err)
		return;
	if (!a->depth) {
		aml_fail(a, -EINVAL);
		return;
	}
	start = a->open[--a->depth];
	body = a->len - start - 1;
	/* The length counts its own bytes: take the shortest encoding that holds it. */
	for (n = 1; n <= AML_PKGLEN_MAX_BYTES; n++) {
		if (body + n <= AML_PKGLEN_MAX && aml_pkglen_encode(enc, (uint32_t)(body + n)) == n)
			break;
	}
	if (n > AML_PKGLEN_MAX_BYTES) {
		aml_fail(a, -E2BIG);
		return;
	}
	if (n - 1 > a->size - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memmove(a->buf + start + n, a->buf + start + 1, body);
	memcpy(a->buf + start, enc, n);
	a->len += n - 1;
}

static bool name_lead_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char_ok(char c)
{
	return name_lead_ok(c) || (c >= '0' && c <= '9');
}

void aml_name_string(struct aml *a, const char *name)
{
	uint8_t segs[255][4];
	unsigned int nsegs = 0, i;
	const char *p = name;

	if (a->err)
		return;
	if (*p == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		p++;
	} else {
		for (; *p == '^'; p++)
			aml_byte(a, AML_PARENT_PREFIX_CHAR);
	}
	while (*p) {
		if (nsegs == 255 || !name_lead_ok(*p)) {
			aml_fail(a, -EINVAL);
			return;
		}
		for (i = 0; i < 4 && name_char_ok(*p); i++)
			segs[nsegs][i] = (uint8_t)*p++;
		for (; i < 4; i++)
			segs[nsegs][i] = '_';
		nsegs++;
		if (*p == '.' && p[1]) {
			p++;
		} else if (*p) {
			aml_fail(a, -EINVAL); /* a 5th character, or a stray one */
			return;
		}
	}
	if (nsegs == 0) {
		aml_byte(a, AML_NULL_NAME);
		return;
	}
	if (nsegs == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (nsegs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nsegs);
	}
	aml_bytes(a, segs, 4 * nsegs);
}

void aml_int(struct aml *a, uint64_t v)
{
	uint8_t b[9];
	unsigned int n;

	if (v <= 1) {
		aml_byte(a, v ? AML_ONE_OP : AML_ZERO_OP);
		return;
	}
	if (v <= 0xff) {
		b[0] = AML_BYTE_PREFIX, n = 1;
	} else if (v <= 0xffff) {
		b[0] = AML_WORD_PREFIX, n = 2;
	} else if (v <= 0xffffffff) {
		b[0] = AML_DWORD_PREFIX, n = 4;
	} else {
		b[0] = AML_QWORD_PREFIX, n = 8;
	}
	for (unsigned int i = 0; i < n; i++)
		b[1 + i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, 1 + n); /* all or nothing */
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint8_t b[4];
	uint16_t vendor = 0, product = 0;
	int i, d;

	if (strlen(id) != 7) {
		aml_fail(a, -EINVAL);
		return;
	}
	/* Three letters, 5 bits each ('A' = 1), big-endian in bytes 0-1 ... */
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			aml_fail(a, -EINVAL);
			return;
		}
		vendor = (uint16_t)(vendor << 5 | (id[i] - 0x40));
	}
	/* ... then the product number's 4 hex digits, big-endian in bytes 2-3. */
	for (i = 3; i < 7; i++) {
		d = hex_digit(id[i]);
		if (d < 0) {
			aml_fail(a, -EINVAL);
			return;
		}
		product = (uint16_t)(product << 4 | d);
	}
	b[0] = (uint8_t)(vendor >> 8);
	b[1] = (uint8_t)vendor;
	b[2] = (uint8_t)(product >> 8);
	b[3] = (uint8_t)product;
	/* Always a DWordConst, as iasl writes it, whatever the value. */
	aml_byte(a, AML_DWORD_PREFIX);
	aml_bytes(a, b, sizeof(b));
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, name);
}

void aml_scope_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_pkg_begin(a);
	aml_name_string(a, name);
}

void aml_device_begin(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_pkg_begin(a);
	aml_name_string(a, name);
}

void aml_package_begin(struct aml *a, unsigned int nelems)
{
	if (nelems > 0xff) { /* that would be a VarPackage */
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, AML_PACKAGE_OP);
	aml_pkg_begin(a);
	aml_byte(a, (uint8_t)nelems);
}

void aml_buffer(struct aml *a, const void *data, size_t n)
{
	aml_byte(a, AML_BUFFER_OP);
	aml_pkg_begin(a);
	aml_int(a, n);
	aml_bytes(a, data, n);
	aml_end(a);
}

void aml_res_memory32_fixed(struct aml *r, uint32_t base, uint32_t len)
{
	/* tag, length 9 (little-endian), information, base, range length */
	aml_byte(r, RES_MEMORY32_FIXED);
	aml_le(r, 9, 2);
	aml_byte(r, RES_MEM_READ_WRITE);
	aml_le(r, base, 4);
	aml_le(r, len, 4);
}

void aml_res_io(struct aml *r, uint16_t base, uint8_t len)
{
	/* tag, information, minimum base, maximum base, alignment, length */
	aml_byte(r, RES_IO_TAG);
	aml_byte(r, RES_IO_DECODE16);
	aml_le(r, base, 2);
	aml_le(r, base, 2);
	aml_byte(r, 1);
	aml_byte(r, len);
}

void aml_res_ext_irq(struct aml *r, uint32_t gsi, enum aml_irq_trigger trigger,
		     enum aml_irq_polarity polarity)
{
	uint8_t flags = RES_IRQ_CONSUMER;

	if (trigger == AML_EDGE)
		flags |= RES_IRQ_EDGE;
	if (polarity == AML_ACTIVE_LOW)
		flags |= RES_IRQ_ACTIVE_LOW;
	/* tag, length 6 (flags, table length, one interrupt number), ... */
	aml_byte(r, RES_EXT_IRQ);
	aml_le(r, 6, 2);
	aml_byte(r, flags);
	aml_byte(r, 1);
	aml_le(r, gsi, 4);
}

void aml_restemplate(struct aml *a, struct aml *r)
{
	static const uint8_t end_tag[] = { RES_END_TAG, 0 };

	aml_bytes(r, end_tag, sizeof(end_tag));
	if (aml_finish(r)) {
		aml_fail(a, r->err);
		return;
	}
	aml_buffer(a, r->buf, r->len);
}
