/*
 * Block device tests (virtio-blk, first device on the command line unless
 * noted).  Output formats are in README.md; the data written is the
 * pattern of blkpattern.h, which tools/blkpattern regenerates on the host.
 */
#include <stdint.h>

#include "blkpattern.h"
#include "picotest.h"
#include "rt/mem.h"
#include "virtio/blk.h"

#define CHUNK	65536u		/* bytes per request */
#define DEPTH	8u		/* requests in flight */
#define SEED_OOB 0xee		/* pattern of the writes that must fail */

static struct blk blk;

static int open_blk(const struct bootinfo *bi, const char *test)
{
	const char *why;

	if (blk_open(&blk, bi, 0, &why)) {
		rt_printf("%s: no usable virtio-blk device: %s\n", test, why);
		return -1;
	}
	return 0;
}

enum xmode { WRITE_PATTERN, READ_CKSUM, READ_VERIFY };

/* count sectors from sector through DEPTH buffers of CHUNK bytes, in
 * order: writes the pattern, or reads and checksums, or reads and
 * compares with the pattern (*bad = first differing byte).  Returns the
 * first non-OK status, with *at = its sector. */
static int xfer(enum xmode mode, uint64_t sector, uint64_t count,
		uint64_t seed, struct cksum *ck, uint64_t *bad, uint64_t *at)
{
	static uint8_t *buf;
	const uint64_t total = count * BLK_SECTOR;
	uint32_t type = mode == WRITE_PATTERN ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;

	if (!buf && !(buf = rt_alloc(DEPTH * CHUNK, 4096)))
		return BLK_FULL;
	*bad = UINT64_MAX;
	for (uint64_t off = 0; off < total;) {
		uint64_t start = off;
		unsigned n = 0;

		/* Submit a batch, one kick, then take it in order. */
		for (; n < DEPTH && off < total; n++) {
			uint32_t len = total - off < CHUNK ? (uint32_t)(total - off)
							   : CHUNK;
			uint8_t *p = buf + n * CHUNK;

			if (mode == WRITE_PATTERN)
				for (uint32_t i = 0; i < len; i++)
					p[i] = blk_pattern(seed, off + i);
			if (blk_submit(&blk, type, sector + off / BLK_SECTOR, p, len,
				       n) < 0)
				break;
			off += len;
		}
		if (n == 0)
			return BLK_FULL;
		vq_kick(&blk.q);
		for (unsigned k = 0; k < n; k++) {
			uint64_t tag;
			int st = blk_wait(&blk, VIRTIO_WAIT_LONG, &tag);

			if (st != VIRTIO_BLK_S_OK) {
				*at = sector + start / BLK_SECTOR;
				return st;
			}
		}
		for (uint64_t o = start; mode == READ_VERIFY && o < off; o++)
			if (*bad == UINT64_MAX &&
			    buf[o - start] != blk_pattern(seed, o))
				*bad = o;
		if (mode == READ_CKSUM)
			cksum_update(ck, buf, (size_t)(off - start));
	}
	return VIRTIO_BLK_S_OK;
}

static void print_getid(struct blk *b)
{
	static char id[BLK_ID_BYTES + 1];
	int st;

	memset(id, 0, sizeof(id));
	st = blk_io(b, VIRTIO_BLK_T_GET_ID, 0, id, BLK_ID_BYTES);
	if (st != VIRTIO_BLK_S_OK) {
		rt_printf("(%s)\n", blk_status_name(st));
		return;
	}
	for (int i = 0; id[i]; i++)
		if (id[i] < 0x21 || id[i] > 0x7e)
			id[i] = '?';
	rt_printf("%s\n", id);
}

/* blk-info: one line per virtio-blk device, in command line order. */
int test_blk_info(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	unsigned i;
	const char *why = "";

	(void)arg, (void)arglen;
	for (i = 0; blk_open(&blk, bi, i, &why) == 0; i++) {
		rt_printf("blk: capacity=%llu ro=%d features=%#llx serial=",
			  (unsigned long long)blk.capacity, blk.ro,
			  (unsigned long long)blk.dev.offered);
		print_getid(&blk);
	}
	if (i == 0)
		rt_printf("blk: none (%s)\n", why);
	return i ? 0 : 1;
}

