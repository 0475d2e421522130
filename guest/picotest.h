/*
 * picotest: the test guest.  The kernel command line word picotest=NAME
 * or picotest=NAME:ARG picks one test from the table in picotest.c; its
 * return value is the exit status written to picovm's exit port.
 *
 * To add a test: write `int test_x(const struct bootinfo *bi, const char
 * *arg, size_t arglen)` (arg is NULL for a test without ":ARG"), declare
 * it here and add a row to the table.
 */
#ifndef PICOTEST_H
#define PICOTEST_H

#include <stddef.h>
#include <stdint.h>

#include "rt/rt.h"

/* Exit status for a missing or unknown test or a malformed argument. */
#define EXIT_USAGE 99

typedef int test_fn(const struct bootinfo *bi, const char *arg,
		    size_t arglen);

test_fn test_info;	/* t_info.c */
test_fn test_smp;	/* t_smp.c */
test_fn test_snap;	/* t_snap.c */
test_fn test_snap_blk;
test_fn test_vmgen;
test_fn test_snap_io;	/* t_snapio.c */
test_fn test_snap_timer;	/* t_snaptimer.c */
test_fn test_echo;	/* t_serial.c */
test_fn test_flood;
test_fn test_print;
test_fn test_uart;
test_fn test_serial_irq;	/* t_serial_irq.c */
test_fn test_pit;	/* t_pit.c */
test_fn test_snap_pit;
test_fn test_blk_info;	/* t_blk.c */
test_fn test_blk_read;
test_fn test_blk_write;
test_fn test_blk_write_noflush;
test_fn test_blk_durable;
test_fn test_blk_rw_verify;
test_fn test_blk_discard;
test_fn test_blk_zeroes;
test_fn test_blk_ro_write;
test_fn test_blk_oob;
test_fn test_blk_irq;	/* t_blk_irq.c */
test_fn test_blk_bench;	/* t_bench.c */
test_fn test_hostile_all;	/* t_hostile.c */
test_fn test_vcon_hello;	/* t_vcon.c */
test_fn test_vcon_echo;
test_fn test_vcon_flood;
test_fn test_net_info;		/* t_net.c */
test_fn test_net_responder;
test_fn test_net_echo;
test_fn test_net_rx_small;
test_fn test_net_starve;
test_fn test_net_reset;
test_fn test_net_bench;		/* t_net_bench.c */
test_fn test_net_kickbatch;	/* t_net_kick.c */
test_fn test_net_trickle;
test_fn test_net_tx_hostile;	/* t_net_hostile.c */
test_fn test_blk_huge;		/* t_blk_big.c */
test_fn test_blk_fair;
test_fn test_blk_flood;
test_fn test_net_offload_loop;	/* t_net_link.c */
test_fn test_net_link_watch;
test_fn test_net_tso;		/* t_net_tso.c */
test_fn test_gdb;		/* t_gdb.c */
test_fn test_gdb_smp;
test_fn test_com2;

/* A hostile case by its name (t_hostile.c): its exit status, or -1 if
 * there is no case of that name. */
int test_hostile_named(const struct bootinfo *bi, const char *name,
		       size_t len);

/* Splits arg at ':' into exactly n numbers (decimal or 0x hex).  0, or
 * -1 after printing "picotest: bad arguments 'ARG'". */
int parse_args(const char *arg, size_t arglen, uint64_t *out, unsigned n);

#endif
