/* The stop, the pause and the IRQ line of vm/machine.h. */
#include "machine.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"

void machine_stop(struct machine *m, int status, const char *fmt, ...)
{
	uint64_t one = 1;

	pthread_mutex_lock(&m->stop_lock);
	if (!machine_stopping(m)) {
		m->exit_status = status;
		if (fmt) {
			char msg[256];
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(msg, sizeof(msg), fmt, ap);
			va_end(ap);
			log_err("%s", msg);
		}
		atomic_store_explicit(&m->stopping, true, memory_order_seq_cst);
		if (write(m->stop_efd, &one, sizeof(one)) < 0)
			log_err("cannot wake the main thread: %s", strerror(errno));
	}
	pthread_mutex_unlock(&m->stop_lock);
	machine_wake_parked(m);
}

void machine_snapshot_request(struct machine *m)
{
	uint64_t one = 1;

	/* The writing vCPU parks before it runs on (vcpu.c): the snapshot
	 * is taken right after its write. */
	machine_pause_hold(m, MACHINE_PAUSE_SNAPSHOT);
	atomic_store(&m->snapshot_req, true);
	if (write(m->stop_efd, &one, sizeof(one)) < 0)
		log_err("cannot wake the main thread: %s", strerror(errno));
}

void machine_pause_hold(struct machine *m, unsigned who)
{
	pthread_mutex_lock(&m->pause_lock);
	m->pause_holders |= who;
	atomic_store(&m->pause_req, true);
	pthread_cond_broadcast(&m->pause_cond);	/* machine_pause_release() */
	pthread_mutex_unlock(&m->pause_lock);
}

bool machine_pause_release(struct machine *m, unsigned who)
{
	pthread_mutex_lock(&m->pause_lock);
	m->pause_holders &= ~who;
	bool none = m->pause_holders == 0;
	if (none) {
		atomic_store(&m->pause_req, false);
		pthread_cond_broadcast(&m->pause_cond);
		/* Until a new pause (a vCPU's snapshot request) keeps the
		 * rest parked: its holder may be the caller's own thread. */
		while (m->parked > 0 && !m->pause_holders && !machine_stopping(m))
			pthread_cond_wait(&m->pause_cond, &m->pause_lock);
	}
	pthread_mutex_unlock(&m->pause_lock);
	return none;
}

bool machine_pause_held(struct machine *m, unsigned who)
{
	pthread_mutex_lock(&m->pause_lock);
	bool held = (m->pause_holders & who) != 0;
	pthread_mutex_unlock(&m->pause_lock);
	return held;
}

bool machine_wait_parked(struct machine *m, unsigned n)
{
	pthread_mutex_lock(&m->pause_lock);
	while (m->parked < n && !machine_stopping(m))
		pthread_cond_wait(&m->pause_cond, &m->pause_lock);
	pthread_mutex_unlock(&m->pause_lock);
	return !machine_stopping(m);
}

void machine_park(struct machine *m, unsigned id)
{
	pthread_mutex_lock(&m->pause_lock);
	if (machine_pause_requested(m, id) && !machine_stopping(m)) {
		m->parked++;
		pthread_cond_broadcast(&m->pause_cond);
		while (machine_pause_requested(m, id) && !machine_stopping(m))
			pthread_cond_wait(&m->pause_cond, &m->pause_lock);
		m->parked--;
		pthread_cond_broadcast(&m->pause_cond);
	}
	pthread_mutex_unlock(&m->pause_lock);
}

void machine_solo(struct machine *m, int id)
{
	pthread_mutex_lock(&m->pause_lock);
	atomic_store(&m->solo_vcpu, id);
	pthread_cond_broadcast(&m->pause_cond);
	pthread_mutex_unlock(&m->pause_lock);
}

bool machine_wait_go(struct machine *m)
{
	pthread_mutex_lock(&m->pause_lock);
	while (!m->go && !machine_stopping(m))
		pthread_cond_wait(&m->pause_cond, &m->pause_lock);
	bool go = m->go && !machine_stopping(m);
	pthread_mutex_unlock(&m->pause_lock);
	return go;
}

void machine_go(struct machine *m)
{
	pthread_mutex_lock(&m->pause_lock);
	m->go = true;
	pthread_cond_broadcast(&m->pause_cond);
	pthread_mutex_unlock(&m->pause_lock);
}

void machine_wake_parked(struct machine *m)
{
	pthread_mutex_lock(&m->pause_lock);
	pthread_cond_broadcast(&m->pause_cond);
	pthread_mutex_unlock(&m->pause_lock);
}

int machine_irq_line(struct machine *m, unsigned irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	return ioctl(m->kvm.vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}
