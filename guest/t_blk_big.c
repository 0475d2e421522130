/*
 * Huge block requests (issue 16): requests of gigabytes built from one
 * small buffer that every data descriptor points at (blk_submit_rep), so
 * the guest needs little RAM and the host image can be sparse.
 *
 *   blk-huge:SECTOR:NSEG:SEGMIB:SEED
 *       one read of NSEG * SEGMIB MiB from SECTOR; the buffer then holds
 *       the last segment, checked against blkpattern(SEED) (the host wrote
 *       the pattern there): `blk-huge: ok` / `blk-huge: STATUS` /
 *       `blk-huge: mismatch at byte N`
 *   blk-fair:NBIG:NSEG:SEGMIB
 *       NBIG reads of NSEG * SEGMIB MiB queued on disk 0 with one kick,
 *       then one 4 KiB read on disk 1; when that one completes, counts the
 *       big reads already completed: `blk-fair: small=STATUS big-done=K
 *       of NBIG`; status 0 when the small read was OK and K < NBIG
 *   blk-flood:NSEG:SEGMIB
 *       keeps disk 0's queue full of reads of NSEG * SEGMIB MiB for ever
 *       (`blk-flood: running` once the first batch is kicked)
 */
#include <stdint.h>

#include "blkpattern.h"
#include "picotest.h"
#include "rt/cpu.h"
#include "rt/mem.h"
#include "virtio/blk.h"

#define MIB (1024u * 1024u)

static struct blk disk[2];

/* Opens disks 0..ndisks-1 and allocates the segment buffer; NULL after
 * saying why. */
static uint8_t *setup(const struct bootinfo *bi, unsigned ndisks,
		      uint64_t segmib, const char *test)
{
	const char *why;
	uint8_t *buf;

	for (unsigned i = 0; i < ndisks; i++) {
		if (blk_open(&disk[i], bi, i, &why)) {
			rt_printf("%s: no usable virtio-blk device %u: %s\n", test,
				  i, why);
			return NULL;
		}
	}
	if (!(buf = rt_alloc(segmib * MIB, 4096)))
		rt_printf("%s: no RAM for %llu MiB\n", test,
			  (unsigned long long)segmib);
	return buf;
}

int test_blk_huge(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint64_t a[4], tag;
	uint8_t *buf;

	if (parse_args(arg, arglen, a, 4) || a[1] == 0 || a[1] > BLK_REP_MAX ||
	    a[2] == 0 || a[2] > 1024)
		return EXIT_USAGE;
	if (!(buf = setup(bi, 1, a[2], "blk-huge")))
		return 1;
	uint32_t seg = (uint32_t)(a[2] * MIB);
	for (uint32_t i = 0; i < seg; i++)
		buf[i] = 0x5a;
	if (blk_submit_rep(&disk[0], VIRTIO_BLK_T_IN, a[0], buf, seg,
			   (unsigned)a[1], 0) < 0) {
		rt_printf("blk-huge: ring full\n");
		return 1;
	}
	vq_kick(&disk[0].q);
	int st = blk_wait(&disk[0], 20 * VIRTIO_WAIT_LONG, &tag);
	if (st != VIRTIO_BLK_S_OK) {
		rt_printf("blk-huge: %s\n", blk_status_name(st));
		return 1;
	}
	for (uint32_t i = 0; i < seg; i++) {
		if (buf[i] != blk_pattern(a[3], i)) {
			rt_printf("blk-huge: mismatch at byte %u\n", i);
			return 1;
		}
	}
	rt_printf("blk-huge: ok\n");
	return 0;
}

/* Queues up to n reads of nseg * seg bytes on disk 0; returns how many. */
static unsigned queue_big(unsigned n, uint8_t *buf, uint32_t seg, unsigned nseg)
{
	unsigned k = 0;

	while (k < n && blk_submit_rep(&disk[0], VIRTIO_BLK_T_IN, 0, buf, seg,
				       nseg, k) >= 0)
		k++;
	return k;
}

int test_blk_fair(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint64_t a[3], tag;
	static uint8_t small[4096] __attribute__((aligned(4096)));
	uint8_t *buf;
	int st;

	if (parse_args(arg, arglen, a, 3) || a[0] == 0 || a[1] == 0 ||
	    a[1] > BLK_REP_MAX || a[2] == 0 || a[2] > 1024)
		return EXIT_USAGE;
	if (!(buf = setup(bi, 2, a[2], "blk-fair")))
		return 1;
	unsigned nbig = queue_big((unsigned)a[0], buf, (uint32_t)(a[2] * MIB),
				  (unsigned)a[1]);
	vq_kick(&disk[0].q);
	if (blk_submit(&disk[1], VIRTIO_BLK_T_IN, 0, small, sizeof(small), 0) < 0) {
		rt_printf("blk-fair: ring full on disk 1\n");
		return 1;
	}
	vq_kick(&disk[1].q);
	st = blk_wait(&disk[1], 20 * VIRTIO_WAIT_LONG, &tag);
	/* Every big read the device has completed is in the used ring now. */
	unsigned done = 0;
	int bst;
	while (blk_poll(&disk[0], &tag, &bst) > 0)
		done++;
	rt_printf("blk-fair: small=%s big-done=%u of %u\n", blk_status_name(st),
		  done, nbig);
	return st == VIRTIO_BLK_S_OK && done < nbig ? 0 : 1;
}

int test_blk_flood(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint64_t a[2], tag;
	uint8_t *buf;
	int st;

	if (parse_args(arg, arglen, a, 2) || a[0] == 0 || a[0] > BLK_REP_MAX ||
	    a[1] == 0 || a[1] > 1024)
		return EXIT_USAGE;
	if (!(buf = setup(bi, 1, a[1], "blk-flood")))
		return 1;
	uint32_t seg = (uint32_t)(a[1] * MIB);
	queue_big(disk[0].q.num, buf, seg, (unsigned)a[0]);
	vq_kick(&disk[0].q);
	rt_printf("blk-flood: running\n");
	for (;;) {
		if (blk_poll(&disk[0], &tag, &st) > 0 &&
		    queue_big(1, buf, seg, (unsigned)a[0]))
			vq_kick(&disk[0].q);
		cpu_pause();
	}
}
