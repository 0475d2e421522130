/* Threads on stacks picovm keeps; see thread.h. */
#include "thread.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

int thread_spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t guard = page > 0 ? (size_t)page : 4096;
	pthread_attr_t a;

	char *base = mmap(NULL, guard + THREAD_STACK, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return errno;
	if (mprotect(base + guard, THREAD_STACK, PROT_READ | PROT_WRITE) < 0) {
		int e = errno;
		munmap(base, guard + THREAD_STACK);
		return e;
	}
	int ret = pthread_attr_init(&a);
	if (ret == 0) {
		ret = pthread_attr_setstack(&a, base + guard, THREAD_STACK);
		if (ret == 0)
			ret = pthread_create(t, &a, fn, arg);
		pthread_attr_destroy(&a);
	}
	if (ret)
		munmap(base, guard + THREAD_STACK);
	return ret;
}
