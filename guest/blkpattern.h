/*
 * The data blk-write, blk-rw-verify and blk-durable write, shared with the
 * host tool tools/blkpattern.c that the test scripts use to regenerate
 * it:  byte i of a run (i = 0 at the run's first sector) is
 *
 *     (SEED + 31 * i + i / 512) mod 256
 *
 * (i / 512 rounds down), so every sector differs from its neighbours
 * and a misplaced sector shows.  Plain C, no headers: both sides build
 * it.
 */
#ifndef PICOTEST_BLKPATTERN_H
#define PICOTEST_BLKPATTERN_H

static inline unsigned char blk_pattern(unsigned long long seed,
					unsigned long long i)
{
	return (unsigned char)((seed + 31 * i + i / 512) & 0xff);
}

#endif
