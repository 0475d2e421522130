/*
 * System calls for picovm's helper processes that share its memory
 * (clone(CLONE_VM): vm/pit.c, vm/reaper.c).  Having no TLS of their own,
 * they must not touch libc state (errno among it): their calls go
 * through raw_syscall(), which returns the result or -errno.
 */
#ifndef PICOVM_VM_RAWSYS_H
#define PICOVM_VM_RAWSYS_H

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

#endif
