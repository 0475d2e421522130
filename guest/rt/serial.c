/*
 * COM1 by polling.  picovm clears LSR.THRE while its output buffer is
 * full, so waiting for THRE before each byte is the flow control; code
 * that must write without waiting (the flood test) uses rt_outsb().
 *
 * Where CPL3 port I/O traps (rt_io_trapped, see ioemu.c), each in/out
 * costs a CPL3->CPL0->CPL3 round trip, so at CPL3 these functions hand
 * whole buffers to a CPL0 service instead: one round trip per buffer,
 * with the per-byte polling done at CPL0.
 */
#include <stdint.h>

#include "cpu.h"
#include "devices/ports.h"
#include "io.h"
#include "layout.h"
#include "rt.h"

#define UART_THR	0
#define UART_RBR	0
#define UART_LSR	5
#define LSR_DR		0x01
#define LSR_THRE	0x20

/* True when this call should go through a CPL0 service. */
static int via_service(void)
{
	return rt_io_trapped && cpu_cpl() == 3;
}

static void putc_direct(char c)
{
	while (!(inb(PICOVM_PORT_COM1 + UART_LSR) & LSR_THRE))
		cpu_pause();
	outb(PICOVM_PORT_COM1 + UART_THR, (uint8_t)c);
}

void serial_write(const void *buf, size_t len)
{
	const char *p = buf;

	if (via_service()) {
		rt_syscall3(SYS_SERIAL_WRITE, (uint64_t)buf, len, 0);
		return;
	}
	for (size_t i = 0; i < len; i++)
		putc_direct(p[i]);
}

void serial_putc(char c)
{
	serial_write(&c, 1);
}

static int getc_direct(void)
{
	while (!(inb(PICOVM_PORT_COM1 + UART_LSR) & LSR_DR))
		cpu_pause();
	return inb(PICOVM_PORT_COM1 + UART_RBR);
}

size_t serial_read(char *buf, size_t max, int stop)
{
	size_t n = 0;

	if (via_service())
		return (size_t)rt_syscall3(SYS_SERIAL_READ, (uint64_t)buf, max,
					   (uint64_t)(int64_t)stop);
	while (n < max) {
		int c = getc_direct();

		if (c == stop)
			break;
		buf[n++] = (char)c;
	}
	return n;
}

int serial_getc(void)
{
	char c;

	serial_read(&c, 1, -1);
	return (unsigned char)c;
}

void rt_outsb(uint16_t port, const void *buf, size_t len)
{
	if (via_service()) {
		rt_syscall3(SYS_OUTSB, port, (uint64_t)buf, len);
		return;
	}
	__asm__ volatile("rep outsb"
			 : "+S"(buf), "+c"(len) : "d"(port) : "memory");
}
