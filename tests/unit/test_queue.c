/*
 * Unit tests of the split-virtqueue walker (virtio/queue.c), no /dev/kvm:
 * guest RAM is an ordinary mapping, the test plays the driver.  Every
 * reason vq_enable() and vq_pop() give for refusing a ring has one check
 * (the exact reason string), then the layouts a driver may use are checked
 * to be accepted and gathered right.
 *
 * Prints "ok    NAME" or "FAIL  NAME: why" per check; exits 1 if any
 * failed.  tests/t-unit.sh turns the lines into test results.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../virtio/queue.h"
#include "../../virtio/virtio.h"
#include "../../vm/memory.h"

/* Guest-physical layout of the test queue. */
#define DESC 0x1000ULL
#define AVAIL 0x3000ULL
#define USED 0x4000ULL
#define ITABLE 0x8000ULL	/* indirect tables */
#define BUF 0x10000ULL		/* data buffers */
#define RAM (2ULL << 30)	/* 2 GiB, MAP_NORESERVE: mostly never touched */

static struct guest_mem mem;

static uint8_t *g(uint64_t gpa)
{
	return mem.host + gpa;
}

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t *d = g(table + 16ULL * i);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void put16(uint64_t gpa, uint16_t v)
{
	memcpy(g(gpa), &v, 2);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, g(gpa), 2);
	return v;
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, g(gpa), 4);
	return v;
}

/* A fresh, enabled queue of num entries with empty rings. */
static void setup(struct vq *q, uint16_t num, bool event_idx, bool indirect)
{
	const char *why = NULL;

	memset(g(0), 0, BUF + 0x10000);
	vq_reset(q);
	q->num = num;
	q->desc_gpa = DESC;
	q->avail_gpa = AVAIL;
	q->used_gpa = USED;
	if (vq_enable(q, &mem, VQ_MAX_SIZE, event_idx, indirect, &why) < 0) {
		printf("FAIL  setup: vq_enable refused the test layout: %s\n", why);
		check_failures++;
	}
}

/* Makes head the next available chain. */
static void post(struct vq *q, uint16_t head)
{
	uint16_t idx = get16(AVAIL + 2);

	put16(AVAIL + 4 + 2ULL * (idx % q->num), head);
	put16(AVAIL + 2, (uint16_t)(idx + 1));
}

/* vq_pop() must refuse the posted chain with exactly this reason. */
static void expect_refusal(const char *name, struct vq *q, const char *reason)
{
	struct vq_chain c;
	const char *why = NULL;
	int ret = vq_pop(q, &c, &why);

	check(name, ret == -1 && why && strcmp(why, reason) == 0,
	      "vq_pop returned %d, reason \"%s\", expected -1 and \"%s\"", ret,
	      why ? why : "(none)", reason);
}

static void expect_enable_refusal(const char *name, uint16_t num, uint16_t max,
				  uint64_t desc, uint64_t avail, uint64_t used,
				  const char *reason)
{
	struct vq q;
	const char *why = NULL;

	vq_reset(&q);
	q.num = num;
	q.desc_gpa = desc;
	q.avail_gpa = avail;
	q.used_gpa = used;
	int ret = vq_enable(&q, &mem, max, false, false, &why);
	check(name, ret == -1 && why && strcmp(why, reason) == 0 && !q.ready,
	      "vq_enable returned %d, reason \"%s\", expected -1 and \"%s\"",
	      ret, why ? why : "(none)", reason);
}

