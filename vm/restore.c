/*
 * Restoring a snapshot (snapshot.h): `picovm restore DIR`.  The state file
 * is untrusted input, checked whole (vm/snapfile.c) and against the
 * configuration and this host before anything is created; guest RAM is
 * the memory file mapped MAP_PRIVATE, so pages load on first touch and
 * clones of one snapshot share them until they write.
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "snapfile.h"
#include "vm.h"
#include "../devices/devices.h"
#include "../vcpu/vcpu.h"

/* The state file is a few pages per vCPU; anything far larger is not one. */
#define STATE_MAX (64u << 20)

struct restore {
	char *dir;
	int mem_fd;		/* closed once mapped */
	int lock_fd;		/* the memory file again: a shared flock */
	dev_t mem_dev;
	ino_t mem_ino;
	bool refused;		/* restore_state() failed */
	/* The loaded state (6.5 KiB and its buffers): until restore_state()
	 * has handed it to KVM and the devices, then freed (each clone
	 * would carry it for its whole run). */
	struct snap_state *st;
};

static void snap_state_drop(struct restore *r)
{
	if (r->st)
		snap_free(r->st);
	free(r->st);
	r->st = NULL;
}

/* Reads DIR/name whole (at most max bytes); NULL after printing. */
static uint8_t *read_file(const char *dir, const char *name, size_t max,
			  size_t *len)
{
	char path[4096];
	struct stat sb;
	uint8_t *buf = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		log_err("restore: %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max) {
		log_err("restore: %s: not a regular file of at most %zu bytes",
			path, max);
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		log_err("restore: out of memory");
		goto out;
	}
	ssize_t n = read(fd, buf, (size_t)sb.st_size);
	if (n != sb.st_size) {
		log_err("restore: %s: short read", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = (size_t)n;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

static int check_state(const struct vm *vm, const struct restore *r,
		       const uint8_t *conf, size_t clen)
{
	const struct snap_header *h = &r->st->h;
	const struct config *c = vm->cfg;
	char vendor[12];
	uint32_t sig;

	snapshot_host_cpu(vendor, &sig);
	if (memcmp(vendor, h->cpu_vendor, sizeof(vendor)) != 0 ||
	    sig != h->cpu_signature) {
		log_err("restore: %s was taken on another CPU (%.12s, signature "
			"0x%x; this one is %.12s, 0x%x)", r->dir, h->cpu_vendor,
			h->cpu_signature, vendor, sig);
		return -1;
	}
	if (h->conf_hash != snap_hash(conf, clen)) {
		log_err("restore: %s/" SNAP_FILE_CONF " is not the configuration "
			"this state was saved with (another VM's?)", r->dir);
		return -1;
	}
	if (h->nvdev != vm->vdevs.n) {
		log_err("restore: the state has %u virtio devices, the "
			"configuration %u", h->nvdev, vm->vdevs.n);
		return -1;
	}
	if (h->nvcpus != c->vcpus || h->memory != c->memory ||
	    h->nlegacy > NLEGACY || h->nlegacy < LEGACY_COM2) {
		log_err("restore: the state has %u vCPUs and %llu bytes of RAM, "
			"the configuration %u and %llu", h->nvcpus,
			(unsigned long long)h->memory, c->vcpus,
			(unsigned long long)c->memory);
		return -1;
	}
	return 0;
}

int restore_open(struct vm *vm, const char *dir)
{
	struct restore *r = calloc(1, sizeof(*r));
	uint8_t *state = NULL, *conf = NULL;
	size_t slen = 0, clen = 0;
	char why[160] = "";
	struct stat sb;
	char path[4096];

	if (!r || !(r->dir = strdup(dir))) {
		free(r);
		log_err("restore: out of memory");
		return -1;
	}
	r->mem_fd = r->lock_fd = -1;
	vm->restore = r;
	if (!(r->st = calloc(1, sizeof(*r->st)))) {
		log_err("restore: out of memory");
		goto fail;
	}
	if (!(conf = read_file(dir, SNAP_FILE_CONF, 1u << 20, &clen)) ||
	    !(state = read_file(dir, SNAP_FILE_STATE, STATE_MAX, &slen)))
		goto fail;
	if (snap_decode(state, slen, r->st, why, sizeof(why)) < 0) {
		log_err("restore: %s/" SNAP_FILE_STATE ": %s", dir, why);
		goto fail;
	}
	if (check_state(vm, r, conf, clen) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/" SNAP_FILE_MEMORY, dir);
	r->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->mem_fd < 0 || fstat(r->mem_fd, &sb) < 0) {
		log_err("restore: %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != vm->cfg->memory) {
		log_err("restore: %s: %llu bytes; expected a file of the "
			"guest's memory size, %llu bytes", path,
			(unsigned long long)sb.st_size,
			(unsigned long long)vm->cfg->memory);
		goto fail;
	}
	r->mem_dev = sb.st_dev;
	r->mem_ino = sb.st_ino;
	/* A VM with snapshot.path = DIR holds an exclusive lock on the file
	 * (it may replace it any moment); clones share theirs. */
	r->lock_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->lock_fd < 0 || flock(r->lock_fd, LOCK_SH | LOCK_NB) < 0) {
		log_err("restore: %s: %s", path, errno == EWOULDBLOCK ?
			"a running VM may write this snapshot (its snapshot.path)" :
			strerror(errno));
		goto fail;
	}
	free(conf);
	free(state);
	return 0;
fail:
	free(conf);
	free(state);
	return -1;
}

int restore_files(struct vm *vm)
{
	struct restore *r = vm->restore;
	int ret = 0;
	int dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0) {
		log_err("restore: %s: %s", r->dir, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; ret == 0 && i < vm->vdevs.n; i++) {
		const struct vdev *d = &vm->vdevs.d[i];
		if (d->ops->restore_open)
			ret = d->ops->restore_open(d->dev, dfd);
	}
	close(dfd);
	return ret;
}

int restore_memory(struct vm *vm)
{
	struct restore *r = vm->restore;
	int ret = gmem_init_file(&vm->m.mem, r->mem_fd, vm->cfg->memory);

	if (ret < 0)
		log_err("restore: mapping the memory file: %s", strerror(-ret));
	return ret < 0 ? -1 : 0;
}

static int restore_vm(struct vm *vm, struct snap_state *st)
{
	int fd = vm->m.kvm.vm_fd;

	for (uint32_t i = 0; i < 3; i++) {
		if (st->irqchip[i].chip_id != i) {
			log_err("restore: irqchip %u: wrong chip id", i);
			return -1;
		}
		if (ioctl(fd, KVM_SET_IRQCHIP, &st->irqchip[i]) < 0) {
			log_err("restore: KVM_SET_IRQCHIP %u: %s", i, strerror(errno));
			return -1;
		}
	}
	/* The clock goes on from the snapshot's time; no flags a host
	 * would have to support.  (The PIT is loaded by the reaper: vm/pit.h.) */
	st->clock.flags = 0;
	if (ioctl(fd, KVM_SET_CLOCK, &st->clock) < 0) {
		log_err("restore: KVM_SET_CLOCK: %s", strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < NLEGACY; i++) {
		const struct legacy_ops *o = legacy_kinds[i];
		uint32_t len = st->legacy_len[i];
		if (!vm->legacy[i] || !o->restore) {
			if (len) {
				log_err("restore: state for device %s, which this "
					"VM does not have", o->name);
				return -1;
			}
			continue;
		}
		if (o->restore(vm->legacy[i], st->legacy[i], len) < 0)
			return -1;
	}
	return 0;
}

const struct kvm_pit_state2 *restore_pit_state(const struct vm *vm)
{
	return vm->restore ? &vm->restore->st->pit : NULL;
}

int restore_state(struct vm *vm)
{
	struct restore *r = vm->restore;
	struct snap_msrs allowed;

	if (vcpu_msr_list(vm->m.kvm.fd, &allowed) < 0)
		return -1;
	r->refused = true;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vcpu_state_restore(vm->vcpus[i].fd, i, &allowed,
				       &r->st->vcpu[i]) < 0)
			return -1;
	if (restore_vm(vm, r->st) < 0)
		return -1;
	for (unsigned i = 0; i < vm->vdevs.n; i++) {
		const struct vdev *d = &vm->vdevs.d[i];
		if (!d->ops->restore) {
			log_err("restore: %s%u cannot be restored", d->ops->name, d->n);
			return -1;
		}
		if (d->ops->restore(d->dev, r->st->vdev[i], r->st->vdev_len[i]) < 0)
			return -1;
	}
	/* The guest learns it was restored (the VM generation ID). */
	for (unsigned i = 0; i < NLEGACY; i++)
		if (vm->legacy[i] && legacy_kinds[i]->restored)
			legacy_kinds[i]->restored(vm->legacy[i]);
	r->refused = false;
	/* The loaded state is KVM's and the devices' now: it and its
	 * buffers go back to the system (each clone would carry them for
	 * its whole run; with glibc, malloc_trim() returns the free pages
	 * inside the heap too). */
	snap_state_drop(r);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	return 0;
}

void restore_drop_fd(struct vm *vm)
{
	if (vm->restore && vm->restore->mem_fd >= 0) {
		close(vm->restore->mem_fd);
		vm->restore->mem_fd = -1;
	}
}

bool restore_refused(const struct vm *vm)
{
	return vm->restore && vm->restore->refused;
}

void restore_refuse(struct vm *vm)
{
	if (vm->restore)
		vm->restore->refused = true;
}

bool restore_is_source(const struct vm *vm, int fd)
{
	struct stat a;

	return vm->restore && fstat(fd, &a) == 0 &&
	       a.st_dev == vm->restore->mem_dev && a.st_ino == vm->restore->mem_ino;
}

void restore_close(struct vm *vm)
{
	struct restore *r = vm->restore;

	if (!r)
		return;
	if (r->mem_fd >= 0)
		close(r->mem_fd);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	snap_state_drop(r);
	free(r->dir);
	free(r);
	vm->restore = NULL;
}
