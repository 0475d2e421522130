/*
 * The operations every virtio device kind offers the assembly code, the
 * same small set for each (vm/vdevs.c lists the kinds in one table):
 *
 *   open    before the VM exists: everything the user can get wrong (a
 *           missing image, a tap in use) fails here, with its own message
 *           naming the key; returns NULL after printing
 *   attach  makes it device number index of the machine (its MMIO window
 *           and IRQ) and arms its events on the I/O thread's ring (before
 *           iothread_seal()); -1 after printing
 *   busy    nonzero while it has host I/O in flight a stop should wait for
 *           (optional)
 *   close   flushes and frees; any state, NULL included
 *   chardev the guest console it offers the host side (optional)
 *   save    snapshots (optional; a kind without it cannot be snapshotted):
 *           called with every vCPU and the I/O thread parked; writes its
 *           state, at most VDEV_STATE_MAX bytes, returns the length, -2
 *           with why when busy (try again later), -1 with why it cannot
 *   save_files  (optional) after every device's save succeeded, still
 *           parked: writes what does not fit the state record into the
 *           files snap_open opened; -1 after printing why
 *   snap_open  (optional) before the sandbox, when snapshot.path is set:
 *           opens (creates) those files in the snapshot folder dir_fd,
 *           without changing them; -1 after printing why
 *   resume  (optional) after a snapshot when the VM runs on (main
 *           thread, the I/O thread running again): gives back what save
 *           held (a device that stopped reading to be quiescent reads
 *           again); a failed snapshot stops the VM
 *   restore_open  (optional) a restore, after open and before attach:
 *           opens the device's files in the snapshot folder dir_fd
 *           (untrusted: sizes checked); -1 after printing why
 *   restore loads what save wrote, after attach, from a file: checks
 *           every value; -1 after printing why
 *   counters its own counters for `picovm ctl NAME stats` (optional): calls
 *           put(ctx, key, value) for each; any thread, while it is open
 *   linger_fd (optional) a descriptor whose last close waits in the host
 *           kernel (a tap the device created: unregistering it waits for
 *           an RCU barrier), for the reaper to hold past picovm's exit
 *           (vm/reaper.h); -1: none.  A tap only: the reaper takes it
 *           down and renames it when picovm stops.
 */
#ifndef PICOVM_VIRTIO_VDEV_H
#define PICOVM_VIRTIO_VDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../devices/chardev.h"

struct config;
struct machine;

struct vdev_ops {
	const char *name;
	/* `picovm check` opens it too (opening has no side effects). */
	bool checked;
	void *(*open)(const struct config *c, unsigned n);
	int (*attach)(void *dev, struct machine *m, unsigned index);
	unsigned (*busy)(void *dev);
	void (*close)(void *dev);
	struct chardev (*chardev)(void *dev);
	int (*save)(void *dev, uint8_t *buf, const char **why);
	int (*save_files)(void *dev);
	int (*snap_open)(void *dev, int dir_fd);
	void (*resume)(void *dev);
	int (*restore_open)(void *dev, int dir_fd);
	int (*restore)(void *dev, const uint8_t *buf, size_t len);
	void (*counters)(void *dev, void (*put)(void *ctx, const char *key,
						uint64_t value), void *ctx);
	int (*linger_fd)(void *dev);
};

#define VDEV_STATE_MAX 256

#endif
