/*
 * snap:ROUNDS:POINTS: work that a snapshot cuts in the middle.  Starts
 * every AP the MP table lists (they park, halted, at CPL0), then runs
 * ROUNDS rounds of a pseudo-random fill over a 256 KiB buffer in POINTS+1
 * parts, writing picovm's snapshot port (0x512) between parts.  Prints
 *     snap: part K cksum=C        after each part but the last
 *     snap: done cksum=C aps=N    at the end (N: APs that came up)
 * The output of a run whose snapshots are restored, concatenated, equals
 * that of a run without snapshot.path (the port is then ignored).
 */
#include <stdint.h>

#include "picotest.h"
#include "rt/cpu.h"
#include "rt/io.h"
#include "rt/irq.h"
#include "rt/mem.h"
#include "rt/smp.h"
#include "virtio/blk.h"
#include "virtio/virtio.h"
#include "../devices/ports.h"

#define WORDS (64 * 1024)
#define WAIT_TICKS 3000000000ULL

static uint32_t work[WORDS];

static void fill(uint64_t *x, uint64_t rounds)
{
	for (uint64_t r = 0; r < rounds; r++)
		for (unsigned i = 0; i < WORDS; i++) {
			*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
			work[i] ^= (uint32_t)(*x >> 33);
		}
}

int test_snap(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint64_t a[2], x = 1;
	struct mp_info mi;
	const char *why = "";
	unsigned sent = 0;

	(void)bi;
	if (parse_args(arg, arglen, a, 2) || a[1] > 16)
		return EXIT_USAGE;
	if (mptable_find(&mi, &why) == 0) {
		sent = smp_start_aps(&mi);
		uint64_t start = rdtsc();
		while (smp_ap_count() < sent && rdtsc() - start < WAIT_TICKS)
			cpu_pause();
	}
	uint64_t per = a[0] / (a[1] + 1);
	for (uint64_t k = 0; k < a[1]; k++) {
		fill(&x, per);
		rt_printf("snap: part %llu cksum=%u\n", (unsigned long long)k,
			  cksum(work, sizeof(work)));
		outb(PICOVM_PORT_SNAPSHOT, 1);
	}
	fill(&x, a[0] - per * a[1]);
	rt_printf("snap: done cksum=%u aps=%u\n", cksum(work, sizeof(work)),
		  smp_ap_count());
	return 0;
}

/*
 * snapblk:CHUNKS:POINT: virtio-blk I/O across a snapshot.  Reads disk 0's
 * first CHUNKS chunks of 32 KiB, 8 requests in flight at a time, and
 * writes each chunk XOR 0x5a to the same offset in the second half; at
 * batch POINT it writes the snapshot port with its 8 reads in flight
 * (kicked, not yet completed).  Then reads the second half back.  Prints
 *     snapblk: snapshot at batch B
 *     snapblk: done read=C written=C2
 */
#define SB_CHUNK 32768u
#define SB_DEPTH 8u

static struct blk sblk;

static int sb_batch(uint8_t *buf, uint64_t first, unsigned n, bool snap,
		    struct cksum *ck)
{
	for (unsigned k = 0; k < n; k++)
		if (blk_submit(&sblk, VIRTIO_BLK_T_IN,
			       (first + k) * (SB_CHUNK / BLK_SECTOR),
			       buf + k * SB_CHUNK, SB_CHUNK, k) < 0)
			return -1;
	vq_kick(&sblk.q);
	if (snap)
		outb(PICOVM_PORT_SNAPSHOT, 1);
	for (unsigned k = 0; k < n; k++) {
		uint64_t tag;
		if (blk_wait(&sblk, VIRTIO_WAIT_LONG, &tag) != VIRTIO_BLK_S_OK)
			return -1;
	}
	cksum_update(ck, buf, (size_t)n * SB_CHUNK);
	return 0;
}

