/*
 * The picotest runtime, as seen from test code (CPL3 unless noted).
 *
 * Start-up (head.S, desc.c) leaves the boot CPU at CPL3 with IOPL=3,
 * interrupts off, on a 64 KiB stack, with the first 4 GiB identity mapped
 * (2 MiB pages, user accessible, write-back), then calls
 *     int picotest_main(const struct bootinfo *bi);
 * which the program provides; its return value is the exit status.
 *
 * Output goes to COM1 with flow control (LSR.THRE is polled before every
 * byte); exit goes through picovm's exit port.  Port I/O and MMIO helpers
 * are in io.h, CPU helpers in cpu.h, boot information in bootinfo.h.
 */
#ifndef PICOTEST_RT_H
#define PICOTEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "bootinfo.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Provided by the program. */
int picotest_main(const struct bootinfo *bi);

/* Writes status (low byte) to picovm's exit port; if the VM goes on
 * (QEMU), to QEMU's isa-debug-exit port 0xf4; then halts this CPU for
 * good.  Works at CPL0 too. */
_Noreturn void rt_exit(unsigned status);
/* CPL0 services (layout.h SYS_*), entered with int3. */
uint64_t rt_syscall(uint64_t nr, uint64_t arg);
uint64_t rt_syscall3(uint64_t nr, uint64_t a, uint64_t b, uint64_t c);
_Noreturn void rt_halt(void);

/* COM1, polled, flow controlled (THRE before each byte).  serial_read()
 * blocks until it has max bytes or has read the byte `stop` (not stored;
 * -1: none) and returns how many it stored. */
void serial_putc(char c);
void serial_write(const void *buf, size_t len);
int serial_getc(void);
size_t serial_read(char *buf, size_t max, int stop);
/* rep outsb: len bytes to one port, no status checks at all. */
void rt_outsb(uint16_t port, const void *buf, size_t len);

/* Non-zero once a CPL3 in/out has trapped to CPL0 (ioemu.c): the runtime
 * then batches port I/O through CPL0 services. */
extern volatile uint64_t rt_io_trapped;

/* printf subset: %d %i %u %x %X %c %s %p %%, flags '#' '0' '-',
 * width, precision (also '*'), lengths hh h l ll z. */
int rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int rt_vprintf(const char *fmt, va_list ap);
int rt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void rt_puts(const char *s);	/* s, then '\n' */

/* string.c: the freestanding basics (GCC may call the mem* ones). */
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Decimal (or 0x-prefixed hex) of exactly len chars; 0 or -1. */
int parse_u64(const char *s, size_t len, uint64_t *out);

/* POSIX cksum (what `cksum` prints first): CRC-32, polynomial
 * 0x04c11db7, MSB first, then the length in bytes LSB first, inverted. */
struct cksum {
	uint32_t crc;
	uint64_t len;
};
void cksum_init(struct cksum *c);
void cksum_update(struct cksum *c, const void *buf, size_t n);
uint32_t cksum_final(const struct cksum *c);
uint32_t cksum(const void *buf, size_t n);

/* Busy-waits at least `ticks` TSC ticks. */
void delay_ticks(uint64_t ticks);

#endif
