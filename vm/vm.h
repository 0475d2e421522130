/*
 * One virtual machine: everything vmm.c builds and tears down.  Private to
 * the assembly code (vm/vmm.c); devices and vCPUs get the struct machine
 * inside it (vm/machine.h) and nothing else.
 */
#ifndef PICOVM_VM_VM_H
#define PICOVM_VM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "../boot/boot.h"
#include "../config/config.h"
#include "machine.h"
#include "vdevs.h"

struct vcpu;
struct console;
struct control;

#define NLEGACY 8	/* serial, i8042, debug ports, rtc, pvpanic, ACPI PM,
			   VM generation ID, serial.1 (last: a snapshot
			   without it restores) */
#define LEGACY_COM2 7	/* legacy[] index of serial.1 */
struct legacy_ops;
/* vmm.c: the legacy devices, in the order of vm->legacy[]. */
extern const struct legacy_ops *const legacy_kinds[NLEGACY];

struct vm {
	const struct config *cfg;
	struct machine m;		/* what devices and vCPUs see */
	struct vcpu *vcpus;
	unsigned nvcpus;
	const struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID (static) */
	struct boot_entry entry;

	void *legacy[NLEGACY];		/* by vmm.c's legacy_kinds[] */
	struct console *console;
	struct console *console1;	/* serial.1's host side; NULL: none */
	struct vdevs vdevs;		/* the virtio devices, by index */

	struct snapshot *snap;		/* snapshot.path, opened (snapshot.c) */
	struct restore *restore;	/* restoring from a folder (restore.c) */
	struct control *control;	/* control/: NULL when none */
	struct gdb *gdb;		/* gdb/: NULL when none */
};

#endif
