/* Pausing the vCPUs of a running VM (vm/pause.h). */
#include "pause.h"

#include "machine.h"
#include "vm.h"
#include "../vcpu/vcpu.h"

bool vm_pause_vcpus(struct vm *vm, unsigned who)
{
	unsigned started = 0;

	machine_pause_hold(&vm->m, who);
	for (unsigned i = 0; vm->vcpus && i < vm->nvcpus; i++)
		if (vm->vcpus[i].started) {
			vcpu_kick(&vm->vcpus[i]);
			started++;
		}
	return machine_wait_parked(&vm->m, started);
}

bool vm_resume_vcpus(struct vm *vm, unsigned who)
{
	return machine_pause_release(&vm->m, who);
}
