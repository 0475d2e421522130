/*
 * The snapshot state file (DIR/state): its format, the writer and the
 * loader.  No KVM calls here: the loader is pure so the fuzz target
 * (tests/fuzz/fuzz_snap.c) can drive it.
 *
 * Layout (little endian, this host's struct layouts):
 *   header   struct snap_header: magic "PICOSNAP", version, the sizes, a
 *            64-bit FNV-1a checksum over header (checksum field zero) and
 *            payload, the hash of the snapshot's vm.conf, the CPU it was
 *            taken on (CPUID vendor and signature), vCPUs and memory
 *   payload  records: u32 tag, u32 index, u32 len, len bytes
 * The loader treats the file as hostile: each record exactly once, each
 * length exactly its structure's, every count bounded, nothing left over.
 * The checksum finds damage, not forgery: a snapshot is as trusted as the
 * folder it sits in.
 */
#ifndef PICOVM_VM_SNAPFILE_H
#define PICOVM_VM_SNAPFILE_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "PICOSNAP"
#define SNAP_VERSION 2	/* 2: the virtio window in use; ACPI GPE0 registers,
			   VM generation ID; net, console, ephemeral disks */
#define SNAP_MAX_VCPUS 254
#define SNAP_MAX_MSRS 256
#define SNAP_MAX_LEGACY 8
#define SNAP_LEGACY_MAX 64	/* bytes of one legacy device's state */
#define SNAP_MAX_VDEV 16
#define SNAP_VDEV_MAX 256	/* bytes of one virtio device's state */

struct snap_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t payload_size;
	uint64_t checksum;
	uint64_t conf_hash;	/* snap_hash() of vm.conf's bytes */
	char cpu_vendor[12];
	uint32_t cpu_signature;	/* CPUID 1 EAX */
	uint32_t nvcpus;
	uint32_t nlegacy;
	uint64_t memory;	/* bytes of guest RAM */
	uint32_t nvdev;		/* virtio devices, by guest-visible index */
	uint32_t pad;
};

struct snap_msrs {
	uint32_t n;
	struct kvm_msr_entry e[SNAP_MAX_MSRS];
};

/* One vCPU (vcpu/state.c says the order its parts are restored in). */
struct snap_vcpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct snap_msrs msrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	struct kvm_mp_state mp_state;
	/* Last: struct kvm_xsave ends in a flexible array (KVM_GET_XSAVE2's
	 * extra state, which picovm does not use: 4096 bytes here). */
	struct kvm_xsave xsave;
};

struct snap_state {
	struct snap_header h;
	struct snap_vcpu *vcpu;		/* h.nvcpus of them */
	struct kvm_irqchip irqchip[3];	/* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	uint8_t legacy[SNAP_MAX_LEGACY][SNAP_LEGACY_MAX];
	uint32_t legacy_len[SNAP_MAX_LEGACY];
	uint8_t vdev[SNAP_MAX_VDEV][SNAP_VDEV_MAX];
	uint32_t vdev_len[SNAP_MAX_VDEV];
};

uint64_t snap_hash(const void *p, size_t n);
/* Allocates s->vcpu for nvcpus (1..SNAP_MAX_VCPUS) vCPUs, zeroed; -1 when
 * out of range or out of memory. */
int snap_alloc(struct snap_state *s, uint32_t nvcpus);
void snap_free(struct snap_state *s);
/* Serialises s into a malloc'd buffer (*out, *len); -1 when out of memory. */
int snap_encode(const struct snap_state *s, uint8_t **out, size_t *len);
/* Parses buf into s (allocated here; snap_free() it after a success).
 * Returns 0, or -1 with a reason in why. */
int snap_decode(const uint8_t *buf, size_t len, struct snap_state *s,
		char *why, size_t whylen);

#endif
