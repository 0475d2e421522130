/*
 * libFuzzer target: the kernel-image probes (boot/loader.c format
 * detection, boot/elf.c and boot/bzimage.c header parsing) and, for an
 * image they accept, its placement into guest RAM (boot_place(): segments,
 * page tables, boot_params or hvm_start_info, e820).
 *
 * Input: 1 byte of parameters (kernel.format, acpi), then the kernel
 * image, written to a memfd that boot_probe() opens by its /proc path.
 * Guest RAM is one 64 MiB mapping reused across inputs; gmem_ptr() keeps
 * every write inside it, so ASan sees any that escapes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../boot/boot.h"
#include "../../vm/log.h"

#define RAM (64ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	static struct guest_mem m;

	if (fd < 0) {
		fd = memfd_create("fuzz-kernel", MFD_CLOEXEC);
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || null < 0)
			abort();
		log_set_fd(null);	/* the probes' messages */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		m.host = mmap(NULL, RAM, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m.host == MAP_FAILED)
			abort();
		m.size = m.low_size = RAM;
	}
	if (size < 1)
		return 0;
	if (ftruncate(fd, 0) < 0 ||
	    pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
		abort();

	struct config c;
	memset(&c, 0, sizeof(c));
	c.file = (char *)"fuzz.conf";
	c.kernel = path;
	c.kernel_format = (enum kernel_format)(data[0] & 3);
	c.acpi = data[0] & 4;
	c.memory = RAM;
	c.vcpus = 1;
	c.cmdline = (char *)"console=ttyS0";

	struct boot_plan p;
	struct boot_entry e;
	if (boot_probe(&c, c.cmdline, &p) == 0)
		(void)boot_place(&c, &p, &m, &e);
	boot_plan_free(&p);
	return 0;
}
