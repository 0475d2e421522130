/*
 * Virtio 1.x constants picovm uses (virtio spec 1.2): device status bits,
 * transport-level feature bits, descriptor flags.  Device-specific ones
 * live in the device's file.
 */
#ifndef PICOVM_VIRTIO_VIRTIO_H
#define PICOVM_VIRTIO_VIRTIO_H

#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

#define VIRTIO_F_RING_INDIRECT_DESC	28
#define VIRTIO_F_RING_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

#define VRING_DESC_F_NEXT		1
#define VRING_DESC_F_WRITE		2
#define VRING_DESC_F_INDIRECT		4
#define VRING_AVAIL_F_NO_INTERRUPT	1
#define VRING_USED_F_NO_NOTIFY		1

/* InterruptStatus bits */
#define VIRTIO_INT_USED_RING		0x1
#define VIRTIO_INT_CONFIG		0x2

#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3

#define BIT64(n) (1ULL << (n))

#endif
