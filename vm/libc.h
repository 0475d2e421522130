/*
 * Read before anything else in every picovm source file (the Makefile's
 * -include): what picovm needs from the C library that musl, which picovm
 * is linked against, declares differently from glibc.  Only declarations:
 * no picovm code depends on which C library it has beyond this file and
 * the malloc tuning in main.c.
 */
#ifndef PICOVM_LIBC_H
#define PICOVM_LIBC_H

#include <sys/ioctl.h>

/* musl declares ioctl(int, int, ...) (POSIX), glibc ioctl(int, unsigned
 * long, ...): the kernel takes the request as 32 bits either way, and KVM's
 * requests (_IOW and friends) do not fit an int's positive range. */
#if !defined(__GLIBC__)
#define ioctl(fd, req, ...) ioctl((fd), (int)(req), ##__VA_ARGS__)
#endif

#endif
