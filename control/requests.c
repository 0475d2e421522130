/*
 * The requests of the control socket (picovm(1), CONTROL), run on the
 * control thread with ctl->lock held.  Each replies only once its action
 * is complete: `pause` once every vCPU is out of KVM_RUN and parked and
 * the I/O thread is parked; `resume` once they run again and every queue
 * was kicked; `stop` and `kill` once the VM is gone (server.c, finish()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "../config/config.h"
#include "../vcpu/vcpu.h"
#include "../virtio/mmio.h"
#include "../vm/iothread.h"
#include "../vm/log.h"
#include "../vm/machine.h"
#include "../vm/pause.h"
#include "../vm/vm.h"

const char *control_state(const struct control *ctl)
{
	if (ctl->stopping || ctl->stop_asked || machine_stopping(ctl->m))
		return "stopping";
	return ctl->paused ? "paused" : "running";
}

/* Every started vCPU out of KVM_RUN and parked, then the I/O thread
 * (vm/pause.h; a snapshot in progress ends first). */
static void vm_pause(struct control *ctl)
{
	struct machine *m = ctl->m;

	pthread_mutex_lock(&m->pause_op);
	if (vm_pause_vcpus(ctl->vm, MACHINE_PAUSE_CONTROL))
		(void)iothread_pause();
	pthread_mutex_unlock(&m->pause_op);
	ctl->paused = true;
}

static void vm_resume(struct control *ctl)
{
	struct machine *m = ctl->m;
	uint64_t one = 1;

	pthread_mutex_lock(&m->pause_op);
	iothread_resume();
	(void)vm_resume_vcpus(ctl->vm, MACHINE_PAUSE_CONTROL);
	/* A snapshot the guest asked for during the pause waited for this
	 * (vm/snapshot.c): the main thread takes it now. */
	if (atomic_load(&m->snapshot_req) &&
	    write(m->stop_efd, &one, sizeof(one)) < 0)
		log_err("control: resume: cannot wake the main thread");
	pthread_mutex_unlock(&m->pause_op);
	/* A notification the guest wrote just before the pause may have been
	 * read by the parked I/O thread's ring but not acted on: looking at
	 * every queue again loses none (a kick with nothing new is a no-op). */
	for (unsigned i = 0; i < MACHINE_MAX_VIRTIO; i++) {
		struct virtio_dev *d = m->virtio[i];
		for (unsigned q = 0; d && q < VIRTIO_MAX_QUEUES; q++)
			if (d->kick_fd[q] >= 0 &&
			    write(d->kick_fd[q], &one, sizeof(one)) < 0)
				log_err("control: resume: cannot kick a queue");
	}
	ctl->paused = false;
}

/* "disk.0", "net.1", "console": how the config names device i. */
static void vdev_name(const struct vm *vm, unsigned i, char *buf, size_t n)
{
	const struct vdev *d = &vm->vdevs.d[i];

	if (strcmp(d->ops->name, "console") == 0)
		snprintf(buf, n, "console");
	else
		snprintf(buf, n, "%s.%u", d->ops->name, d->n);
}

static void req_status(struct control *ctl, struct reply *r)
{
	const struct config *c = ctl->vm->cfg;
	uint64_t boot = atomic_load(&ctl->m->boot_ns);

	reply_put(r, "name = %s\npid = %d\nstate = %s\nuptime.ms = %llu\n"
		  "vcpus = %u\nmemory = %lluM\ndevices =", c->name, (int)getpid(),
		  control_state(ctl), (unsigned long long)control_now_ms(),
		  ctl->vm->nvcpus, (unsigned long long)(c->memory >> 20));
	for (unsigned i = 0; i < ctl->vm->vdevs.n; i++) {
		char name[32];
		vdev_name(ctl->vm, i, name, sizeof(name));
		reply_put(r, " %s", name);
	}
	reply_put(r, "\n");
	if (boot)
		reply_put(r, "boot.timer.us = %llu\n",
			  (unsigned long long)(boot / 1000));
	reply_put(r, "ok\n");
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

struct counter_ctx {
	struct reply *r;
	const char *dev;
};

static void put_counter(void *ctx, const char *key, uint64_t value)
{
	struct counter_ctx *c = ctx;

	reply_put(c->r, "%s.%s = %llu\n", c->dev, key, (unsigned long long)value);
}

static void req_stats(struct control *ctl, struct reply *r)
{
	const struct vm *vm = ctl->vm;
	uint64_t io = 0, mmio = 0, other = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		io += LOAD(vm->vcpus[i].exits_io);
		mmio += LOAD(vm->vcpus[i].exits_mmio);
		other += LOAD(vm->vcpus[i].exits_other);
	}
	reply_put(r, "exits.io = %llu\nexits.mmio = %llu\nexits.other = %llu\n",
		  (unsigned long long)io, (unsigned long long)mmio,
		  (unsigned long long)other);
	for (unsigned i = 0; i < vm->vdevs.n && i < MACHINE_MAX_VIRTIO; i++) {
		struct virtio_dev *d = ctl->m->virtio[i];
		char name[32];
		if (!d)
			continue;
		vdev_name(vm, i, name, sizeof(name));
		reply_put(r, "%s.requests = %llu\n%s.bytes = %llu\n"
			  "%s.failures = %llu\n",
			  name, (unsigned long long)LOAD(d->chains),
			  name, (unsigned long long)LOAD(d->chain_bytes),
			  name, (unsigned long long)LOAD(d->failures));
		const struct vdev *v = &vm->vdevs.d[i];
		struct counter_ctx c = { .r = r, .dev = name };
		if (v->ops->counters && v->dev)
			v->ops->counters(v->dev, put_counter, &c);
	}
	if (ctl->has_console && ctl->console.dropped)
		reply_put(r, "console.dropped = %llu\n", (unsigned long long)
			  ctl->console.dropped(ctl->console.opaque));
	/* Whether guest output still waits to be written out (the console
	 * consumes what it wrote only after the write): 0 means everything
	 * the guest printed has reached the sink. */
	if (ctl->has_console && ctl->console.peek_output) {
		uint8_t one;
		reply_put(r, "console.pending = %d\n",
			  ctl->console.peek_output(ctl->console.opaque, &one, 1) != 0);
	}
	/* picovm's own messages a full stderr or log had no room for. */
	reply_put(r, "log.dropped = %llu\n", log_dropped());
	reply_put(r, "ok\n");
}

