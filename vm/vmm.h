/*
 * The boundary between the command line (main.c) and the VMM.
 *
 *  vmm_limits()  fills the limits the config validator needs from /dev/kvm;
 *                returns 0, or -errno when /dev/kvm cannot be used (the
 *                limits are then left at built-in defaults).  With run
 *                (vmm_run() or vmm_restore() follows), /dev/kvm stays
 *                open for the VM and KVM_GET_SUPPORTED_CPUID starts in
 *                the background on it (vcpu/vcpu.h).
 *  vmm_check()   reads and validates the kernel and initrd named by *c
 *                without creating a VM; prints any error (naming the file
 *                and the reason) and returns -1, or returns 0.
 *  vmm_run()     builds and runs the VM; returns the process exit status
 *                (see picovm(1): 0 clean shutdown, the exit-port byte,
 *                1 VMM/guest failure, 2 bad input, 124 timeout,
 *                128+signal when stopped by SIGTERM/SIGINT).
 */
#ifndef PICOVM_VM_VMM_H
#define PICOVM_VM_VMM_H

#include "../config/config.h"

int vmm_limits(struct config_limits *lim, bool run);
/* The descriptor vmm_limits() keeps open for the VM (-1: none): picovm's
 * own, never one it inherited. */
int vmm_own_fd(void);
int vmm_check(const struct config *c);
int vmm_run(const struct config *c);
/* Restores the snapshot in dir (c: its vm.conf with the overrides);
 * returns the process exit status, 2 for a snapshot that does not load. */
int vmm_restore(const struct config *c, const char *dir);

#endif
