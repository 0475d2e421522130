/*
 * Helpers shared by the virtio-net tests (t_net.h).
 */
#include <stdint.h>

#include "rt/cpu.h"
#include "rt/mem.h"
#include "t_net.h"

int tnet_open(struct vnet *v, const struct bootinfo *bi, const char *test)
{
	const char *why;

	if (vnet_open(v, bi, 0, &why) == 0)
		return 0;
	rt_printf("%s: no usable virtio-net device: %s\n", test, why);
	return -1;
}

uint8_t *tnet_frame_buf(void)
{
	return rt_alloc(VNET_MAX_FRAME, 64);
}

void tnet_mac_str(char *buf, const uint8_t *mac)
{
	rt_snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		    mac[2], mac[3], mac[4], mac[5]);
}

int tnet_tagged(const uint8_t *f, uint32_t len, const char *tag)
{
	size_t n = strlen(tag) + 1;

	return len >= ETH_HLEN + n && get16be(f + 12) == ETHERTYPE_TEST &&
	       memcmp(f + ETH_HLEN, tag, n) == 0;
}

void tnet_test_frame(uint8_t *f, uint32_t len, const uint8_t *dst,
		     const uint8_t *src, const char *tag, uint8_t seed)
{
	size_t n = strlen(tag) + 1;

	for (uint32_t i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seed);
	memcpy(f, dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, src, ETH_ALEN);
	put16be(f + 12, ETHERTYPE_TEST);
	if (len >= ETH_HLEN + n)
		memcpy(f + ETH_HLEN, tag, n);
}

uint64_t tnet_tsc_hz(int *known)
{
	uint64_t hz = rt_tsc_hz();

	*known = hz != 0;
	return hz ? hz : 2100000000ULL;
}

int tnet_parse_duration(const char *s, size_t n, uint64_t *ticks)
{
	uint64_t v;
	int known;

	*ticks = 0;
	if (n == 0)
		return 0;
	if (s[n - 1] == 't')
		return parse_u64(s, n - 1, ticks);
	if (parse_u64(s, n, &v) || v > 1000000000ULL)
		return -1;
	*ticks = v * tnet_tsc_hz(&known);
	return 0;
}

uint32_t tnet_csum_add(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;
	uint64_t s = sum;

	for (; n >= 2; n -= 2, b += 2)
		s += (uint32_t)(b[0] << 8 | b[1]);
	if (n)
		s += (uint32_t)b[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t tnet_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int tnet_complete_csum(uint8_t *f, uint32_t len, const struct virtio_net_hdr *h)
{
	uint32_t start = h->csum_start, at = start + h->csum_offset;

	if (!(h->flags & VNET_HDR_F_NEEDS_CSUM))
		return 0;
	if (start >= len || at + 2 > len)
		return -1;
	/* The field holds the pseudo-header sum already. */
	put16be(f + at, tnet_csum_fold(tnet_csum_add(f + start, len - start, 0)));
	return 0;
}
