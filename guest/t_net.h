/*
 * Shared pieces of the virtio-net tests (t_net*.c): frame layout helpers,
 * test frames, durations, the stop frame.
 *
 * Test frames between the host tools (tests/tools/pvnet.c) and the guest
 * use ethertype 0x88b5 (IEEE local experimental); their payload starts
 * with an ASCII tag and a NUL ("big", "small", "flood", "after", "echo",
 * ...).  A frame tagged "picotest-stop" ends the tests that run until
 * told (net-responder, net-echo, net-bench rx/pingpong, net-starve).
 */
#ifndef PICOTEST_T_NET_H
#define PICOTEST_T_NET_H

#include <stdint.h>

#include "picotest.h"
#include "virtio/net.h"

#define ETHERTYPE_TEST	0x88b5
#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_ARP	0x0806
#define TNET_STOP_TAG	"picotest-stop"

static inline uint16_t get16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put32be(uint8_t *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
}

/* Opens virtio-net device 0; on failure prints "TEST: no usable
 * virtio-net device: WHY" and returns -1. */
int tnet_open(struct vnet *v, const struct bootinfo *bi, const char *test);
/* A frame buffer of VNET_MAX_FRAME bytes (from rt_alloc, not .bss). */
uint8_t *tnet_frame_buf(void);
/* "xx:xx:xx:xx:xx:xx" into buf (18 bytes). */
void tnet_mac_str(char *buf, const uint8_t *mac);
/* Non-zero if f is a test frame (ethertype 0x88b5) whose payload starts
 * with tag and a NUL. */
int tnet_tagged(const uint8_t *f, uint32_t len, const char *tag);
/* Builds a test frame: dst, src, 0x88b5, tag + NUL, then the payload
 * pattern (byte i of the frame = i * 7 + seed) up to len. */
void tnet_test_frame(uint8_t *f, uint32_t len, const uint8_t *dst,
		     const uint8_t *src, const char *tag, uint8_t seed);
/* The TSC rate: rt_tsc_hz() (CPUID), else
 * 2.1 GHz, the build machines' rate; *known says which. */
uint64_t tnet_tsc_hz(int *known);
/* A duration: "N" seconds (via tnet_tsc_hz) or "Nt" TSC ticks; "0" or
 * empty: forever (*ticks = 0).  0, or -1 if malformed. */
int tnet_parse_duration(const char *s, size_t n, uint64_t *ticks);
/* The Internet checksum of n bytes added to sum (not folded, not
 * inverted); tnet_csum_fold folds and inverts. */
uint32_t tnet_csum_add(const void *p, size_t n, uint32_t sum);
uint16_t tnet_csum_fold(uint32_t sum);
/* Completes a VIRTIO_NET_HDR_F_NEEDS_CSUM frame's checksum (GUEST_CSUM):
 * 0, or -1 if csum_start/csum_offset do not fit the frame. */
int tnet_complete_csum(uint8_t *f, uint32_t len, const struct virtio_net_hdr *h);

#endif