static void enable_refusals(void)
{
	const char *size = "queue size is 0, not a power of two, or above QueueNumMax";

	expect_enable_refusal("enable: size 0", 0, 256, DESC, AVAIL, USED, size);
	expect_enable_refusal("enable: size 6 (not a power of two)", 6, 256, DESC,
			      AVAIL, USED, size);
	expect_enable_refusal("enable: size above QueueNumMax", 16, 8, DESC, AVAIL,
			      USED, size);
	expect_enable_refusal("enable: descriptor table misaligned", 8, 256,
			      DESC + 8, AVAIL, USED, "misaligned ring");
	expect_enable_refusal("enable: avail ring misaligned", 8, 256, DESC,
			      AVAIL + 1, USED, "misaligned ring");
	expect_enable_refusal("enable: used ring misaligned", 8, 256, DESC, AVAIL,
			      USED + 2, "misaligned ring");
	expect_enable_refusal("enable: descriptor table past the end of RAM", 8,
			      256, RAM - 64, AVAIL, USED, "ring outside guest RAM");
	expect_enable_refusal("enable: used ring in the MMIO gap", 8, 256, DESC,
			      AVAIL, MEM_HOLE_START, "ring outside guest RAM");
	expect_enable_refusal("enable: avail ring address wraps 64 bits", 8, 256,
			      DESC, UINT64_MAX - 3, USED, "ring outside guest RAM");
	expect_enable_refusal("enable: descriptor table overlaps the avail ring",
			      8, 256, DESC, DESC + 64, USED, "rings overlap");
	expect_enable_refusal("enable: avail and used rings overlap", 8, 256, DESC,
			      AVAIL, AVAIL + 4, "rings overlap");
}

