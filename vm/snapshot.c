/*
 * Taking a snapshot (snapshot.h): the guest writes port 0x512, the main
 * thread pauses every vCPU out of KVM_RUN (vm/pause.h; each completes
 * the access it exited for first), saves vCPUs, VM and devices, writes
 * guest RAM as a sparse file, and then stops the VM or lets it run on.
 *
 * Everything is opened before the sandbox (snapshot_prepare()); the main
 * thread's filter gains only writes to those files and the KVM_GET_*
 * calls (seccomp/filters.c).
 */
#include "snapshot.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "snapfile.h"
#include "iothread.h"
#include "pause.h"
#include "vm.h"
#include "../devices/devices.h"
#include "../vcpu/vcpu.h"

#define PAGE 4096

struct snapshot {
	int dir_fd, conf_fd, state_fd, mem_fd;
	struct snap_msrs msrs;		/* KVM_GET_MSR_INDEX_LIST */
};

void snapshot_host_cpu(char vendor[12], uint32_t *signature)
{
	unsigned a = 0, b = 0, c = 0, d = 0;

	__cpuid(0, a, b, c, d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	__cpuid(1, a, b, c, d);
	*signature = a;
}

static int open_in(struct snapshot *s, const char *name)
{
	int fd = openat(s->dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC |
			O_NOFOLLOW, 0644);

	if (fd < 0)
		log_err("snapshot.path: cannot open %s: %s", name, strerror(errno));
	return fd;
}

int snapshot_prepare(struct vm *vm)
{
	const char *path = vm->cfg->snapshot_path;
	struct snapshot *s;

	if (!path || !*path)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s) {
		log_err("out of memory");
		return -1;
	}
	s->conf_fd = s->state_fd = s->mem_fd = -1;
	vm->snap = s;
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		log_err("snapshot.path: cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	s->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0) {
		log_err("snapshot.path: %s: %s", path, strerror(errno));
		return -1;
	}
	if ((s->conf_fd = open_in(s, SNAP_FILE_CONF)) < 0 ||
	    (s->state_fd = open_in(s, SNAP_FILE_STATE)) < 0 ||
	    (s->mem_fd = open_in(s, SNAP_FILE_MEMORY)) < 0)
		return -1;
	/* Writing the memory file this VM's RAM is mapped from (a restore
	 * into its own folder) would change pages it has not copied yet. */
	if (restore_is_source(vm, s->mem_fd)) {
		log_err("snapshot.path: %s is the folder this VM is restored "
			"from; expected another folder", path);
		return -1;
	}
	/* Restored VMs map the memory file and hold a shared lock on it:
	 * replacing it under them would change or cut off (SIGBUS) pages
	 * they have not copied.  Held until this VM ends. */
	if (flock(s->mem_fd, LOCK_EX | LOCK_NB) < 0) {
		log_err("snapshot.path: %s/" SNAP_FILE_MEMORY " is %s", path,
			errno == EWOULDBLOCK ? "in use by a running restore of "
			"that snapshot or a VM snapshotting there" : strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < vm->vdevs.n; i++) {
		const struct vdev *d = &vm->vdevs.d[i];
		if (d->ops->snap_open && d->ops->snap_open(d->dev, s->dir_fd) < 0)
			return -1;
	}
	return vcpu_msr_list(vm->m.kvm.fd, &s->msrs);
}

void snapshot_close(struct vm *vm)
{
	struct snapshot *s = vm->snap;

	if (!s)
		return;
	int fds[] = { s->dir_fd, s->conf_fd, s->state_fd, s->mem_fd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(s);
	vm->snap = NULL;
}

static int save_vm(struct vm *vm, struct snap_state *st)
{
	int fd = vm->m.kvm.vm_fd;

	for (uint32_t i = 0; i < 3; i++) {
		st->irqchip[i].chip_id = i;
		if (ioctl(fd, KVM_GET_IRQCHIP, &st->irqchip[i]) < 0) {
			log_err("snapshot: KVM_GET_IRQCHIP %u: %s", i, strerror(errno));
			return -1;
		}
	}
	if (ioctl(fd, KVM_GET_PIT2, &st->pit) < 0 ||
	    ioctl(fd, KVM_GET_CLOCK, &st->clock) < 0) {
		log_err("snapshot: KVM_GET_PIT2/CLOCK: %s", strerror(errno));
		return -1;
	}
	st->h.nlegacy = NLEGACY;
	for (unsigned i = 0; i < NLEGACY; i++)
		if (vm->legacy[i] && legacy_kinds[i]->save)
			st->legacy_len[i] = (uint32_t)legacy_kinds[i]->save(
				vm->legacy[i], st->legacy[i]);
	return 0;
}

/* One try: 0, or -1 / -2 (busy: try again) with why and the device. */
static int try_vdevs(struct vm *vm, struct snap_state *st, const char **why,
		     unsigned *failed)
{
	for (unsigned i = 0; i < vm->vdevs.n; i++) {
		const struct vdev *d = &vm->vdevs.d[i];
		*failed = i;
		if (!d->ops->save) {
			*why = "this kind of device cannot be snapshotted yet";
			return -1;
		}
		int len = d->ops->save(d->dev, st->vdev[i], why);
		if (len < 0)
			return len;
		st->vdev_len[i] = (uint32_t)len;
	}
	return 0;
}

/* What the devices save beside the state (ephemeral overlays), once each
 * saved its record, still quiescent.  The old state file goes first: a
 * snapshot cut short must not load with the new files. */
static int save_files(struct vm *vm)
{
	if (ftruncate(vm->snap->state_fd, 0) < 0) {
		log_err("snapshot: emptying %s/" SNAP_FILE_STATE ": %s",
			vm->cfg->snapshot_path, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < vm->vdevs.n; i++) {
		const struct vdev *d = &vm->vdevs.d[i];
		if (d->ops->save_files && d->ops->save_files(d->dev) < 0)
			return -1;
	}
	return 0;
}

/* The virtio devices, quiescent: with the vCPUs parked no new requests
 * come, so the I/O thread finishes those in flight; each try parks it and
 * saves only when no device has a request outstanding.  At most ~10 s.
 * The I/O thread stays parked until snapshot_take() resumes it. */
static int save_vdevs(struct vm *vm, struct snap_state *st)
{
	const char *why = NULL;
	unsigned failed = 0;

	st->h.nvdev = vm->vdevs.n;
	for (unsigned tries = 0; vm->vdevs.n && tries < 2000; tries++) {
		if (!iothread_pause()) {
			log_err("snapshot: the I/O thread stopped");
			return -1;
		}
		int ret = try_vdevs(vm, st, &why, &failed);
		if (ret == 0)
			return save_files(vm);
		iothread_resume();
		if (ret == -1)
			break;
		poll(NULL, 0, 5);
	}
	if (!vm->vdevs.n)
		return 0;
	log_err("snapshot: %s.%u: %s", vm->vdevs.d[failed].ops->name,
		vm->vdevs.d[failed].n, why);
	return -1;
}

static bool page_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	uint64_t acc = 0;

	for (size_t i = 0; i < PAGE / sizeof(*w); i++)
		acc |= w[i];
	return acc == 0;
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}

/* Guest RAM as one file of its size; all-zero pages stay holes. */
static int save_memory(struct snapshot *s, const struct guest_mem *mem)
{
	if (ftruncate(s->mem_fd, 0) < 0 ||
	    ftruncate(s->mem_fd, (off_t)mem->size) < 0)
		return -1;
	for (uint64_t off = 0; off < mem->size; off += PAGE) {
		uint64_t run = off;
		while (run < mem->size && !page_zero(mem->host + run))
			run += PAGE;
		if (run > off && write_all(s->mem_fd, mem->host + off,
					   (size_t)(run - off), off) < 0)
			return -1;
		off = run;
	}
	return 0;
}

/* The configuration as vm.conf holds it: without snapshot.path (a
 * restored VM snapshots only when told where). */
static char *conf_text(const struct config *c, size_t *len)
{
	struct config cc = *c;
	char *buf = NULL;
	FILE *f;

	cc.snapshot_path = NULL;
	f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	config_print(&cc, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int save(struct vm *vm)
{
	struct snapshot *s = vm->snap;
	struct snap_state st;
	uint8_t *buf = NULL;
	size_t len = 0, clen = 0;
	int ret = -1;

	if (snap_alloc(&st, vm->nvcpus) < 0) {
		log_err("snapshot: out of memory");
		return -1;
	}
	if (save_vdevs(vm, &st) < 0) {
		snap_free(&st);
		return -1;
	}
	char *conf = conf_text(vm->cfg, &clen);
	for (unsigned i = 0; conf && i < vm->nvcpus; i++)
		if (vcpu_state_save(vm->vcpus[i].fd, &s->msrs, &st.vcpu[i]) < 0)
			goto out;
	if (!conf || save_vm(vm, &st) < 0)
		goto out;
	st.h.conf_hash = snap_hash(conf, clen);
	snapshot_host_cpu(st.h.cpu_vendor, &st.h.cpu_signature);
	st.h.memory = vm->m.mem.size;
	if (snap_encode(&st, &buf, &len) < 0) {
		log_err("snapshot: out of memory");
		goto out;
	}
	/* The state file last: a snapshot cut short has none that loads. */
	if (ftruncate(s->state_fd, 0) < 0 ||
	    save_memory(s, &vm->m.mem) < 0 || ftruncate(s->conf_fd, 0) < 0 ||
	    write_all(s->conf_fd, conf, clen, 0) < 0 ||
	    write_all(s->state_fd, buf, len, 0) < 0 ||
	    fdatasync(s->mem_fd) < 0 || fdatasync(s->conf_fd) < 0 ||
	    fdatasync(s->state_fd) < 0) {
		log_err("snapshot: writing %s: %s", vm->cfg->snapshot_path,
			strerror(errno));
		goto out;
	}
	/* Written, the memory file sits in the page cache in large folios
	 * (up to 2 MiB), which a clone's read fault maps whole: each clone
	 * would map megabytes its guest never reads (README "Snapshots").
	 * Dropped now (its pages are clean after fdatasync), restores read
	 * it back by their own faults in small folios.  Advice only: a
	 * failure costs memory, not the snapshot. */
	(void)posix_fadvise(s->mem_fd, 0, 0, POSIX_FADV_DONTNEED);
	ret = 0;
out:
	free(conf);
	free(buf);
	snap_free(&st);
	return ret;
}

static void take(struct vm *vm)
{
	atomic_store(&vm->m.snapshot_req, false);
	if (!vm->snap) {
		LOG_LIMIT(no_path);
		log_limited(&no_path, "snapshot port written, but snapshot.path "
			    "is not set: ignored");
		vm_resume_vcpus(vm, MACHINE_PAUSE_SNAPSHOT);
		return;
	}
	if (!vm_pause_vcpus(vm, MACHINE_PAUSE_SNAPSHOT))
		return;
	uint64_t t0 = log_ns_since_start();
	int ret = save(vm);
	iothread_resume();
	if (ret < 0) {
		machine_stop(&vm->m, EXIT_VM_FAILURE, "snapshot failed");
		return;
	}
	log_info("snapshot: saved to %s in %llu ms", vm->cfg->snapshot_path,
		 (unsigned long long)((log_ns_since_start() - t0) / 1000000));
	if (vm->cfg->snapshot_after == SNAPSHOT_STOP) {
		machine_stop(&vm->m, EXIT_VM_OK, NULL);
		return;
	}
	/* Running on: what the devices held to be quiescent goes again. */
	for (unsigned i = 0; i < vm->vdevs.n; i++) {
		const struct vdev *d = &vm->vdevs.d[i];
		if (d->ops->resume)
			d->ops->resume(d->dev);
	}
	vm_resume_vcpus(vm, MACHINE_PAUSE_SNAPSHOT);
}

void snapshot_take(struct vm *vm)
{
	struct machine *m = &vm->m;

	pthread_mutex_lock(&m->pause_op);
	/* Paused by the control socket, the I/O thread is parked for it and
	 * the devices cannot finish their requests: the snapshot waits (its
	 * vCPU stays parked) until the control socket's resume, which wakes
	 * this thread again (control/requests.c). */
	if (!machine_pause_held(m, MACHINE_PAUSE_CONTROL))
		take(vm);
	pthread_mutex_unlock(&m->pause_op);
}
