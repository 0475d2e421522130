/* The PIT and its reinjection, made by the reaper; see pit.h. */
#include "pit.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
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

/* The vCPUs' gate (pit_gate_wait()): GATE_SHUT until the PIT is there.
 * Opened by whoever made the PIT, the reaper included (it runs in
 * picovm's memory, and the vCPUs' private futex is its too), so that the
 * vCPUs go on from the reaper's wake, not from picovm's main thread's
 * after it; failed by pit_ready() or the stop.  It moves from GATE_SHUT
 * only, once. */
enum { GATE_SHUT, GATE_OPEN, GATE_FAILED };
static int gate = GATE_SHUT;

static void gate_set(int to)
{
	int shut = GATE_SHUT;

	if (__atomic_compare_exchange_n(&gate, &shut, to, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST))
		(void)raw_syscall(SYS_futex, (long)&gate, FUTEX_WAKE_PRIVATE,
				  INT_MAX, 0, 0);
}

bool pit_gate_wait(void)
{
	int v;

	while ((v = __atomic_load_n(&gate, __ATOMIC_SEQ_CST)) == GATE_SHUT)
		(void)raw_syscall(SYS_futex, (long)&gate, FUTEX_WAIT_PRIVATE,
				  GATE_SHUT, 0, 0);
	return v == GATE_OPEN;
}

void pit_gate_fail(void)
{
	gate_set(GATE_FAILED);
}

#ifdef PICOVM_TEST_HOOKS
#include <stdlib.h>
#include <time.h>

/* PICOVM_TEST_PIT=slow: the PIT is made 300 ms late; =fail: it is made,
 * and reported as failed (ENODEV).  Memory reads and raw calls only. */
static bool pit_test(const char *what)
{
	const char *v = getenv("PICOVM_TEST_PIT");

	return v && strcmp(v, what) == 0;
}
#endif

unsigned char pit_child_create(int vm_fd)
{
#ifdef PICOVM_TEST_HOOKS
	if (pit_test("slow")) {
		struct timespec t = { 0, 300 * 1000 * 1000 };
		(void)raw_syscall(SYS_nanosleep, (long)&t, 0, 0, 0, 0);
	}
#endif
	long r = raw_syscall(SYS_ioctl, vm_fd, KVM_CREATE_PIT2,
			     (long)&pit.config, 0, 0);
	/* EEXIST: made already (by a reaper that died before answering). */
	unsigned char e = r >= 0 || r == -EEXIST ? 0 :
			  r >= -127 ? (unsigned char)-r : EIO;
#ifdef PICOVM_TEST_HOOKS
	if (pit_test("fail"))
		e = ENODEV;
#endif

	/* A restore's state, before reinjection goes off: its errno with
	 * the high bit set, so pit_ready() tells it apart. */
	if (!e && pit.load) {
		r = raw_syscall(SYS_ioctl, vm_fd, KVM_SET_PIT2, (long)&pit.state, 0, 0);
		e = r >= 0 ? 0 : 0x80 | (r >= -127 ? (unsigned char)-r : EIO);
	}
	if (!e)
		gate_set(GATE_OPEN);
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
	pit.vm_fd = vm_fd;	/* pit.off: reinjection 0 */
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
	int r = pit_answer(e < 0 ? pit_child_create(pit.vm_fd) : (unsigned char)e);
	if (r < 0)
		gate_set(GATE_FAILED);
	return r;
}

void pit_go(void)
{
	if (__atomic_exchange_n(&pit_went, true, __ATOMIC_SEQ_CST))
		return;
	reaper_pit_go();
}
