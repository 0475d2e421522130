/*
 * The copy-on-write overlay of an ephemeral disk: a private, unlinked,
 * sparse file the size of the image, and a bitmap of which 512-byte
 * sectors the guest has written.  Writes go to the overlay; reads take
 * each run of sectors from wherever its newest data is.  The image file
 * is never opened for writing, and the overlay vanishes with picovm.
 *
 * Snapshots: overlay_save() writes the guest's sectors (the data and the
 * bitmap) into two files of the snapshot folder.  A restore puts them
 * under a fresh overlay as a read-only middle layer (overlay_set_base):
 * new writes go to the fresh overlay, reads come from the newest of
 * overlay, saved layer, image.  Clones of one snapshot each have their
 * own overlay and never write the saved one; they share its pages in the
 * page cache.
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
/* Where a sector's newest data is. */
enum overlay_layer { OVERLAY_IMAGE, OVERLAY_TOP, OVERLAY_BASE };
/* Length of the run starting at off (at most len) whose sectors all have
 * their newest data in one layer, *where. */
uint64_t overlay_run(const struct overlay *o, uint64_t off, uint64_t len,
		     enum overlay_layer *where);
/* A restore: data_fd (read-only, the disk's size) and bits_fd (the
 * bitmap, one bit per sector, its exact size) saved by overlay_save
 * become the layer under o.  Keeps data_fd, closes bits_fd (mapped).
 * 0, or -1 with *why (a file of the wrong size: a bad snapshot). */
int overlay_set_base(struct overlay *o, int data_fd, int bits_fd,
		     const char **why);
/* The saved layer's descriptor, or -1. */
int overlay_base_fd(const struct overlay *o);
/* Writes every sector the guest wrote (this overlay and the saved layer)
 * to data_fd (sized as the disk, sparse where zero) and the merged bitmap
 * to bits_fd, both emptied first, then fdatasync.  0, or -1 with errno. */
int overlay_save(const struct overlay *o, int data_fd, int bits_fd);

#endif
