/*
 * Tests of picovm's 8250: input (echo), output without flow control
 * (flood), and register pokes a hostile guest might make (uart).
 */
#include <stdbool.h>
#include <stdint.h>

#include "devices/ports.h"
#include "picotest.h"
#include "rt/io.h"

#define COM1 PICOVM_PORT_COM1
#define UART_LCR 3
#define UART_IER 1
#define UART_FCR 2
#define UART_MCR 4
#define LCR_DLAB 0x80
#define LCR_8N1 0x03

#define ECHO_MAX 4096

/* echo[:END]: reads input up to the byte END (a number, not stored;
 * default '\n'), prints its length and cksum, then the bytes. */
int test_echo(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	char buf[ECHO_MAX];
	uint64_t end = '\n';
	size_t n;

	(void)bi;
	if (arg && (parse_u64(arg, arglen, &end) || end > 255)) {
		rt_printf("picotest: bad end byte '%.*s'\n", (int)arglen, arg);
		return EXIT_USAGE;
	}
	n = serial_read(buf, sizeof(buf), (char)end);
	rt_printf("echo: len=%zu cksum=%u\n", n, cksum(buf, n));
	rt_printf("echo: ");
	serial_write(buf, n);
	rt_printf("\n");
	return 0;
}

/* Flood bytes come in 64-byte lines: 63 letters a..z,a..z,a..k and '\n'.
 * FLOOD_CHUNK is a multiple of 64, so every chunk starts a line. */
#define FLOOD_LINE 64
#define FLOOD_CHUNK 4096

/* Sends N bytes of the pattern, either straight to THR without looking at
 * LSR (flood: what a hostile or careless guest does) or flow controlled
 * (print: with a stalled reader on the host, nothing may be lost). */
static int send_pattern(const char *name, bool flow, const char *arg,
			size_t arglen)
{
	char chunk[FLOOD_CHUNK];
	uint64_t n;

	if (parse_u64(arg, arglen, &n)) {
		rt_printf("picotest: bad %s length '%.*s'\n", name, (int)arglen,
			  arg);
		return EXIT_USAGE;
	}
	for (unsigned i = 0; i < FLOOD_CHUNK; i++) {
		unsigned col = i % FLOOD_LINE;

		chunk[i] = col == FLOOD_LINE - 1 ? '\n' : (char)('a' + col % 26);
	}
	for (uint64_t done = 0; done < n;) {
		size_t k = n - done < FLOOD_CHUNK ? (size_t)(n - done)
						  : FLOOD_CHUNK;

		if (flow)
			serial_write(chunk, k);
		else
			rt_outsb(COM1, chunk, k);
		done += k;
	}
	if (!flow) {
		/* The last line too ignores LSR: with nobody reading on the
		 * host, a flood never waits (it may lose this line). */
		static const char done[] = "\nflood: done\n";
		if (n % FLOOD_LINE)
			rt_outsb(COM1, done, sizeof(done) - 1);
		else
			rt_outsb(COM1, done + 1, sizeof(done) - 2);
		return 0;
	}
	if (n % FLOOD_LINE)
		serial_putc('\n');
	rt_printf("%s: done\n", name);
	return 0;
}

int test_flood(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	(void)bi;
	return send_pattern("flood", false, arg, arglen);
}

int test_print(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	(void)bi;
	return send_pattern("print", true, arg, arglen);
}

static void set_dlab(int on)
{
	outb(COM1 + UART_LCR, on ? LCR_DLAB : 0);
}

int test_uart(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	volatile uint8_t sink = 0;

	(void)bi, (void)arg, (void)arglen;
	/* Divisor 0, then the largest. */
	set_dlab(1);
	outb(COM1 + 0, 0);
	outb(COM1 + 1, 0);
	outb(COM1 + 0, 0xff);
	outb(COM1 + 1, 0xff);
	/* 0x00 and 0xff to every register, with and without DLAB (each
	 * write may itself change DLAB via LCR, so it is set before each). */
	for (int dlab = 1; dlab >= 0; dlab--) {
		for (uint16_t off = 0; off < 8; off++) {
			set_dlab(dlab);
			outb((uint16_t)(COM1 + off), 0x00);
			set_dlab(dlab);
			outb((uint16_t)(COM1 + off), 0xff);
		}
	}
	/* Read everything, both ways. */
	for (int dlab = 1; dlab >= 0; dlab--) {
		set_dlab(dlab);
		for (uint16_t off = 0; off < 8; off++)
			sink = (uint8_t)(sink + inb((uint16_t)(COM1 + off)));
	}
	(void)sink;
	/* Back to 115200 8N1, no interrupts, no FIFO, DTR|RTS. */
	set_dlab(1);
	outb(COM1 + 0, 1);
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_FCR, 0);
	outb(COM1 + UART_MCR, 0x03);
	rt_puts("");
	rt_puts("uart: survived");
	return 0;
}
