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

	/* Pausing the vCPUs, one mechanism for every user (vm/pause.h):
	 * the snapshot (vm/snapshot.c, from the guest's port 0x512 write to
	 * the end of the save) and the control socket's pause (control/,
	 * from `pause` to `resume`).  pause_holders says who holds a pause
	 * (MACHINE_PAUSE_* bits); while any does, pause_req is set and every
	 * vCPU parks in machine_park() (vcpu.c) instead of entering KVM_RUN.
	 * pause_req is read without the lock by the vCPU loops; a stop
	 * releases every parked vCPU.  pause_op serialises whole pause and
	 * resume operations (they also park the I/O thread, which has one
	 * pause of its own). */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;	/* pause_req or parked changed */
	atomic_bool pause_req;		/* pause_holders != 0 */
	unsigned pause_holders;		/* under pause_lock */
	unsigned parked;		/* vCPUs parked now */
	pthread_mutex_t pause_op;
	atomic_bool snapshot_req;	/* the guest asked (port 0x512) */
	/* gdb's single-step (gdb/): the one vCPU that runs while the others
	 * stay parked (-1: none); set only while gdb holds a pause. */
	atomic_int solo_vcpu;
	/* Under pause_lock: machine_go() let the vCPU threads, started
	 * before their set-up was done, enter the guest. */
	bool go;
	/* The gdb stub (gdb/gdb.h), NULL without `gdb`: then no vCPU ever
	 * sees a debug exit. */
	struct gdb *gdb;

	/* What the control thread reports and waits for (all optional):
	 * the first boot-timer write (ns since start, 0: not yet), the
	 * guest's power-button hook (ACPI PM1), and the control thread's
	 * wake eventfd (-1: none), written when boot_ns is set. */
	_Atomic uint64_t boot_ns;
	/* When a vCPU thread first called KVM_RUN (ns since start, 0: not
	 * yet): the boot-timer line splits its figure there (picovm's part,
	 * then the guest's, KVM's own waits in KVM_RUN included). */
	_Atomic uint64_t run_ns;
	int event_efd;
	void *power_button_dev;
	void (*power_button)(void *dev);
	/* ACPI PM's GPE0 block (NULL without acpi): sets GPE gpe's status
	 * bit, and so the SCI while the guest enabled it (devices/vmgenid.c
	 * after a restore). */
	void *gpe_dev;
	void (*gpe_raise)(void *dev, unsigned gpe);
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
/* The holders of a pause (struct machine's pause_holders). */
#define MACHINE_PAUSE_SNAPSHOT 1u	/* vm/snapshot.c */
#define MACHINE_PAUSE_CONTROL 2u	/* control/: `picovm ctl NAME pause` */
#define MACHINE_PAUSE_GDB 4u		/* gdb/: gdb looks at the stopped VM */

/* The guest asked for a snapshot (devices/debugport.c): holds a
 * MACHINE_PAUSE_SNAPSHOT pause, so the writing vCPU parks before it runs
 * on, and wakes the main thread, which takes it (vm/snapshot.c). */
void machine_snapshot_request(struct machine *m);
/* who starts holding a pause; the vCPUs park at their next pause point
 * (kick them out of KVM_RUN: vm/pause.h does). */
void machine_pause_hold(struct machine *m, unsigned who);
/* who stops holding its pause; true when nobody holds one any more, once
 * every parked vCPU has left its park (or the VM is stopping, or a new
 * pause keeps them parked). */
bool machine_pause_release(struct machine *m, unsigned who);
/* Whether who holds a pause now. */
bool machine_pause_held(struct machine *m, unsigned who);
/* Waits until n vCPUs are parked: true, or false when the VM stops. */
bool machine_wait_parked(struct machine *m, unsigned n);
/* vCPU threads: vCPU id parks while a pause is requested (returns at
 * once otherwise, when the VM stops, and when it is the solo vCPU). */
void machine_park(struct machine *m, unsigned id);
/* Whether vCPU id must park: a pause is requested and it is not the
 * solo vCPU. */
static inline bool machine_pause_requested(const struct machine *m,
					   unsigned id)
{
	return atomic_load_explicit(&m->pause_req, memory_order_seq_cst) &&
	       atomic_load_explicit(&m->solo_vcpu, memory_order_seq_cst) != (int)id;
}
/* Lets vCPU id (-1: none) run alone while the others stay parked. */
void machine_solo(struct machine *m, int id);
/* Wakes everything that waits on a pause (the VM is stopping). */
void machine_wake_parked(struct machine *m);
/* A vCPU thread, before its first KVM_RUN: waits for machine_go() (the
 * vCPUs are set up and the I/O thread runs).  False when the VM stops
 * first.  The threads start early so that their start and their seccomp
 * filter overlap the set-up instead of following it. */
bool machine_wait_go(struct machine *m);
void machine_go(struct machine *m);
/* Sets the level of an ISA interrupt line (in-kernel PIC + IOAPIC). */
int machine_irq_line(struct machine *m, unsigned irq, int level);

#endif
