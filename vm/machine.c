/* The stop and the IRQ line of vm/machine.h. */
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

void machine_park(struct machine *m)
{
	pthread_mutex_lock(&m->pause_lock);
	if (machine_pause_requested(m) && !machine_stopping(m)) {
		m->parked++;
		pthread_cond_broadcast(&m->pause_cond);
		while (machine_pause_requested(m) && !machine_stopping(m))
			pthread_cond_wait(&m->pause_cond, &m->pause_lock);
		m->parked--;
		pthread_cond_broadcast(&m->pause_cond);
	}
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
