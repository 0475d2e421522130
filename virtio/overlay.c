/* Ephemeral-disk overlay; see overlay.h. */
#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR 512ULL

struct overlay {
	int fd;
	uint64_t sectors;
	uint8_t *bits;		/* one bit per sector, lazily backed */
	size_t bits_len;
	int base_fd;			/* the saved layer (a restore), or -1 */
	const uint8_t *base_bits;	/* its bitmap, mapped read-only */
};

static bool bit(const uint8_t *bits, uint64_t s)
{
	return bits[s / 8] & (1U << (s % 8));
}

static enum overlay_layer layer(const struct overlay *o, uint64_t s)
{
	if (s >= o->sectors)
		return OVERLAY_IMAGE;
	if (bit(o->bits, s))
		return OVERLAY_TOP;
	return o->base_bits && bit(o->base_bits, s) ? OVERLAY_BASE : OVERLAY_IMAGE;
}

struct overlay *overlay_create(uint64_t size)
{
	struct overlay *o = calloc(1, sizeof(*o));
	const char *dir = getenv("TMPDIR");

	if (!o)
		return NULL;
	o->sectors = size / SECTOR;
	o->base_fd = -1;
	o->fd = open(dir && *dir ? dir : "/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC,
		     0600);
	if (o->fd < 0 && (!dir || !*dir))
		o->fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (o->fd < 0 || ftruncate(o->fd, (off_t)size) < 0)
		goto fail;
	/* Anonymous and NORESERVE: only the parts of the bitmap for sectors
	 * the guest writes ever take memory. */
	o->bits_len = (size_t)((o->sectors + 7) / 8);
	o->bits = mmap(NULL, o->bits_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (o->bits == MAP_FAILED) {
		o->bits = NULL;
		goto fail;
	}
	return o;
fail:;
	int e = errno;
	overlay_destroy(o);
	errno = e;
	return NULL;
}

void overlay_destroy(struct overlay *o)
{
	if (!o)
		return;
	if (o->fd >= 0)
		close(o->fd);
	if (o->bits)
		munmap(o->bits, o->bits_len);
	if (o->base_fd >= 0)
		close(o->base_fd);
	if (o->base_bits)
		munmap((void *)(uintptr_t)o->base_bits, o->bits_len);
	free(o);
}

int overlay_fd(const struct overlay *o)
{
	return o->fd;
}

void overlay_mark(struct overlay *o, uint64_t off, uint64_t len)
{
	for (uint64_t s = off / SECTOR; s < (off + len) / SECTOR && s < o->sectors; s++)
		o->bits[s / 8] |= (uint8_t)(1U << (s % 8));
}

uint64_t overlay_run(const struct overlay *o, uint64_t off, uint64_t len,
		     enum overlay_layer *where)
{
	uint64_t s = off / SECTOR, end = (off + len) / SECTOR;

	*where = layer(o, s);
	uint64_t e = s + 1;
	while (e < end && e < o->sectors && layer(o, e) == *where)
		e++;
	return (e - s) * SECTOR;
}

int overlay_set_base(struct overlay *o, int data_fd, int bits_fd,
		     const char **why)
{
	struct stat d, b;

	*why = NULL;
	if (fstat(data_fd, &d) < 0 || fstat(bits_fd, &b) < 0)
		*why = strerror(errno);
	else if (!S_ISREG(d.st_mode) || (uint64_t)d.st_size != o->sectors * SECTOR)
		*why = "the saved overlay is not a file of the disk's size";
	else if (!S_ISREG(b.st_mode) || (uint64_t)b.st_size != o->bits_len)
		*why = "the saved bitmap is not a file of one bit per sector";
	if (!*why) {
		void *p = mmap(NULL, o->bits_len, PROT_READ, MAP_PRIVATE, bits_fd, 0);
		if (p == MAP_FAILED)
			*why = strerror(errno);
		else
			o->base_bits = p;
	}
	close(bits_fd);
	if (*why) {
		close(data_fd);
		return -1;
	}
	o->base_fd = data_fd;
	return 0;
}

int overlay_base_fd(const struct overlay *o)
{
	return o->base_fd;
}

static int rw_full(int fd, uint8_t *buf, size_t n, uint64_t off, bool wr)
{
	while (n) {
		ssize_t k = wr ? pwrite(fd, buf, n, (off_t)off) :
				 pread(fd, buf, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;	/* a file shorter than its size */
			return -1;
		}
		buf += k, n -= (size_t)k, off += (uint64_t)k;
	}
	return 0;
}

static bool zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

#define SAVE_BUF (1u << 20)

int overlay_save(const struct overlay *o, int data_fd, int bits_fd)
{
	uint8_t *buf = malloc(SAVE_BUF);
	int ret = -1;

	if (!buf || ftruncate(data_fd, 0) < 0 ||
	    ftruncate(data_fd, (off_t)(o->sectors * SECTOR)) < 0 ||
	    ftruncate(bits_fd, 0) < 0)
		goto out;
	for (uint64_t s = 0; s < o->sectors;) {
		/* Eight sectors nobody wrote at a time. */
		if (s % 8 == 0 && !o->bits[s / 8] &&
		    !(o->base_bits && o->base_bits[s / 8])) {
			s += 8;
			continue;
		}
		enum overlay_layer w = layer(o, s);
		uint64_t e = s + 1;
		while (e < o->sectors && e - s < SAVE_BUF / SECTOR && layer(o, e) == w)
			e++;
		if (w != OVERLAY_IMAGE) {
			size_t n = (size_t)((e - s) * SECTOR);
			int src = w == OVERLAY_TOP ? o->fd : o->base_fd;
			if (rw_full(src, buf, n, s * SECTOR, false) < 0 ||
			    (!zero(buf, n) &&
			     rw_full(data_fd, buf, n, s * SECTOR, true) < 0))
				goto out;
		}
		s = e;
	}
	for (size_t i = 0; i < o->bits_len; i += SAVE_BUF) {
		size_t n = o->bits_len - i < SAVE_BUF ? o->bits_len - i : SAVE_BUF;
		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)(o->bits[i + k] |
					   (o->base_bits ? o->base_bits[i + k] : 0));
		if (rw_full(bits_fd, buf, n, i, true) < 0)
			goto out;
	}
	if (fdatasync(data_fd) < 0 || fdatasync(bits_fd) < 0)
		goto out;
	ret = 0;
out:;
	int e = errno;
	free(buf);
	errno = e;
	return ret;
}
