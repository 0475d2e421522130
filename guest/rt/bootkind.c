/*
 * The name `info` prints for a non-PVH entry.  test64.elf and test.bzImage
 * are otherwise the same code, so the Makefile compiles this file once per
 * image with -DIMAGE_KIND='"elf"' or '"bzimage"'.
 */
#include "bootinfo.h"

#ifndef IMAGE_KIND
#error "IMAGE_KIND must be defined"
#endif

const char rt_image_kind[] = IMAGE_KIND;
