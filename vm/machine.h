/*
 * What devices and vCPUs may touch of a VM, and nothing else: the KVM
 * descriptors, guest RAM, the port and MMIO buses, the IRQ line and the
 * stop.  The rest of the VM (configuration, device list, vCPU array) is
 * the assembly code's own (vm/vm.h, private to vm/vmm.c).
 *
 * Stopping: any thread may call machine_stop(); the first call decides the
 * exit status, later ones are ignored.  machine_stop() only records and
 * wakes the main thread, which then kicks the vCPUs out of KVM_RUN, joins
 * every thread, flushes output and restores the terminal, in that order.
 */
#ifndef PICOVM_VM_MACHINE_H
#define PICOVM_VM_MACHINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bus.h"
#include "kvm.h"
#include "memory.h"

/* Exit statuses, documented in picovm(1). */
#define EXIT_VM_OK 0
#define EXIT_VM_FAILURE 1
#define EXIT_VM_BADINPUT 2
#define EXIT_VM_PANIC 122	/* pvpanic: the guest kernel panicked */
#define EXIT_VM_TIMEOUT 124
#define EXIT_VM_SIGNAL_BASE 128

struct machine {
	struct kvm kvm;
	struct guest_mem mem;
	struct bus pio, mmio;

	pthread_mutex_t stop_lock;
	atomic_bool stopping;
	int exit_status;
	int stop_efd;			/* eventfd: wakes the main thread */

	/* Pausing the vCPUs for a snapshot (machine_pause()): pause is
	 * read without the lock by the vCPU loops; paused counts the vCPUs
	 * parked in vcpu_pause_point(); a stop releases them. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	atomic_bool pause;
	unsigned paused;
	atomic_bool snapshot_req;	/* the guest asked (port 0x512) */
};

/* Ends the VM with status; fmt (may be NULL) says why, for the log. */
void machine_stop(struct machine *m, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline bool machine_stopping(const struct machine *m)
{
	return atomic_load_explicit(&m->stopping, memory_order_acquire);
}
/* The guest asked for a snapshot (devices/debugport.c): wakes the main
 * thread, which takes it (vm/snapshot.c). */
void machine_snapshot_request(struct machine *m);
/* Sets the level of an ISA interrupt line (in-kernel PIC + IOAPIC). */
int machine_irq_line(struct machine *m, unsigned irq, int level);

#endif
