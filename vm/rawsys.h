/*
 * System calls for code that runs in picovm's address space without a
 * thread of libc's own: the helpers vm/pit.c and vm/reaper.c start with
 * clone(CLONE_VM) (no copy of picovm's memory, so no copy-on-write faults
 * for picovm afterwards).  They share picovm's TLS, errno among it, so
 * they call the kernel directly: the result, or -errno.
 */
#ifndef PICOVM_VM_RAWSYS_H
#define PICOVM_VM_RAWSYS_H

#include <stddef.h>

static inline long raw_syscall(long nr, long a, long b, long c, long d, long e)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

/* v in decimal at b[o..], writing no further than b[cap - 1]: the new
 * end.  For code that may not call snprintf (these helpers, a signal
 * handler). */
static inline size_t raw_put_dec(char *b, size_t o, size_t cap, unsigned long v)
{
	char tmp[20];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(tmp));
	while (n && o < cap)
		b[o++] = tmp[--n];
	return o;
}

#endif
