/*
 * The virtio-mmio transport: finding devices on the command line, the
 * status and feature handshake, config space.  CPL3; each register
 * access is one MMIO exit to the VMM.
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "rt/rt.h"
#include "virtio/virtio.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int digit(char c, unsigned base)
{
	unsigned v;

	if (c >= '0' && c <= '9')
		v = (unsigned)(c - '0');
	else if (c >= 'a' && c <= 'f')
		v = (unsigned)(c - 'a' + 10);
	else if (c >= 'A' && c <= 'F')
		v = (unsigned)(c - 'A' + 10);
	else
		return -1;
	return v < base ? (int)v : -1;
}

/* An unsigned number the way the kernel's simple_strtoull(s, 0) reads
 * it (0x hex, leading 0 octal, else decimal) from s[*i] up to end.
 * 0, or -1 if there are no digits or it overflows. */
static int parse_num(const char *s, size_t end, size_t *i, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	size_t start;
	int dv;

	if (*i + 1 < end && s[*i] == '0' && (s[*i + 1] == 'x' || s[*i + 1] == 'X') &&
	    *i + 2 < end && digit(s[*i + 2], 16) >= 0) {
		base = 16;
		*i += 2;
	} else if (*i < end && s[*i] == '0') {
		base = 8;
	}
	start = *i;
	while (*i < end && (dv = digit(s[*i], base)) >= 0) {
		if (v > (UINT64_MAX - (unsigned)dv) / base)
			return -1;
		v = v * base + (unsigned)dv;
		(*i)++;
	}
	*out = v;
	return *i > start ? 0 : -1;
}

/* SIZE@BASE:IRQ[:ID] with SIZE as memparse() takes it (K M G T P E,
 * either case).  0, or -1 if malformed. */
static int parse_entry(const char *s, size_t n, struct vdev *d)
{
	static const char suffix[] = "kmgtpe";
	uint64_t size, base, irq, id;
	size_t i = 0;

	if (parse_num(s, n, &i, &size))
		return -1;
	for (unsigned k = 0; k < 6 && i < n; k++) {
		if ((s[i] | 0x20) == suffix[k]) {
			if (size >> (64 - 10 * (k + 1)))
				return -1;
			size <<= 10 * (k + 1);
			i++;
			break;
		}
	}
	if (i >= n || s[i++] != '@' || parse_num(s, n, &i, &base))
		return -1;
	if (i >= n || s[i++] != ':' || parse_num(s, n, &i, &irq) || irq > 0xffff)
		return -1;
	if (i < n && (s[i++] != ':' || parse_num(s, n, &i, &id)))
		return -1;
	if (i != n || size == 0 || base + size < base)
		return -1;
	*d = (struct vdev){ .base = base, .size = size, .irq = (unsigned)irq };
	return 0;
}

uint64_t virtio_wait_long = VIRTIO_WAIT_LONG_DEFAULT;

const char *cmdline_find(const struct bootinfo *bi, const char *key,
			 size_t *pos, size_t *vlen)
{
	const size_t klen = strlen(key);
	const char *cl = bi->cmdline;
	size_t n = bi->cmdline_len;

	for (size_t i = *pos; i + klen <= n; i++) {
		size_t j;

		if ((i > 0 && !is_space(cl[i - 1])) || memcmp(cl + i, key, klen))
			continue;
		for (j = i + klen; j < n && !is_space(cl[j]); j++)
			;
		/* "key" alone, or "key=..." when key ends in '=' */
		if (key[klen - 1] != '=' && j != i + klen)
			continue;
		*pos = j;
		*vlen = j - i - klen;
		return cl + i + klen;
	}
	return NULL;
}

int vdev_parse_cmdline(const struct bootinfo *bi, struct vdev *out, int max)
{
	size_t pos = 0, vlen;
	const char *v;
	int count = 0;

	while (count < max &&
	       (v = cmdline_find(bi, "virtio_mmio.device=", &pos, &vlen)))
		if (parse_entry(v, vlen, &out[count]) == 0)
			count++;
	return count;
}