int test_blk_read(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint64_t a[2], bad, at;
	struct cksum ck;
	int st;

	if (parse_args(arg, arglen, a, 2))
		return EXIT_USAGE;
	if (open_blk(bi, "blk-read"))
		return 1;
	cksum_init(&ck);
	st = xfer(READ_CKSUM, a[0], a[1], 0, &ck, &bad, &at);
	if (st != VIRTIO_BLK_S_OK) {
		rt_printf("blk-read: sector %llu: %s\n", (unsigned long long)at,
			  blk_status_name(st));
		return 1;
	}
	rt_printf("blk-read: len=%llu cksum=%u\n", (unsigned long long)ck.len,
		  cksum_final(&ck));
	return 0;
}

/* Writes the pattern; flushes if `flush` and the device offers it. */
static int do_write(const struct bootinfo *bi, const char *arg, size_t arglen,
		    int flush, const char *test)
{
	uint64_t a[3], bad, at;
	int st;

	if (parse_args(arg, arglen, a, 3))
		return EXIT_USAGE;
	if (open_blk(bi, test))
		return 1;
	st = xfer(WRITE_PATTERN, a[0], a[1], a[2], NULL, &bad, &at);
	if (st != VIRTIO_BLK_S_OK) {
		rt_printf("blk-write: sector %llu: %s\n", (unsigned long long)at,
			  blk_status_name(st));
		return 1;
	}
	rt_puts("blk-write: ok");
	if (!flush)
		return 0;
	if (!(blk.dev.acked & FBIT(VIRTIO_BLK_F_FLUSH))) {
		rt_puts("blk-flush: not offered");
		return 0;
	}
	st = blk_io(&blk, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
	rt_printf("blk-flush: %s\n", blk_status_name(st));
	return st == VIRTIO_BLK_S_OK ? 0 : 1;
}

int test_blk_write(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	return do_write(bi, arg, arglen, 1, "blk-write");
}

int test_blk_write_noflush(const struct bootinfo *bi, const char *arg,
			   size_t arglen)
{
	return do_write(bi, arg, arglen, 0, "blk-write-noflush");
}

/* Write, flush, say so, then spin until the host kills the VM: whatever
 * was flushed must be in the image afterwards. */
int test_blk_durable(const struct bootinfo *bi, const char *arg,
		     size_t arglen)
{
	int r = do_write(bi, arg, arglen, 1, "blk-durable");

	if (r)
		return r;
	if (!(blk.dev.acked & FBIT(VIRTIO_BLK_F_FLUSH))) {
		rt_puts("blk-durable: no flush to rely on");
		return 1;
	}
	rt_puts("blk-durable: flushed");
	for (;;)
		barrier();
}

int test_blk_rw_verify(const struct bootinfo *bi, const char *arg,
		       size_t arglen)
{
	uint64_t a[3], bad, at;
	int st;

	if (parse_args(arg, arglen, a, 3))
		return EXIT_USAGE;
	if (open_blk(bi, "blk-rw-verify"))
		return 1;
	st = xfer(WRITE_PATTERN, a[0], a[1], a[2], NULL, &bad, &at);
	if (st == VIRTIO_BLK_S_OK)
		st = xfer(READ_VERIFY, a[0], a[1], a[2], NULL, &bad, &at);
	if (st != VIRTIO_BLK_S_OK) {
		rt_printf("blk-verify: sector %llu: %s\n", (unsigned long long)at,
			  blk_status_name(st));
		return 1;
	}
	if (bad != UINT64_MAX) {
		rt_printf("blk-verify: mismatch at byte %llu\n",
			  (unsigned long long)bad);
		return 1;
	}
	rt_puts("blk-verify: ok");
	return 0;
}

static int do_dwz(const struct bootinfo *bi, const char *arg, size_t arglen,
		  uint32_t type, unsigned feature, const char *test)
{
	uint64_t a[2];
	int st;

	if (parse_args(arg, arglen, a, 2))
		return EXIT_USAGE;
	if (open_blk(bi, test))
		return 1;
	if (!(blk.dev.acked & FBIT(feature))) {
		rt_printf("%s: not offered\n", test);
		return 1;
	}
	st = blk_dwz(&blk, type, a[0], a[1]);
	rt_printf("%s: %s\n", test, blk_status_name(st));
	return st == VIRTIO_BLK_S_OK ? 0 : 1;
}

int test_blk_discard(const struct bootinfo *bi, const char *arg,
		     size_t arglen)
{
	return do_dwz(bi, arg, arglen, VIRTIO_BLK_T_DISCARD,
		      VIRTIO_BLK_F_DISCARD, "blk-discard");
}

int test_blk_zeroes(const struct bootinfo *bi, const char *arg,
		    size_t arglen)
{
	return do_dwz(bi, arg, arglen, VIRTIO_BLK_T_WRITE_ZEROES,
		      VIRTIO_BLK_F_WRITE_ZEROES, "blk-zeroes");
}

/* One write of count sectors at sector; its status. */
static int write_once(uint64_t sector, uint32_t count)
{
	static uint8_t *p;

	if (!p && !(p = rt_alloc(8 * BLK_SECTOR, 4096)))
		return BLK_FULL;
	for (uint32_t i = 0; i < count * BLK_SECTOR; i++)
		p[i] = blk_pattern(SEED_OOB, i);
	return blk_io(&blk, VIRTIO_BLK_T_OUT, sector, p, count * BLK_SECTOR);
}

/* A read-only disk must refuse writes with IOERR, also when the driver
 * did not ack BLK_F_RO (and so has not promised not to write). */
int test_blk_ro_write(const struct bootinfo *bi, const char *arg,
		      size_t arglen)
{
	const char *why;
	int st1, st2;

	(void)arg, (void)arglen;
	if (open_blk(bi, "blk-ro"))
		return 1;
	if (!blk.ro) {
		rt_puts("blk-ro: device does not offer BLK_F_RO");
		return 1;
	}
	st1 = write_once(0, 1);
	rt_printf("blk-ro: ro acked: %s\n", blk_status_name(st1));
	blk.want &= ~FBIT(VIRTIO_BLK_F_RO);
	if (blk_init(&blk, &why)) {
		rt_printf("blk-ro: re-init without RO: %s\n", why);
		return 1;
	}
	st2 = write_once(0, 1);
	rt_printf("blk-ro: ro not acked: %s\n", blk_status_name(st2));
	if (st1 != VIRTIO_BLK_S_IOERR || st2 != VIRTIO_BLK_S_IOERR) {
		rt_puts("blk-ro: write not refused");
		return 1;
	}
	rt_puts("blk-ro: ioerr");
	return 0;
}

/* Requests outside the disk, including ones whose end or byte offset
 * wraps 64 bits (a naive `sector + n <= capacity` or `sector * 512`
 * check passes those): every one must get IOERR. */
int test_blk_oob(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	static uint8_t *buf;
	struct { int write; int cap_rel; uint64_t sector; uint32_t n; } c[] = {
		{ 0, 1, 0, 1 },			/* capacity */
		{ 0, 1, (uint64_t)-1, 2 },	/* capacity - 1, two sectors */
		{ 0, 0, 1ULL << 63, 1 },
		{ 0, 0, (uint64_t)-1, 2 },	/* sector + n overflows */
		{ 0, 0, (uint64_t)-8, 8 },	/* sector + n wraps to 0 */
		{ 0, 0, 1ULL << 55, 1 },	/* sector * 512 wraps to 0 */
		{ 1, 1, 0, 1 },
		{ 1, 0, 1ULL << 55, 1 },	/* would overwrite sector 0 */
		{ 1, 0, (uint64_t)-8, 8 },
	};
	const char *why;
	int all = 1;

	(void)arg, (void)arglen;
	if (open_blk(bi, "blk-oob"))
		return 1;
	if (!buf && !(buf = rt_alloc(8 * BLK_SECTOR, 4096)))
		return 1;
	for (unsigned i = 0; i < ARRAY_SIZE(c); i++) {
		uint64_t s = c[i].cap_rel ? blk.capacity + c[i].sector : c[i].sector;
		int st = c[i].write ? write_once(s, c[i].n)
				    : blk_io(&blk, VIRTIO_BLK_T_IN, s, buf,
					     c[i].n * BLK_SECTOR);

		rt_printf("blk-oob: %s sector=%#llx count=%u: %s\n",
			  c[i].write ? "write" : "read", (unsigned long long)s,
			  c[i].n, blk_status_name(st));
		if (st != VIRTIO_BLK_S_IOERR) {
			all = 0;
			if (st >= BLK_NEEDS_RESET && blk_init(&blk, &why)) {
				rt_printf("blk-oob: re-init: %s\n", why);
				return 1;
			}
		}
	}
	rt_puts(all ? "blk-oob: all ioerr" : "blk-oob: some not ioerr");
	return all ? 0 : 1;
}
