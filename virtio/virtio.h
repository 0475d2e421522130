/*
 * The virtio constants picovm uses come from the kernel's uapi headers:
 * device status bits and VIRTIO_F_VERSION_1 (virtio_config.h), ring
 * feature bits and descriptor flags (virtio_ring.h), device ids
 * (virtio_ids.h), the MMIO register layout and interrupt bits
 * (virtio_mmio.h).  Device-specific ones come from the device's uapi
 * header, included by its file.  (The test guests keep their own
 * definitions on purpose: an independent reading of the spec.)
 */
#ifndef PICOVM_VIRTIO_VIRTIO_H
#define PICOVM_VIRTIO_VIRTIO_H

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#define BIT64(n) (1ULL << (n))

#endif
