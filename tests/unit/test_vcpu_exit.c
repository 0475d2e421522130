/*
 * Unit tests of the vCPU exit dispatch (vcpu/exit.c), no /dev/kvm: a
 * kvm_run page is filled the way KVM would (or a broken KVM could) and
 * the decision is checked as a value.
 *
 * Prints "ok    NAME" or "FAIL  NAME: why" per check; exits 1 if any
 * failed.  tests/t-unit.sh turns the lines into test results.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../vcpu/exit.h"

#define RUN_SIZE 4096

static union {
	struct kvm_run run;
	uint8_t bytes[RUN_SIZE];
} page;

static struct kvm_run *fresh(uint32_t reason)
{
	memset(&page, 0, sizeof(page));
	page.run.exit_reason = reason;
	return &page.run;
}

static enum vcpu_action decode(struct vcpu_access *a, char *why, size_t n)
{
	memset(a, 0, sizeof(*a));
	why[0] = 0;
	return vcpu_exit_decode(&page.run, RUN_SIZE, a, why, n);
}

static struct kvm_run *io(uint8_t dir, uint8_t size, uint16_t port,
			  uint32_t count, uint64_t off)
{
	struct kvm_run *r = fresh(KVM_EXIT_IO);

	r->io.direction = dir;
	r->io.size = size;
	r->io.port = port;
	r->io.count = count;
	r->io.data_offset = off;
	return r;
}

static void port_io(void)
{
	struct vcpu_access a;
	char why[96];

	io(KVM_EXIT_IO_OUT, 1, 0x3f8, 1, 1024);
	enum vcpu_action act = decode(&a, why, sizeof(why));
	check("pio: a 1-byte OUT goes to the port bus",
	      act == VCPU_PIO && a.addr == 0x3f8 && a.size == 1 && a.count == 1 &&
		      a.write && a.data == page.bytes + 1024,
	      "action %d, port 0x%llx size %u count %u write %d", act,
	      (unsigned long long)a.addr, a.size, a.count, a.write);

	io(KVM_EXIT_IO_IN, 4, 0x510, 1, 1024);
	act = decode(&a, why, sizeof(why));
	check("pio: a 4-byte IN is a read", act == VCPU_PIO && !a.write &&
						    a.size == 4,
	      "action %d write %d size %u", act, a.write, a.size);

	io(KVM_EXIT_IO_OUT, 2, 0x60, 16, RUN_SIZE - 32);
	act = decode(&a, why, sizeof(why));
	check("pio: a string OUT that ends exactly at the page end",
	      act == VCPU_PIO && a.count == 16 && a.size == 2,
	      "action %d count %u", act, a.count);

	static const struct {
		const char *name;
		uint8_t size;
		uint32_t count;
		uint64_t off;
	} bad[] = {
		{ "pio: size 0 is ignored", 0, 1, 1024 },
		{ "pio: size 8 is ignored", 8, 1, 1024 },
		{ "pio: count 0 is ignored", 1, 0, 1024 },
		{ "pio: data offset past the page is ignored", 1, 1, RUN_SIZE },
		{ "pio: string running past the page is ignored", 4, 9, RUN_SIZE - 32 },
		{ "pio: size x count overflowing 32 bits is ignored", 4, 0x40000001u, 64 },
		{ "pio: data offset near 2^64 is ignored", 1, 1, UINT64_MAX - 1 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		io(KVM_EXIT_IO_OUT, bad[i].size, 0x3f8, bad[i].count, bad[i].off);
		act = decode(&a, why, sizeof(why));
		check(bad[i].name, act == VCPU_RESUME, "action %d", act);
	}
}

static void mmio(void)
{
	struct vcpu_access a;
	char why[96];
	struct kvm_run *r = fresh(KVM_EXIT_MMIO);

	r->mmio.phys_addr = 0xd0000070;
	r->mmio.len = 4;
	r->mmio.is_write = 1;
	enum vcpu_action act = decode(&a, why, sizeof(why));
	check("mmio: a 4-byte write goes to the MMIO bus",
	      act == VCPU_MMIO && a.addr == 0xd0000070 && a.size == 4 &&
		      a.count == 1 && a.write && a.data == r->mmio.data,
	      "action %d", act);
	r->mmio.is_write = 0;
	r->mmio.len = 8;
	act = decode(&a, why, sizeof(why));
	check("mmio: an 8-byte read", act == VCPU_MMIO && !a.write && a.size == 8,
	      "action %d", act);
	r->mmio.len = 0;
	check("mmio: length 0 is ignored", decode(&a, why, sizeof(why)) == VCPU_RESUME,
	      "not ignored");
	r->mmio.len = 9;
	check("mmio: length 9 is ignored", decode(&a, why, sizeof(why)) == VCPU_RESUME,
	      "not ignored");
}

static void expect(const char *name, enum vcpu_action want, const char *text)
{
	struct vcpu_access a;
	char why[96];
	enum vcpu_action act = decode(&a, why, sizeof(why));

	check(name, act == want && (!text || strcmp(why, text) == 0),
	      "action %d (want %d), why \"%s\" (want \"%s\")", act, want, why,
	      text ? text : "");
}

static void others(void)
{
	fresh(KVM_EXIT_HLT);
	expect("hlt: the vCPU runs on", VCPU_RESUME, NULL);
	fresh(KVM_EXIT_INTR);
	expect("intr (a kick): the vCPU runs on", VCPU_RESUME, NULL);
	fresh(KVM_EXIT_SHUTDOWN);
	expect("shutdown: a triple fault is fatal", VCPU_FATAL,
	       "guest triple fault (KVM_EXIT_SHUTDOWN)");
	struct kvm_run *r = fresh(KVM_EXIT_SYSTEM_EVENT);
	r->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
	expect("system event shutdown: status 0", VCPU_STOP_OK, NULL);
	r->system_event.type = KVM_SYSTEM_EVENT_RESET;
	expect("system event reset: status 0", VCPU_STOP_OK, NULL);
	r->system_event.type = KVM_SYSTEM_EVENT_CRASH;
	expect("system event crash: fatal, named", VCPU_FATAL, "system event 3");
	r = fresh(KVM_EXIT_FAIL_ENTRY);
	r->fail_entry.hardware_entry_failure_reason = 0x21;
	expect("fail entry: fatal with the hardware reason", VCPU_FATAL,
	       "KVM entry failed, reason 0x21");
	r = fresh(KVM_EXIT_INTERNAL_ERROR);
	r->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	expect("internal error: emulation failure named", VCPU_FATAL,
	       "KVM internal error, suberror 1 (instruction emulation failed)");
	r->internal.suberror = 3;
	expect("internal error: other suberror", VCPU_FATAL,
	       "KVM internal error, suberror 3");
	fresh(KVM_EXIT_HYPERCALL);
	expect("an exit picovm never asked for is fatal", VCPU_FATAL,
	       "unexpected KVM exit reason 3");
	fresh(KVM_EXIT_DEBUG);
	expect("a debug exit goes to the gdb stub", VCPU_DEBUG, NULL);
	fresh(0xffffffffu);
	expect("an unknown exit reason is fatal", VCPU_FATAL,
	       "unexpected KVM exit reason 4294967295");

	/* The reason fits the caller's buffer, cut, never overrun. */
	struct vcpu_access a;
	char small[12];
	memset(small, 'x', sizeof(small));
	r = fresh(KVM_EXIT_INTERNAL_ERROR);
	r->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	vcpu_exit_decode(r, RUN_SIZE, &a, small, 8);
	check("why is cut to the caller's buffer", strlen(small) == 7 &&
							   small[8] == 'x',
	      "\"%.12s\"", small);
}

int main(void)
{
	port_io();
	mmio();
	others();
	return check_failures ? 1 : 0;
}