static void pop_refusals(void)
{
	struct vq q;

	setup(&q, 8, false, false);
	put16(AVAIL + 2, 9);
	expect_refusal("pop: avail index moved more than the queue size", &q,
		       "avail index moved more than the queue size");

	setup(&q, 8, false, false);
	post(&q, 8);
	expect_refusal("pop: head index out of range", &q, "head index out of range");

	setup(&q, 8, false, false);
	put_desc(DESC, 0, BUF, 16, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	post(&q, 0);
	struct vq_chain c;
	const char *why = NULL;
	int first = vq_pop(&q, &c, &why);
	check("pop: a chain posted once is taken", first == 1, "vq_pop: %d (%s)",
	      first, first < 0 ? why : "");
	expect_refusal("pop: head posted twice", &q, "head posted twice");

	setup(&q, 8, false, false);
	put_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(DESC, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
	post(&q, 0);
	expect_refusal("pop: next loop A->B->A", &q,
		       "descriptor chain loops or exceeds the queue size");

	setup(&q, 8, false, false);
	put_desc(DESC, 3, BUF, 16, VRING_DESC_F_NEXT, 3);
	post(&q, 3);
	expect_refusal("pop: descriptor pointing at itself", &q,
		       "descriptor chain loops or exceeds the queue size");

	setup(&q, 8, false, false);
	put_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 8);
	post(&q, 0);
	expect_refusal("pop: next index out of range", &q, "next index out of range");

	const char *ram = "buffer not entirely in guest RAM";
	setup(&q, 8, false, false);
	put_desc(DESC, 0, RAM - 8, 16, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	expect_refusal("pop: buffer running past the end of RAM", &q, ram);

	setup(&q, 8, false, false);
	put_desc(DESC, 0, UINT64_MAX - 7, 16, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	expect_refusal("pop: buffer address + length wraps 64 bits", &q, ram);

	setup(&q, 8, false, false);
	put_desc(DESC, 0, BUF, 0xffffffff, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	expect_refusal("pop: buffer length 0xffffffff past RAM", &q, ram);

	setup(&q, 8, false, false);
	put_desc(DESC, 0, MEM_HOLE_START + 0x1000, 16, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	expect_refusal("pop: buffer in the MMIO gap (device windows)", &q, ram);

	setup(&q, 8, false, false);
	put_desc(DESC, 0, BUF, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	put_desc(DESC, 1, BUF, 16, VRING_DESC_F_NEXT, 2);
	put_desc(DESC, 2, BUF, 1, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	expect_refusal("pop: readable buffer after a writable one", &q,
		       "device-readable buffer after a writable one");

	setup(&q, 8, false, false);
	put_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(DESC, 1, BUF, 0, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	expect_refusal("pop: zero-length final descriptor", &q,
		       "zero-length final descriptor");

	/* 3 x 1.5 GiB, all of it the same RAM: more than used.len can say. */
	setup(&q, 8, false, false);
	for (unsigned i = 0; i < 3; i++)
		put_desc(DESC, i, 0x100000, 0x60000000,
			 (uint16_t)(VRING_DESC_F_WRITE | (i < 2 ? VRING_DESC_F_NEXT : 0)),
			 (uint16_t)(i + 1));
	post(&q, 0);
	expect_refusal("pop: chain larger than 4 GiB", &q,
		       "descriptor chain larger than 4 GiB");

	/* 200 direct descriptors, then an indirect table of 200. */
	setup(&q, 256, false, true);
	for (unsigned i = 0; i < 200; i++)
		put_desc(DESC, i, BUF, 1, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	put_desc(DESC, 200, ITABLE, 200 * 16, VRING_DESC_F_INDIRECT, 0);
	for (unsigned i = 0; i < 200; i++)
		put_desc(ITABLE, i, BUF, 1,
			 (uint16_t)(VRING_DESC_F_WRITE | (i < 199 ? VRING_DESC_F_NEXT : 0)),
			 (uint16_t)(i + 1));
	post(&q, 0);
	expect_refusal("pop: more segments than VQ_MAX_SEGS", &q,
		       "descriptor chain too long");
}

static void indirect_refusals(void)
{
	struct vq q;

	setup(&q, 8, false, false);
	put_desc(DESC, 0, ITABLE, 32, VRING_DESC_F_INDIRECT, 0);
	post(&q, 0);
	expect_refusal("indirect: without the feature", &q,
		       "indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC");

	setup(&q, 8, false, true);
	put_desc(DESC, 0, ITABLE, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	put_desc(DESC, 1, BUF, 16, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	expect_refusal("indirect: INDIRECT and NEXT", &q,
		       "descriptor has both INDIRECT and NEXT");

	const char *len = "indirect table length 0, not a multiple of 16, or "
			  "longer than the queue";
	static const struct { const char *name; uint32_t len; } bad_len[] = {
		{ "indirect: table length 0", 0 },
		{ "indirect: table length not a multiple of 16", 24 },
		{ "indirect: table longer than the queue", 9 * 16 },
	};
	for (unsigned i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
		setup(&q, 8, false, true);
		put_desc(DESC, 0, ITABLE, bad_len[i].len, VRING_DESC_F_INDIRECT, 0);
		post(&q, 0);
		expect_refusal(bad_len[i].name, &q, len);
	}

	setup(&q, 8, false, true);
	put_desc(DESC, 0, RAM - 16, 32, VRING_DESC_F_INDIRECT, 0);
	post(&q, 0);
	expect_refusal("indirect: table outside guest RAM", &q,
		       "indirect table outside guest RAM");

	setup(&q, 8, false, true);
	put_desc(DESC, 0, ITABLE, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(ITABLE, 0, ITABLE + 0x100, 32, VRING_DESC_F_INDIRECT, 0);
	post(&q, 0);
	expect_refusal("indirect: nested indirect table", &q,
		       "nested indirect descriptor");

	setup(&q, 8, false, true);
	put_desc(DESC, 0, ITABLE, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(ITABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(ITABLE, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
	post(&q, 0);
	expect_refusal("indirect: loop inside the table", &q,
		       "loop in an indirect table");

	setup(&q, 8, false, true);
	put_desc(DESC, 0, ITABLE, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(ITABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
	post(&q, 0);
	expect_refusal("indirect: next index past the table", &q,
		       "indirect next index out of range");

	setup(&q, 8, false, true);
	put_desc(DESC, 0, ITABLE, 32, VRING_DESC_F_INDIRECT, 0);
	put_desc(ITABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(ITABLE, 1, BUF, 0, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	expect_refusal("indirect: zero-length final descriptor", &q,
		       "zero-length final descriptor");
}

/* Pops the posted chain; checks it has the given shape. */
static void expect_chain(const char *name, struct vq *q, uint16_t head,
			 unsigned nout, unsigned nin, uint64_t out_len,
			 uint64_t in_len, uint64_t first_gpa)
{
	struct vq_chain c;
	const char *why = NULL;
	int ret = vq_pop(q, &c, &why);

	check(name, ret == 1 && c.head == head && c.nout == nout &&
			    c.nin == nin && c.out_len == out_len &&
			    c.in_len == in_len &&
			    c.iov[0].iov_base == (void *)g(first_gpa),
	      "vq_pop %d (%s): head %u, %u out / %u in, %llu / %llu bytes", ret,
	      ret < 0 ? why : "-", c.head, c.nout, c.nin,
	      (unsigned long long)c.out_len, (unsigned long long)c.in_len);
}

static void accepted(void)
{
	struct vq q;
	struct vq_chain c;
	const char *why = NULL;

	setup(&q, 8, false, false);
	check("accept: an empty ring pops nothing", vq_pop(&q, &c, &why) == 0,
	      "vq_pop did not return 0");

	/* A block request: header, data, status. */
	setup(&q, 8, false, false);
	put_desc(DESC, 5, BUF, 16, VRING_DESC_F_NEXT, 2);
	put_desc(DESC, 2, BUF + 0x1000, 4096,
		 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 7);
	put_desc(DESC, 7, BUF + 0x3000, 1, VRING_DESC_F_WRITE, 0);
	post(&q, 5);
	expect_chain("accept: readable then writable, any descriptor order", &q,
		     5, 1, 2, 16, 4097, BUF);

	setup(&q, 8, false, false);
	put_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	put_desc(DESC, 1, BUF + 0x100, 0, VRING_DESC_F_NEXT, 2);
	put_desc(DESC, 2, BUF + 0x200, 8, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	expect_chain("accept: an empty descriptor inside a chain is skipped", &q,
		     0, 1, 1, 16, 8, BUF);

	setup(&q, 8, false, true);
	put_desc(DESC, 1, ITABLE, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	put_desc(ITABLE, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
	put_desc(ITABLE, 2, BUF + 0x1000, 512,
		 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	put_desc(ITABLE, 1, BUF + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	post(&q, 1);
	expect_chain("accept: an indirect table", &q, 1, 1, 2, 16, 513, BUF);

	setup(&q, 8, false, true);
	put_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 4);
	put_desc(DESC, 4, ITABLE, 16, VRING_DESC_F_INDIRECT, 0);
	put_desc(ITABLE, 0, BUF + 0x1000, 64, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	expect_chain("accept: direct descriptors, then an indirect table", &q, 0,
		     1, 1, 16, 64, BUF);

	setup(&q, 8, false, false);
	for (unsigned i = 0; i < 8; i++)
		put_desc(DESC, i, BUF + 16ULL * i, 16,
			 (uint16_t)(VRING_DESC_F_WRITE | (i < 7 ? VRING_DESC_F_NEXT : 0)),
			 (uint16_t)(i + 1));
	post(&q, 0);
	expect_chain("accept: a chain as long as the queue", &q, 0, 0, 8, 0, 128,
		     BUF);

	/* Indices wrap at 65536: the driver's and ours. */
	setup(&q, 8, false, false);
	q.last_avail = q.used_idx = q.notified_used = 65535;
	put16(AVAIL + 2, 65535);
	put16(USED + 2, 65535);
	put_desc(DESC, 3, BUF, 8, VRING_DESC_F_WRITE, 0);
	post(&q, 3);
	check("accept: avail index wrapping from 65535 to 0",
	      get16(AVAIL + 2) == 0 && vq_pop(&q, &c, &why) == 1 && c.head == 3,
	      "not taken");
	vq_push(&q, 3, 8);
	check("push: the used element and index are published",
	      get32(USED + 4 + 8 * 7) == 3 && get32(USED + 4 + 8 * 7 + 4) == 8 &&
		      get16(USED + 2) == 0 && q.ninflight == 0,
	      "used idx %u, element {%u, %u}", get16(USED + 2),
	      get32(USED + 4 + 8 * 7), get32(USED + 4 + 8 * 7 + 4));

	/* Interrupt suppression without EVENT_IDX: the NO_INTERRUPT flag. */
	setup(&q, 8, false, false);
	put_desc(DESC, 0, BUF, 8, VRING_DESC_F_WRITE, 0);
	post(&q, 0);
	vq_pop(&q, &c, &why);
	vq_push(&q, 0, 8);
	put16(AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
	check("notify: NO_INTERRUPT suppresses the interrupt",
	      !vq_should_notify(&q), "asked for an interrupt");
	check("notify: nothing new used, no interrupt", !vq_should_notify(&q),
	      "asked for an interrupt");
	post(&q, 0);
	vq_pop(&q, &c, &why);
	vq_push(&q, 0, 8);
	put16(AVAIL, 0);
	check("notify: without the flag, one interrupt per batch",
	      vq_should_notify(&q) && !vq_should_notify(&q), "wrong answers");

	/* EVENT_IDX: the driver asks to be told once used passes used_event. */
	setup(&q, 8, true, false);
	for (unsigned i = 0; i < 3; i++) {
		put_desc(DESC, i, BUF + 16ULL * i, 8, VRING_DESC_F_WRITE, 0);
		post(&q, (uint16_t)i);
	}
	put16(AVAIL + 4 + 2 * 8, 2);	/* used_event: after the 3rd */
	vq_pop(&q, &c, &why);
	vq_push(&q, c.head, 8);
	check("event_idx: used below used_event: no interrupt",
	      !vq_should_notify(&q), "asked for an interrupt");
	vq_pop(&q, &c, &why);
	vq_push(&q, c.head, 8);
	vq_pop(&q, &c, &why);
	vq_push(&q, c.head, 8);
	check("event_idx: used passes used_event: interrupt",
	      vq_should_notify(&q), "no interrupt");
	check("event_idx: kicks re-enabled at the next avail entry",
	      !vq_enable_kicks(&q) && get16(USED + 4 + 8 * 8) == 3,
	      "avail_event %u", get16(USED + 4 + 8 * 8));
	post(&q, 0);
	check("event_idx: buffers posted meanwhile are reported",
	      vq_enable_kicks(&q), "not reported");

	/* A kick after n more buffers (netstream.c waiting for room): the
	 * driver's vring_need_event() says yes at the n-th only. */
	uint16_t a0 = get16(AVAIL + 2), first = 0;
	check("event_idx: kick after 4 more buffers: avail_event 3 past the avail index",
	      !vq_enable_kicks_after(&q, 4) &&
		      get16(USED + 4 + 8 * 8) == (uint16_t)(a0 + 3),
	      "avail_event %u, avail index %u", get16(USED + 4 + 8 * 8), a0);
	for (uint16_t k = 1; k <= 6 && !first; k++) {
		uint16_t ev = get16(USED + 4 + 8 * 8), old = (uint16_t)(a0 + k - 1),
			 now = (uint16_t)(a0 + k);
		if ((uint16_t)(now - ev - 1) < (uint16_t)(now - old))
			first = k;
	}
	check("event_idx: the driver kicks at the 4th new buffer, not before",
	      first == 4, "first kick at buffer %u", first);
	setup(&q, 8, false, false);
	put16(USED + 4 + 8 * 8, 0x1234);
	check("no event_idx: a kick after n buffers cannot be asked for (nothing written)",
	      !vq_enable_kicks_after(&q, 4) && get16(USED + 4 + 8 * 8) == 0x1234,
	      "avail_event %#x", get16(USED + 4 + 8 * 8));
}

int main(void)
{
	if (gmem_init(&mem, RAM, false) < 0) {
		printf("FAIL  setup: cannot map %llu bytes of test RAM\n",
		       (unsigned long long)RAM);
		return 1;
	}
	enable_refusals();
	pop_refusals();
	indirect_refusals();
	accepted();
	gmem_free(&mem);
	return check_failures ? 1 : 0;
}
