/*
 * Snapshots and restores of a whole VM (vm/snapshot.c, vm/restore.c),
 * for the assembly code (vm/vmm.c).  The folder:
 *   vm.conf  the effective configuration (`picovm check` format), with
 *            snapshot.path left out
 *   state    vCPUs, VM and device state (vm/snapfile.h), checksummed
 *   memory   guest RAM, sparse: all-zero pages are holes
 *   disk.N.overlay, disk.N.bitmap  an ephemeral disk's overlay
 *            (virtio/overlay.h)
 */
#ifndef PICOVM_VM_SNAPSHOT_H
#define PICOVM_VM_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct snap_state;

/* Before the sandbox: creates snapshot.path (one level) and opens its
 * files, without changing them yet.  0, or -1 after printing (status 2). */
int snapshot_prepare(struct vm *vm);
/* Main thread, after the guest wrote the snapshot port: pauses the
 * vCPUs, saves, then stops the VM (status 0) or resumes it. */
void snapshot_take(struct vm *vm);
void snapshot_close(struct vm *vm);

/* vm/restore.c.  restore_open: reads and checks DIR's state and memory
 * against the loaded configuration; 0 or -1 after printing (status 2). */
int restore_open(struct vm *vm, const char *dir);
/* After the devices are open, before they attach: the files they saved
 * beside the state (vdev.h restore_open); -1 after printing (status 2). */
int restore_files(struct vm *vm);
/* Maps the memory file as guest RAM (MAP_PRIVATE); -1 after printing. */
int restore_memory(struct vm *vm);
/* The saved PIT state of a restore (NULL for a fresh boot), for
 * pit_reinject_off() (vm/pit.h): the reaper creates the PIT and loads it
 * before turning reinjection off (KVM_SET_PIT2 takes the PIT's lock, which
 * the reinjection call holds through its grace period, 13-16 ms here).
 * It is copied; KVM refusing it is status 2 (vm/vmm.c). */
struct kvm_pit_state2;
const struct kvm_pit_state2 *restore_pit_state(const struct vm *vm);
/* After the vCPUs and devices exist: loads their state (the PIT's
 * excepted); -1 after printing. */
int restore_state(struct vm *vm);
void restore_close(struct vm *vm);
/* Closes the memory file's descriptor (the mapping holds the file), where
 * a boot closes the kernel's: the sandbox caps the descriptor limit at the
 * highest one open, and the console's eventfd, made after that, takes
 * this free number. */
void restore_drop_fd(struct vm *vm);
/* Whether restore_state() failed on the state file's content (KVM or a
 * device refused a value): a bad snapshot, exit status 2. */
bool restore_refused(const struct vm *vm);
/* The snapshot's state was refused where restore.c does not see it (the
 * PIT's, by the reaper): restore_refused() says so from now on. */
void restore_refuse(struct vm *vm);
/* Whether fd is the memory file this VM was restored from. */
bool restore_is_source(const struct vm *vm, int fd);

/* Shared by both: the CPU picovm runs on (CPUID vendor, signature). */
void snapshot_host_cpu(char vendor[12], uint32_t *signature);
/* Names of the files in the folder. */
#define SNAP_FILE_CONF "vm.conf"
#define SNAP_FILE_STATE "state"
#define SNAP_FILE_MEMORY "memory"

#endif