int test_snap_blk(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	static uint8_t *buf;
	uint64_t a[2];
	const char *why;
	struct cksum rd, wr;

	if (parse_args(arg, arglen, a, 2) || a[0] == 0)
		return EXIT_USAGE;
	if (blk_open(&sblk, bi, 0, &why)) {
		rt_printf("snapblk: no disk: %s\n", why);
		return 1;
	}
	if (!buf && !(buf = rt_alloc(SB_DEPTH * SB_CHUNK, 4096)))
		return 1;
	uint64_t half = a[0] * (SB_CHUNK / BLK_SECTOR);
	if (sblk.capacity < 2 * half) {
		rt_printf("snapblk: disk too small\n");
		return 1;
	}
	cksum_init(&rd);
	cksum_init(&wr);
	for (uint64_t c = 0, batch = 0; c < a[0]; batch++) {
		unsigned n = a[0] - c < SB_DEPTH ? (unsigned)(a[0] - c) : SB_DEPTH;
		if (batch == a[1])
			rt_printf("snapblk: snapshot at batch %llu\n",
				  (unsigned long long)batch);
		if (sb_batch(buf, c, n, batch == a[1], &rd) < 0) {
			rt_printf("snapblk: read failed at chunk %llu\n",
				  (unsigned long long)c);
			return 1;
		}
		for (unsigned k = 0; k < n; k++) {
			uint8_t *p = buf + k * SB_CHUNK;
			for (unsigned i = 0; i < SB_CHUNK; i++)
				p[i] ^= 0x5a;
			if (blk_io(&sblk, VIRTIO_BLK_T_OUT, half + (c + k) *
				   (SB_CHUNK / BLK_SECTOR), p, SB_CHUNK) !=
			    VIRTIO_BLK_S_OK) {
				rt_printf("snapblk: write failed\n");
				return 1;
			}
		}
		c += n;
	}
	for (uint64_t c = 0; c < a[0];) {
		unsigned n = a[0] - c < SB_DEPTH ? (unsigned)(a[0] - c) : SB_DEPTH;
		if (sb_batch(buf, a[0] + c, n, false, &wr) < 0)
			return 1;
		c += n;
	}
	rt_printf("snapblk: done read=%u written=%u\n", cksum_final(&rd),
		  cksum_final(&wr));
	return 0;
}

/*
 * vmgen: the VM generation ID across a snapshot.  Routes the SCI (IRQ 9)
 * to a counting vector, enables GPE 0 (the VM generation ID's), prints the
 * 16-byte ID at PICOVM_VMGENID_ADDR, writes the snapshot port and right
 * after it reads the GPE0 status: set in a restored VM (picovm raises it
 * before any vCPU runs), clear in the VM that runs on (snapshot.after =
 * continue) or without snapshot.path.  When set it waits for the SCI
 * (bounded), clears the bit and reads it again.  The snapshot port's
 * restore count is read before and after the write.  Prints
 *     vmgen: before id=HEX
 *     vmgen: after id=HEX gpe=0|1 sci=yes|no cleared=yes|no restores=A->B
 * and exits 1 when a raised GPE brought no SCI or would not clear.
 */
#define SCI_IRQ 9
#define SCI_VECTOR 0x49
#define GPE_EN (PICOVM_PORT_GPE0 + PICOVM_GPE0_LEN / 2)
#define GPE_BIT (1u << PICOVM_GPE_VMGENID)
#define SCI_WAIT_TICKS (20ULL * 1000 * 1000 * 1000)

static void print_id(const char *when)
{
	rt_printf("vmgen: %s id=%016llx%016llx", when,
		  (unsigned long long)mmio_read64(PICOVM_VMGENID_ADDR),
		  (unsigned long long)mmio_read64(PICOVM_VMGENID_ADDR + 8));
}

int test_vmgen(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	(void)bi, (void)arg, (void)arglen;
	if (irq_init(SCI_VECTOR) || ioapic_route(SCI_IRQ, SCI_VECTOR)) {
		rt_puts("vmgen: no interrupt route");
		return 1;
	}
	outb(GPE_EN, GPE_BIT);
	irq_enable(1);
	print_id("before");
	rt_puts("");
	uint8_t r0 = inb(PICOVM_PORT_SNAPSHOT);
	outb(PICOVM_PORT_SNAPSHOT, 1);
	bool gpe = inb(PICOVM_PORT_GPE0) & GPE_BIT, cleared = false;
	uint8_t r1 = inb(PICOVM_PORT_SNAPSHOT);
	if (gpe) {
		uint64_t t0 = rdtsc();
		while (!rt_irq_count && rdtsc() - t0 < SCI_WAIT_TICKS)
			cpu_pause();
		outb(PICOVM_PORT_GPE0, GPE_BIT);	/* write 1 to clear */
		cleared = !(inb(PICOVM_PORT_GPE0) & GPE_BIT);
	}
	irq_enable(0);
	ioapic_mask(SCI_IRQ);
	print_id("after");
	rt_printf(" gpe=%d sci=%s cleared=%s restores=%u->%u\n", gpe,
		  rt_irq_count ? "yes" : "no", cleared ? "yes" : "no", r0, r1);
	return gpe && (!rt_irq_count || !cleared) ? 1 : 0;
}
