/*
 * Pausing a running VM: the one mechanism behind a snapshot (vm/snapshot.c)
 * and the control socket's pause and resume (control/requests.c).
 *
 * Each user is a holder (MACHINE_PAUSE_*, vm/machine.h); the vCPUs park
 * while any holds a pause, so a snapshot and a control pause may overlap
 * without one resuming the other's VM.  A whole pause or resume (the vCPUs
 * and the I/O thread, iothread_pause()) runs with m.pause_op held: the
 * I/O thread has one pause, used by one caller at a time.
 */
#ifndef PICOVM_VM_PAUSE_H
#define PICOVM_VM_PAUSE_H

#include <stdbool.h>

struct vm;

/* who holds a pause; every started vCPU is kicked out of KVM_RUN and
 * parked (vcpu.c) on return: true, or false when the VM stops instead. */
bool vm_pause_vcpus(struct vm *vm, unsigned who);
/* who releases its pause: true when nobody holds one any more and every
 * vCPU runs again (or the VM is stopping). */
bool vm_resume_vcpus(struct vm *vm, unsigned who);

#endif
