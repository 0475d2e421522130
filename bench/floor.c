/*
 * floor: the least any KVM VMM must do to run one guest instruction
 * (create a VM, one memory slot, one vCPU, KVM_RUN until an OUT), with the
 * in-kernel irqchip and PIT when given "irqchip".  Printed beside picovm so
 * the host's own costs are visible in the same run.  With "report" it
 * writes "floor: first exit" to stderr as soon as the guest's OUT has
 * exited (bench/exec2line.c times exec to that line).  Built with musl,
 * as picovm is: static glibc's start-up alone costs about 0.45 ms of
 * CPUID exits on a virtualised host, which is no part of the floor.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int irqchip = 0, report = 0;
	for (int i = 1; i < argc; i++) {
		irqchip |= strcmp(argv[i], "irqchip") == 0;
		report |= strcmp(argv[i], "report") == 0;
	}
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (kvm < 0 || vm < 0)
		return 1;
	ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	size_t sz = 1 << 20;
	unsigned char *mem = mmap(NULL, sz, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	mem[0x1000] = 0xe6;	/* out %al, $0x80 */
	mem[0x1001] = 0x80;
	struct kvm_userspace_memory_region r = {
		.memory_size = sz, .userspace_addr = (unsigned long)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return 1;
	if (irqchip) {
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
		if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0 ||
		    ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
			return 1;
	}
	int cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	int runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (cpu < 0 || runsz <= 0)
		return 1;
	struct kvm_run *run = mmap(NULL, (size_t)runsz, PROT_READ | PROT_WRITE,
				   MAP_SHARED, cpu, 0);
	struct kvm_sregs s;
	ioctl(cpu, KVM_GET_SREGS, &s);
	s.cs.base = 0;
	s.cs.selector = 0;
	ioctl(cpu, KVM_SET_SREGS, &s);
	struct kvm_regs g = { .rip = 0x1000, .rflags = 2 };
	ioctl(cpu, KVM_SET_REGS, &g);
	if (run == MAP_FAILED || ioctl(cpu, KVM_RUN, 0) < 0)
		return 1;
	if (report && write(2, "floor: first exit\n", 18) != 18)
		return 1;
	return run->exit_reason == KVM_EXIT_IO ? 0 : 1;
}
