/* Kernel and initrd loading: probe (before any VM exists) and place; see
 * boot.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "bytes.h"
#include "layout.h"
#include "../vm/log.h"

#define PAGE 4096ULL

int pread_full(int fd, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *b = buf;

	while (len) {
		size_t chunk = len > (1U << 30) ? (1U << 30) : (size_t)len;
		ssize_t n = pread(fd, b, chunk, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		b += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* Opens a regular, non-empty file; prints why not and returns -1.
 * O_NONBLOCK: a FIFO put there since `check` must not hang the open (only
 * pread() follows, which a regular file serves the same either way). */
static int open_image(const char *what, const char *path, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		log_err("%s: cannot open %s: %s", path, what, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_err("%s: %s is not a regular file", path, what);
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		log_err("%s: %s is empty", path, what);
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

static const char *format_name(enum kernel_format f)
{
	switch (f) {
	case KERNEL_FORMAT_ELF: return "64-bit ELF";
	case KERNEL_FORMAT_PVH: return "PVH ELF";
	case KERNEL_FORMAT_BZIMAGE: return "bzImage";
	case KERNEL_FORMAT_AUTO: break;
	}
	return "auto";
}

static int probe_kernel(const struct config *c, struct boot_plan *p)
{
	uint8_t head[HDR_PROBE_SIZE];
	uint64_t size;
	const char *path = c->kernel;

	p->kernel_fd = open_image("kernel", path, &size);
	if (p->kernel_fd < 0)
		return -1;
	p->kernel_size = size;
	if (size > BOOT_MAX_KERNEL_SIZE) {
		log_err("%s: kernel image is %llu MiB; picovm refuses kernels "
			"over %llu MiB", path, (unsigned long long)(size >> 20),
			(unsigned long long)(BOOT_MAX_KERNEL_SIZE >> 20));
		return -1;
	}
	memset(head, 0, sizeof(head));
	uint64_t want = size < sizeof(head) ? size : sizeof(head);
	if (pread_full(p->kernel_fd, head, want, 0) < 0) {
		log_err("%s: cannot read kernel: %s", path, strerror(errno));
		return -1;
	}
	enum kernel_format f = c->kernel_format;
	if (f == KERNEL_FORMAT_AUTO) {
		if (elf_is_elf(head, size))
			f = elf_has_pvh_note(p->kernel_fd, size) ?
				KERNEL_FORMAT_PVH : KERNEL_FORMAT_ELF;
		else if (bzimage_is_bzimage(head, size))
			f = KERNEL_FORMAT_BZIMAGE;
		else {
			log_err("%s: not a kernel image picovm can boot: neither "
				"an ELF file nor a bzImage", path);
			return -1;
		}
	}
	p->format = f;
	if (f == KERNEL_FORMAT_BZIMAGE)
		return bzimage_probe(path, p->kernel_fd, size, p);
	return elf_probe(path, p->kernel_fd, size, f == KERNEL_FORMAT_PVH, p);
}

int boot_probe(const struct config *c, const char *cmdline,
	       struct boot_plan *p)
{
	uint64_t low = c->memory < MEM_HOLE_START ? c->memory : MEM_HOLE_START;

	memset(p, 0, sizeof(*p));
	p->kernel_fd = p->initrd_fd = -1;
	p->cmdline = cmdline;
	p->acpi = c->acpi;
	if (probe_kernel(c, p) < 0)
		return -1;
	size_t cmdlen = strlen(cmdline);
	if (cmdlen > p->cmdline_max || cmdlen >= BOOT_CMDLINE_MAX) {
		log_err("%s: cmdline: %zu bytes%s is longer than the kernel's "
			"limit of %llu", c->file, cmdlen,
			cmdlen != strlen(c->cmdline) ? " (with the entries "
			"picovm appends, picovm(1))" : "",
			(unsigned long long)p->cmdline_max);
		return -1;
	}
	if (p->kernel_end > low) {
		log_err("%s: memory: %llu MiB is too small for kernel %s (%s), "
			"which needs memory up to 0x%llx", c->file,
			(unsigned long long)(c->memory >> 20), c->kernel,
			format_name(p->format), (unsigned long long)p->kernel_end);
		return -1;
	}
	if (!c->initrd)
		return 0;
	p->initrd_fd = open_image("initrd", c->initrd, &p->initrd_size);
	if (p->initrd_fd < 0)
		return -1;
	/* As high as possible below the kernel's limit and the MMIO hole,
	 * page-aligned, and clear of the kernel's memory. */
	uint64_t limit = p->initrd_limit < low ? p->initrd_limit : low;
	uint64_t kend = (p->kernel_end + PAGE - 1) & ~(PAGE - 1);
	if (p->initrd_size > limit || ((limit - p->initrd_size) & ~(PAGE - 1)) < kend) {
		log_err("%s: memory: %llu MiB is too small for kernel %s (up to "
			"0x%llx) plus initrd %s (%llu bytes) below 0x%llx",
			c->file, (unsigned long long)(c->memory >> 20), c->kernel,
			(unsigned long long)p->kernel_end, c->initrd,
			(unsigned long long)p->initrd_size,
			(unsigned long long)limit);
		return -1;
	}
	p->initrd_addr = (limit - p->initrd_size) & ~(PAGE - 1);
	return 0;
}

static int load_range(const char *path, int fd, struct guest_mem *m,
		      uint64_t gpa, uint64_t off, uint64_t len)
{
	void *dst = gmem_ptr(m, gpa, len);

	if (!dst) {
		log_err("%s: 0x%llx bytes at 0x%llx do not fit in guest RAM", path,
			(unsigned long long)len, (unsigned long long)gpa);
		return -1;
	}
	if (pread_full(fd, dst, len, off) < 0) {
		log_err("%s: read failed: %s (did the file change?)", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

int boot_place(const struct config *c, const struct boot_plan *p,
	       struct guest_mem *m, struct boot_entry *e)
{
	/* Guest RAM is fresh anonymous memory: already zero, so bss and
	 * padding are never touched (and never cost resident memory). */
	for (unsigned i = 0; i < p->nseg; i++) {
		const struct boot_segment *s = &p->seg[i];
		if (!gmem_ok(m, s->paddr, s->memsz)) {
			log_err("%s: segment at 0x%llx does not fit in guest RAM",
				c->kernel, (unsigned long long)s->paddr);
			return -1;
		}
		if (load_range(c->kernel, p->kernel_fd, m, s->paddr, s->file_off,
			       s->filesz) < 0)
			return -1;
	}
	if (p->initrd_fd >= 0 &&
	    load_range(c->initrd, p->initrd_fd, m, p->initrd_addr, 0,
		       p->initrd_size) < 0)
		return -1;

	size_t cmdlen = strlen(p->cmdline);
	char *cmd = gmem_ptr(m, BOOT_CMDLINE_ADDR, cmdlen + 1);
	if (!cmd || x86_write_gdt(m) < 0 ||
	    (p->format != KERNEL_FORMAT_PVH && x86_write_pagetables(m) < 0)) {
		log_err("cannot place the command line and page tables in "
			"guest RAM");
		return -1;
	}
	memcpy(cmd, p->cmdline, cmdlen + 1);

	memset(e, 0, sizeof(*e));
	e->rip = p->entry;
	e->rsp = BOOT_STACK_TOP;
	if (p->format == KERNEL_FORMAT_PVH) {
		e->mode = BOOT_MODE_PVH32;
		e->rbx = BOOT_PVH_INFO_ADDR;
		if (pvh_write(c, p, m) < 0)
			goto fail;
		return 0;
	}
	e->mode = BOOT_MODE_LONG64;
	e->rsi = BOOT_PARAMS_ADDR;
	if (bootparams_write(c, p, m) == 0)
		return 0;
fail:
	log_err("cannot place the boot information in guest RAM");
	return -1;
}

void boot_plan_free(struct boot_plan *p)
{
	if (p->kernel_fd >= 0)
		close(p->kernel_fd);
	if (p->initrd_fd >= 0)
		close(p->initrd_fd);
	p->kernel_fd = p->initrd_fd = -1;
}
