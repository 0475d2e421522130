/* Ephemeral-disk overlay; see overlay.h. */
#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define SECTOR 512ULL

struct overlay {
	int fd;
	uint64_t sectors;
	uint8_t *bits;		/* one bit per sector, lazily backed */
	size_t bits_len;
};

static bool bit(const struct overlay *o, uint64_t s)
{
	return o->bits[s / 8] & (1U << (s % 8));
}

struct overlay *overlay_create(uint64_t size)
{
	struct overlay *o = calloc(1, sizeof(*o));
	const char *dir = getenv("TMPDIR");

	if (!o)
		return NULL;
	o->sectors = size / SECTOR;
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
		     bool *in)
{
	uint64_t s = off / SECTOR, end = (off + len) / SECTOR;

	*in = s < o->sectors && bit(o, s);
	uint64_t e = s + 1;
	while (e < end && e < o->sectors && bit(o, e) == *in)
		e++;
	return (e - s) * SECTOR;
}
