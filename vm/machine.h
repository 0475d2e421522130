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

#define MACHINE_MAX_VIRTIO 16	/* = VIRTIO_MMIO_MAX_DEVICES */
struct virtio_dev;

struct machine {
	struct kvm kvm;
	struct guest_mem mem;
	struct bus pio, mmio;

	pthread_mutex_t stop_lock;
	atomic_bool stopping;
	int exit_status;
	int stop_efd;			/* eventfd: wakes the main thread */

	/* Pause (control/: `picovm ctl NAME pause`): while pause_req is set,
	 * every vCPU parks in machine_park() instead of entering KVM_RUN. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;	/* pause_req or parked changed */
	atomic_bool pause_req;
	unsigned parked;		/* vCPUs parked now */

	/* What the control thread reports and waits for (all optional):
	 * the first boot-timer write (ns since start, 0: not yet), the
	 * guest's power-button hook (ACPI PM1), and the control thread's
	 * wake eventfd (-1: none), written when boot_ns is set. */
	_Atomic uint64_t boot_ns;
	int event_efd;
	void *power_button_dev;
	void (*power_button)(void *dev);
	/* The virtio devices by index (for the control thread's counters and
	 * the kicks after a resume); NULL where there is none. */
	struct virtio_dev *virtio[MACHINE_MAX_VIRTIO];
};

/* Ends the VM with status; fmt (may be NULL) says why, for the log. */
void machine_stop(struct machine *m, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline bool machine_stopping(const struct machine *m)
{
	return atomic_load_explicit(&m->stopping, memory_order_acquire);
}
/* vCPU threads: parks while a pause is requested (returns at once
 * otherwise, and when the VM stops). */
void machine_park(struct machine *m);
static inline bool machine_pause_requested(const struct machine *m)
{
	return atomic_load_explicit(&m->pause_req, memory_order_seq_cst);
}
/* Wakes everything that waits on a pause (the VM is stopping). */
void machine_wake_parked(struct machine *m);
/* Sets the level of an ISA interrupt line (in-kernel PIC + IOAPIC). */
int machine_irq_line(struct machine *m, unsigned irq, int level);

#endif
