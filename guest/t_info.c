/*
 * info: what the loader handed over, in a form a test script can compare
 * with what it configured (cksum values match `cksum` on the host).
 */
#include <stdint.h>

#include "picotest.h"

#define MAPPED_LIMIT (4ULL << 30)

int test_info(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	uint64_t ram = 0;

	(void)arg, (void)arglen;
	rt_printf("boot: %s\n", bi->kind);
	rt_printf("cmdline: len=%zu cksum=%u\n", bi->cmdline_len,
		  cksum(bi->cmdline, bi->cmdline_len));
	if (bi->initrd_size == 0)
		rt_puts("initrd: none");
	else if (bi->initrd_addr > MAPPED_LIMIT ||
		 bi->initrd_size > MAPPED_LIMIT - bi->initrd_addr)
		rt_printf("initrd: len=%llu unmapped at %#llx\n",
			  (unsigned long long)bi->initrd_size,
			  (unsigned long long)bi->initrd_addr);
	else
		rt_printf("initrd: len=%llu cksum=%u\n",
			  (unsigned long long)bi->initrd_size,
			  cksum((const void *)bi->initrd_addr,
				(size_t)bi->initrd_size));
	for (unsigned i = 0; i < bi->e820_count; i++) {
		const struct e820_entry *e = &bi->e820[i];

		rt_printf("e820: %#llx-%#llx %u\n",
			  (unsigned long long)e->addr,
			  (unsigned long long)(e->addr + e->size), e->type);
		if (e->type == E820_RAM)
			ram += e->size;
	}
	rt_printf("e820: total-ram=%llu\n", (unsigned long long)ram);
	return 0;
}
