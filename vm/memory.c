/* Guest RAM; see memory.h for the layout and the translator's contract. */
#include "memory.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

int gmem_init(struct guest_mem *m, uint64_t size, bool huge)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;

	memset(m, 0, sizeof(*m));
	if (size == 0 || size > SIZE_MAX)
		return -EINVAL;
	/* Huge pages are reserved up front, so a short pool is an error now
	 * rather than a fault in the middle of the guest's run; ordinary RAM
	 * is only committed as the guest touches it. */
	flags |= huge ? MAP_HUGETLB : MAP_NORESERVE;
	void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* Guest RAM never belongs in a core dump of picovm: it is large and
	 * it is the guest's data. */
	madvise(p, (size_t)size, MADV_DONTDUMP);
	m->host = p;
	m->size = size;
	m->huge = huge;
	m->low_size = size > MEM_HOLE_START ? MEM_HOLE_START : size;
	m->high_size = size - m->low_size;
	return 0;
}

int gmem_init_file(struct guest_mem *m, int fd, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	if (size == 0 || size > SIZE_MAX)
		return -EINVAL;
	void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* No read-around: a fault that misses the page cache reads its page
	 * alone, so the cache (which fault-around maps into every clone)
	 * holds only pages some restore's guest touched, in small folios
	 * once the snapshot writer has dropped it (README "Snapshots"). */
	madvise(p, (size_t)size, MADV_RANDOM);
	madvise(p, (size_t)size, MADV_DONTDUMP);
	m->host = p;
	m->size = size;
	m->low_size = size > MEM_HOLE_START ? MEM_HOLE_START : size;
	m->high_size = size - m->low_size;
	return 0;
}

static int gmem_slot(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size,
		     void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	return 0;
}

int gmem_register(const struct guest_mem *m, int vm_fd)
{
	int ret = gmem_slot(vm_fd, 0, 0, m->low_size, m->host);

	if (ret == 0 && m->high_size)
		ret = gmem_slot(vm_fd, 1, MEM_HIGH_START, m->high_size,
				m->host + m->low_size);
	return ret;
}

void gmem_free(struct guest_mem *m)
{
	if (m->host)
		munmap(m->host, (size_t)m->size);
	m->host = NULL;
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	if (end <= m->low_size)
		return m->host + gpa;
	if (gpa >= MEM_HIGH_START && end - MEM_HIGH_START <= m->high_size)
		return m->host + m->low_size + (gpa - MEM_HIGH_START);
	return NULL;
}