/* stop [TIMEOUT]: the power button, then the end after TIMEOUT. */
static bool req_stop(struct control *ctl, const char *arg, struct reply *r)
{
	uint64_t ms = CONTROL_STOP_TIMEOUT_MS;

	if (arg && config_parse_duration(arg, &ms) < 0) {
		reply_put(r, "error: '%.32s' is not a duration; expected digits "
			  "with ms, s, m or h\n", arg);
		return false;
	}
	if (!ctl->m->power_button) {
		reply_put(r, "error: acpi = off: the guest has no power button "
			  "to press; use kill\n");
		return false;
	}
	if (ctl->paused)
		vm_resume(ctl);	/* a paused guest cannot shut down */
	ctl->m->power_button(ctl->m->power_button_dev);
	uint64_t deadline = control_now_ms() + ms;
	if (!ctl->stop_deadline_ms || deadline < ctl->stop_deadline_ms)
		ctl->stop_deadline_ms = deadline ? deadline : 1;
	if (!ctl->stop_asked)
		log_info("stop: pressed the power button (picovm ctl); ending "
			 "the VM in %llu ms unless the guest shuts down",
			 (unsigned long long)ms);
	ctl->stop_asked = true;
	control_notify(ctl, "STATUS=stopping");
	return true;
}

/* Printable, bounded: how a request is quoted back. */
static void quote(const char *s, char *buf, size_t n)
{
	size_t o = 0;

	for (; *s && o + 1 < n && o < 32; s++)
		buf[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	buf[o] = '\0';
}

bool control_request(struct control *ctl, char *line, struct reply *r)
{
	char *save = NULL, *word, *arg, *extra;
	size_t len = strlen(line);

	if (len && line[len - 1] == '\r')
		line[len - 1] = '\0';
	word = strtok_r(line, " \t", &save);
	arg = word ? strtok_r(NULL, " \t", &save) : NULL;
	extra = arg ? strtok_r(NULL, " \t", &save) : NULL;
	if (!word) {
		reply_put(r, "error: empty request; expected status, pause, "
			  "resume, stop [TIMEOUT], kill or stats\n");
		return false;
	}
	bool takes_arg = strcmp(word, "stop") == 0;
	if (extra || (arg && !takes_arg)) {
		char q[40];
		quote(word, q, sizeof(q));
		reply_put(r, "error: too many words for '%s'\n", q);
		return false;
	}
	if (strcmp(word, "status") == 0) {
		req_status(ctl, r);
		return false;
	}
	/* Everything else touches the vCPUs or devices, which are going. */
	if (ctl->stopping || machine_stopping(ctl->m)) {
		reply_put(r, "error: the VM is stopping\n");
		return false;
	}
	if (strcmp(word, "pause") == 0) {
		if (!ctl->paused)
			vm_pause(ctl);
		control_notify(ctl, "STATUS=paused");
		reply_put(r, "state = %s\nok\n", control_state(ctl));
	} else if (strcmp(word, "resume") == 0) {
		if (ctl->paused)
			vm_resume(ctl);
		control_notify(ctl, "STATUS=running");
		reply_put(r, "state = %s\nok\n", control_state(ctl));
	} else if (strcmp(word, "stats") == 0) {
		req_stats(ctl, r);
	} else if (strcmp(word, "stop") == 0) {
		return req_stop(ctl, arg, r);
	} else if (strcmp(word, "kill") == 0) {
		machine_stop(ctl->m, EXIT_VM_KILLED, "killed (picovm ctl kill)");
		return true;
	} else {
		char q[40];
		quote(word, q, sizeof(q));
		reply_put(r, "error: unknown request '%s'; expected status, "
			  "pause, resume, stop [TIMEOUT], kill or stats\n", q);
	}
	return false;
}
