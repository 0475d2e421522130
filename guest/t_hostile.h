/*
 * Hostile-guest tests against the VMM's virtio-blk (shared/notes/
 * hostile-guest.md), judged by picovm's error model: a request it can
 * parse but not serve gets IOERR/UNSUPP; anything that breaks the ring
 * gets DEVICE_NEEDS_RESET plus a configuration-change interrupt; queue
 * set-up it does not like is refused (QueueReady reads 0).
 *
 * Every case starts from a freshly initialised device (all features this
 * driver knows, queue size QueueNumMax) with the hostile context below,
 * returns H_PASS / H_FAIL / H_SKIP with a few words in h->why, and is
 * followed by the survival check: reset, re-initialise, read sectors 0-7
 * and compare them with the baseline read at the start.  The case's line
 *     hostile NAME: PASS (what happened)
 * is PASS only if both held.
 */
#ifndef PICOTEST_T_HOSTILE_H
#define PICOTEST_T_HOSTILE_H

#include <stdint.h>

#include "picotest.h"
#include "virtio/blk.h"

enum { H_PASS, H_FAIL, H_SKIP };

struct hctx {
	struct blk b;
	struct virtio_blk_outhdr *hdr;	/* a scratch request header */
	uint8_t *status;		/* scratch status bytes (64) */
	uint8_t *data;			/* 64 KiB scratch data */
	struct vring_desc *tab;		/* 2 pages for indirect tables */
	uint8_t *big;			/* 4 MiB: many requests' data */
	uint64_t ram_top;		/* first address past guest RAM */
	uint32_t baseline;		/* cksum of sectors 0-7 */
	char why[200];
};

typedef int hcase_fn(struct hctx *h);

struct hcase {
	const char *name;
	hcase_fn *run;
};

/* The cases, by file. */
extern const struct hcase hcases_vq[];		/* t_hostile_vq.c */
extern const unsigned hcases_vq_count;
extern const struct hcase hcases_setup[];	/* t_hostile_setup.c */
extern const unsigned hcases_setup_count;

/* Helpers (t_hostile.c). */
void hwhy(struct hctx *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Re-initialises with these features (offered & want) and queue size
 * (0: QueueNumMax).  0, or -1 with h->why set. */
int h_init(struct hctx *h, uint64_t want, unsigned qsize);
/* desc[i] = { addr, len, flags, next } on the request queue. */
void h_desc(struct hctx *h, unsigned i, uint64_t addr, uint32_t len,
	    uint16_t flags, uint16_t next);
/* A request header of type/sector in h->hdr, status byte cleared. */
void h_hdr(struct hctx *h, uint32_t type, uint64_t sector);
/* Posts head (one avail entry), publishes and notifies. */
void h_post(struct hctx *h, uint16_t head);

/* The status byte the device wrote (0xff: none yet). */
static inline uint8_t h_st(const struct hctx *h)
{
	return *(volatile const uint8_t *)h->status;
}

/* Re-initialises with all features between step(h, 0..n-1) and joins
 * their reasons; stops at the first step that does not pass. */
int h_steps(struct hctx *h, int (*step)(struct hctx *, unsigned), unsigned n);
/* Waits for any answer: a used entry or NEEDS_RESET pass (and say
 * which), silence fails. */
int h_expect_answer(struct hctx *h);
/* A read of sectors 0-7 on the running device (no reset) matches the
 * baseline: 0, or -1 with h->why set. */
int h_read_ok(struct hctx *h);

/* What the device did after the post. */
enum outcome { O_USED, O_NEEDS_RESET, O_NOTHING };
/* Waits up to `ticks` for a used entry or NEEDS_RESET. */
enum outcome h_wait(struct hctx *h, uint64_t ticks);
/* The verdicts most cases need: NEEDS_RESET with a config interrupt;
 * a used entry whose status byte (h->status[0]) is `want`. */
int h_expect_reset(struct hctx *h);
int h_expect_status(struct hctx *h, int want);
/* Refused queue set-up: writes QueueNum/addresses, QueueReady = 1, and
 * returns 1 if QueueReady then reads 0 (leaves it 0 either way). */
int h_queue_refused(struct hctx *h, uint32_t num, uint64_t desc,
		    uint64_t avail, uint64_t used);

#endif
