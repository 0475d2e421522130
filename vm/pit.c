/* The PIT and its reinjection, made by the reaper; see pit.h. */
#include "pit.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>

#include "log.h"
#include "rawsys.h"
#include "reaper.h"

/* Static: the reaper reads it (it runs in picovm's memory). */
static struct {
	struct kvm_reinject_control off;
	struct kvm_pit_config config;
	bool load;		/* state goes into the PIT (a restore) */
	struct kvm_pit_state2 state;
	int vm_fd;
	bool asked;		/* the reaper makes it: pit_ready() reads its answer */
} pit = { .vm_fd = -1 };
static bool pit_went;

unsigned char pit_child_create(int vm_fd)
{
	long r = raw_syscall(SYS_ioctl, vm_fd, KVM_CREATE_PIT2,
			     (long)&pit.config, 0, 0);
	/* EEXIST: made already (by a reaper that died before answering). */
	unsigned char e = r >= 0 || r == -EEXIST ? 0 :
			  r >= -127 ? (unsigned char)-r : EIO;

	/* A restore's state, before reinjection goes off: its errno with
	 * the high bit set, so pit_ready() tells it apart. */
	if (!e && pit.load) {
		r = raw_syscall(SYS_ioctl, vm_fd, KVM_SET_PIT2, (long)&pit.state, 0, 0);
		e = r >= 0 ? 0 : 0x80 | (r >= -127 ? (unsigned char)-r : EIO);
	}
	return e;
}

long pit_child_reinject_off(int vm_fd)
{
	return raw_syscall(SYS_ioctl, vm_fd, KVM_REINJECT_CONTROL, (long)&pit.off,
			   0, 0);
}

/* An answer of pit_child_create(): 0, or -errno after printing why
 * (PIT_STATE_REFUSED set when KVM refused the state). */
static int pit_answer(unsigned char e)
{
	if (e & 0x80) {
		log_err("restore: KVM_SET_PIT2: %s", strerror(e & 0x7f));
		return -((e & 0x7f) | PIT_STATE_REFUSED);
	}
	if (e) {
		log_err("KVM_CREATE_PIT2: %s", strerror(e));
		return -e;
	}
	return 0;
}

int pit_reinject_off(int vm_fd, const struct kvm_pit_state2 *state)
{
	memset(&pit, 0, sizeof(pit));
	pit.vm_fd = vm_fd;
	pit.off.pit_reinject = 0;
	pit.config.flags = KVM_PIT_SPEAKER_DUMMY;
	pit.load = state != NULL;
	if (pit.load)
		pit.state = *state;	/* the caller's may go before pit_ready() */
	pit_went = false;
	if (reaper_pit(vm_fd) == 0) {
		pit.asked = true;
		return 0;
	}
	/* No reaper: the PIT and the call here, and their waits too. */
	int r = pit_answer(pit_child_create(vm_fd));
	if (r < 0)
		return r;
	long e = pit_child_reinject_off(vm_fd);
	if (e < 0)
		log_err("KVM_REINJECT_CONTROL: %s", strerror((int)-e));
	return (int)e;
}

int pit_ready(void)
{
	if (!pit.asked)
		return 0;
	pit.asked = false;
	int e = reaper_pit_answer();
	/* The reaper died first: the PIT (unless it was made) and its state
	 * here then. */
	return pit_answer(e < 0 ? pit_child_create(pit.vm_fd) : (unsigned char)e);
}

void pit_go(void)
{
	if (__atomic_exchange_n(&pit_went, true, __ATOMIC_SEQ_CST))
		return;
	reaper_pit_go();
}
