/*
 * One virtual machine: everything vmm.c builds and tears down.
 *
 * Stopping: any thread may call vm_stop(); the first call decides the exit
 * status, later ones are ignored.  vm_stop() only records and wakes the
 * main thread, which then kicks the vCPUs out of KVM_RUN, joins every
 * thread, flushes output and restores the terminal, in that order.
 */
#ifndef PICOVM_VM_VM_H
#define PICOVM_VM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "../boot/boot.h"
#include "../config/config.h"
#include "bus.h"
#include "kvm.h"
#include "memory.h"

struct vcpu;
struct serial;
struct console;
struct i8042;
struct blk;
struct vnet;
struct vcon;

/* Exit statuses, documented in picovm(1). */
#define EXIT_VM_OK 0
#define EXIT_VM_FAILURE 1
#define EXIT_VM_BADINPUT 2
#define EXIT_VM_PANIC 122	/* pvpanic: the guest kernel panicked */
#define EXIT_VM_TIMEOUT 124
#define EXIT_VM_SIGNAL_BASE 128

struct vm {
	const struct config *cfg;
	struct kvm kvm;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct vcpu *vcpus;
	unsigned nvcpus;
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID */
	struct boot_entry entry;

	struct serial *serial;
	struct console *console;
	struct i8042 *i8042;
	struct blk *disks[CONFIG_MAX_DEVICES];	/* by disk.N; NULL: absent */
	struct vnet *nets[CONFIG_MAX_DEVICES];	/* by net.N */
	struct vcon *vcon;			/* console = virtio */

	pthread_mutex_t stop_lock;
	atomic_bool stopping;
	int exit_status;
	int stop_efd;			/* eventfd: wakes the main thread */
};

/* Ends the VM with status; fmt (may be NULL) says why, for the log. */
void vm_stop(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline bool vm_stopping(const struct vm *vm)
{
	return atomic_load_explicit(&vm->stopping, memory_order_acquire);
}
/* Sets the level of an ISA interrupt line (in-kernel PIC + IOAPIC). */
int vm_irq_line(struct vm *vm, unsigned irq, int level);

#endif
