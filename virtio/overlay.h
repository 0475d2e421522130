/*
 * The copy-on-write overlay of an ephemeral disk: a private, unlinked,
 * sparse file the size of the image, and a bitmap of which 512-byte
 * sectors the guest has written.  Writes go to the overlay; reads take
 * each run of sectors from wherever its newest data is.  The image file
 * is never opened for writing, and the overlay vanishes with picovm.
 */
#ifndef PICOVM_VIRTIO_OVERLAY_H
#define PICOVM_VIRTIO_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

struct overlay;

/* NULL with errno set on failure.  The file lives in $TMPDIR (or
 * /var/tmp), created with O_TMPFILE so it has no name at all. */
struct overlay *overlay_create(uint64_t size);
void overlay_destroy(struct overlay *o);
int overlay_fd(const struct overlay *o);
/* [off, off+len) (sector-aligned) now lives in the overlay. */
void overlay_mark(struct overlay *o, uint64_t off, uint64_t len);
/* Length of the run starting at off (at most len) whose sectors are all
 * in the overlay (*in = true) or all in the image (*in = false). */
uint64_t overlay_run(const struct overlay *o, uint64_t off, uint64_t len,
		     bool *in);

#endif