int vdev_find(struct vdev *d, const struct bootinfo *bi, uint32_t device_id,
	      unsigned index, const char **why)
{
	struct vdev all[VDEV_MAX];
	int n = vdev_parse_cmdline(bi, all, VDEV_MAX);

	*why = "no virtio_mmio.device= entry on the command line";
	for (int i = 0; i < n; i++) {
		struct vdev *c = &all[i];

		if (c->size < 0x200 || c->base >= (4ULL << 30) ||
		    vdev_r32(c, VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE) {
			*why = "no virtio magic at an announced address";
			continue;
		}
		c->device_id = vdev_r32(c, VIRTIO_MMIO_DEVICE_ID);
		if (c->device_id != device_id)
			continue;
		if (vdev_r32(c, VIRTIO_MMIO_VERSION) != 2) {
			/* QEMU: -global virtio-mmio.force-legacy=false */
			*why = "legacy virtio-mmio (version 1) device";
			continue;
		}
		if (index-- == 0) {
			*d = *c;
			return 0;
		}
		*why = "fewer devices of this type than asked for";
	}
	return -1;
}

int vdev_reset(struct vdev *d)
{
	uint64_t t0 = rdtsc();

	vdev_w32(d, VIRTIO_MMIO_STATUS, 0);
	/* The device may drain in-flight requests before it reads 0. */
	while (vdev_status(d) != 0) {
		if (rdtsc() - t0 > VIRTIO_WAIT_LONG)
			return -1;
		cpu_pause();
	}
	d->acked = 0;
	return 0;
}

uint64_t vdev_device_features(const struct vdev *d)
{
	uint64_t f;

	vdev_w32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)vdev_r32(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	vdev_w32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | vdev_r32(d, VIRTIO_MMIO_DEVICE_FEATURES);
}

void vdev_write_features(const struct vdev *d, uint64_t f)
{
	vdev_w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vdev_w32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	vdev_w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vdev_w32(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
}

int vdev_negotiate(struct vdev *d, uint64_t want, const char **why)
{
	uint32_t s = VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER;

	if (vdev_reset(d)) {
		*why = "reset: Status never read back 0";
		return -1;
	}
	vdev_w32(d, VIRTIO_MMIO_STATUS, VIRTIO_S_ACKNOWLEDGE);
	vdev_w32(d, VIRTIO_MMIO_STATUS, s);
	d->offered = vdev_device_features(d);
	if (!(d->offered & FBIT(VIRTIO_F_VERSION_1))) {
		*why = "device does not offer VERSION_1";
		return -1;
	}
	d->acked = d->offered & (want | FBIT(VIRTIO_F_VERSION_1));
	vdev_write_features(d, d->acked);
	vdev_w32(d, VIRTIO_MMIO_STATUS, s | VIRTIO_S_FEATURES_OK);
	if (!(vdev_status(d) & VIRTIO_S_FEATURES_OK)) {
		*why = "FEATURES_OK did not stick";
		return -1;
	}
	return 0;
}

void vdev_driver_ok(const struct vdev *d)
{
	vdev_w32(d, VIRTIO_MMIO_STATUS, vdev_status(d) | VIRTIO_S_DRIVER_OK);
}

uint8_t vdev_cfg8(const struct vdev *d, unsigned off)
{
	return mmio_read8(d->base + VIRTIO_MMIO_CONFIG + off);
}

uint16_t vdev_cfg16(const struct vdev *d, unsigned off)
{
	return mmio_read16(d->base + VIRTIO_MMIO_CONFIG + off);
}

uint32_t vdev_cfg32(const struct vdev *d, unsigned off)
{
	return mmio_read32(d->base + VIRTIO_MMIO_CONFIG + off);
}

/* Two 32-bit halves can tear if the device changes the field between
 * them; ConfigGeneration tells (section 4.2.2.2). */
uint64_t vdev_cfg64(const struct vdev *d, unsigned off)
{
	uint32_t gen, lo, hi;

	do {
		gen = vdev_r32(d, VIRTIO_MMIO_CONFIG_GENERATION);
		lo = vdev_cfg32(d, off);
		hi = vdev_cfg32(d, off + 4);
	} while (gen != vdev_r32(d, VIRTIO_MMIO_CONFIG_GENERATION));
	return (uint64_t)hi << 32 | lo;
}
