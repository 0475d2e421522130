/*
 * 8250/16550A UART: the register model, one instance per port: COM1
 * (0x3f8-0x3ff, IRQ 4, the console) and, with serial.1, COM2 (0x2f8-0x2ff,
 * IRQ 3, for kgdb).
 * The host side (terminal, stdin, stdout or file) is devices/console.c,
 * which talks to the model only through its chardev (devices/conbuf.h).
 *
 * Bounded buffers both ways.  Output: while the host side cannot keep up
 * (stdout stalled), LSR.THRE reads 0 so a well-behaved driver waits; bytes
 * a guest writes regardless are dropped and counted, so a vCPU never
 * blocks on the host and memory never grows.  Input: picovm stops reading
 * stdin while the guest has not drained the buffer, and, once the guest
 * has programmed IER, while its receive interrupt is off (IER.RDI clear,
 * MCR.OUT2 clear, or loopback).
 */
/* The devices are serial_legacy and serial1_legacy (devices.h); with
 * LEGACY_SERIAL_DISCARD COM1's output goes nowhere (serial = none), so
 * THRE never drops. */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "ports.h"
#include "conbuf.h"
#include "../vm/machine.h"

enum {
	UART_RBR_THR_DLL = 0, UART_IER_DLM = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7, UART_REGS = 8,
};
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
/* A driver may write this many bytes per THRE (the 16550A FIFO depth). */
#define UART_FIFO 16

struct serial {
	pthread_mutex_t lock;
	struct machine *m;
	unsigned irq;		/* PICOVM_IRQ_COM1 or _COM2 */
	bool discard;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thri_pending;
	bool ier_written;	/* the guest has programmed IER: a driver */
	int irq_level;
	struct conbuf cb;	/* output, input, dropped count, wake fd */
};

/* Whether received bytes are visible to the guest.  A guest that programs
 * IER (a driver such as Linux's) sees input only while its receive
 * interrupt can reach the CPU: RDI enabled and OUT2 (the PC's IRQ gate)
 * set, not in loopback.  Until then the bytes picovm already took from
 * stdin are held (LSR.DR clear, RBR reads 0, FIFO clears leave them) and
 * no more is read: otherwise the FIFO clears and reads of its probe (which
 * enables every IER bit for a moment, with OUT2 clear) and start-up would
 * lose them, and `echo CMD | picovm run` would lose CMD.  A guest that
 * never touches IER polls, and sees input at once. */
static bool rx_gate_open(const struct serial *s)
{
	return !s->ier_written ||
	       ((s->ier & IER_RDI) && (s->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2);
}

static bool thr_empty(const struct serial *s)
{
	return s->discard || ring_space(&s->cb.out) >= UART_FIFO;
}

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->cb.in.len && rx_gate_open(s))
		return fifo | IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

/* Called with the lock held after anything that may change IIR. */
static void update_irq(struct serial *s)
{
	int level = (iir(s) & IIR_NONE) ? 0 : 1;

	if (!(s->mcr & MCR_OUT2))
		level = 0;	/* OUT2 gates the interrupt on a PC */
	if (level != s->irq_level) {
		s->irq_level = level;
		machine_irq_line(s->m, s->irq, level);
	}
}

static void rx_push(struct serial *s, uint8_t b)
{
	ring_push(&s->cb.in, &b, 1);	/* full: overrun, lost as on hardware */
}

static void thr_write(struct serial *s, uint8_t b)
{
	if (s->mcr & MCR_LOOP) {
		rx_push(s, b);
	} else if (!s->discard) {
		bool was_empty = s->cb.out.len == 0;
		if (ring_push(&s->cb.out, &b, 1) == 0)
			s->cb.dropped++;
		else if (was_empty)
			conbuf_wake(&s->cb);
	}
	/* Transmission is instant from the guest's point of view: the THR
	 * is empty again unless the host buffer is full. */
	s->thri_pending = thr_empty(s);
}

static uint8_t serial_read(struct serial *s, uint64_t off)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t v;

	switch (off) {
	case UART_RBR_THR_DLL:
		if (dlab)
			return s->dll;
		{
			bool was_full = ring_space(&s->cb.in) == 0;
			v = 0;
			if (rx_gate_open(s) && ring_pop(&s->cb.in, &v, 1) && was_full)
				conbuf_wake(&s->cb);	/* room again: read stdin */
		}
		return v;
	case UART_IER_DLM:
		return dlab ? s->dlm : s->ier;
	case UART_IIR_FCR:
		v = iir(s);
		if ((v & 0x0f) == IIR_THRI)
			s->thri_pending = false;	/* reading IIR acks THRI */
		return v;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return (uint8_t)((s->cb.in.len && rx_gate_open(s) ? LSR_DR : 0) |
				 (thr_empty(s) ? LSR_THRE | LSR_TEMT : 0));
	case UART_MSR:
		if (s->mcr & MCR_LOOP)
			return (uint8_t)(((s->mcr & MCR_RTS) ? MSR_CTS : 0) |
					 ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
					 ((s->mcr & MCR_OUT1) ? MSR_RI : 0) |
					 ((s->mcr & MCR_OUT2) ? MSR_DCD : 0));
		return MSR_DCD | MSR_DSR | MSR_CTS;
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

static void serial_write(struct serial *s, uint64_t off, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (off) {
	case UART_RBR_THR_DLL:
		/* The divisor is only stored: no baud rate is ever computed
		 * from it, so 0 or 0xffff is harmless. */
		if (dlab)
			s->dll = v;
		else
			thr_write(s, v);
		break;
	case UART_IER_DLM:
		if (dlab) {
			s->dlm = v;
		} else {
			/* Enabling THRI with an empty THR raises it at once. */
			if ((v & IER_THRI) && !(s->ier & IER_THRI) && thr_empty(s))
				s->thri_pending = true;
			bool was_open = rx_gate_open(s);
			s->ier = v & 0x0f;
			s->ier_written = true;
			if (!was_open && rx_gate_open(s))
				conbuf_wake(&s->cb);	/* read stdin again */
		}
		break;
	case UART_IIR_FCR:
		s->fcr = v & 0xc9;
		if ((v & FCR_CLEAR_RX) && rx_gate_open(s)) {
			bool was_full = ring_space(&s->cb.in) == 0;
			ring_pop(&s->cb.in, NULL, s->cb.in.len);
			if (was_full)
				conbuf_wake(&s->cb);
		}
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR: {
		bool was_open = rx_gate_open(s);
		s->mcr = v & 0x1f;
		if (!was_open && rx_gate_open(s))
			conbuf_wake(&s->cb);
		break;
	}
	case UART_SCR:
		s->scr = v;
		break;
	default:
		break;	/* LSR and MSR are read-only */
	}
}

static void serial_access(void *opaque, uint64_t off, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct serial *s = opaque;

	if (len != 1) {		/* the UART has byte registers only */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (is_write)
		serial_write(s, off, data[0]);
	else
		data[0] = serial_read(s, off);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* conbuf hooks (lock held). */
static void serial_out_consumed(void *owner, size_t space_before)
{
	struct serial *s = owner;

	if (!s->discard && space_before < UART_FIFO && thr_empty(s)) {
		s->thri_pending = true;	/* THR empty again */
		update_irq(s);
	}
}

static bool serial_in_open(const void *owner)
{
	return rx_gate_open(owner);
}

static void serial_in_pushed(void *owner, size_t n)
{
	(void)n;
	update_irq(owner);
}

static const struct conbuf_hooks serial_hooks = {
	.out_consumed = serial_out_consumed,
	.in_open = serial_in_open,
	.in_pushed = serial_in_pushed,
};

static int serial_new(struct machine *m, const char *name, uint16_t port,
		      unsigned irq, bool discard, void **dev)
{
	struct serial *s = legacy_new(m, name, sizeof(*s), port, UART_REGS,
				      serial_access);

	if (!s)
		return -1;
	pthread_mutex_init(&s->lock, NULL);
	s->m = m;
	s->irq = irq;
	s->discard = discard;
	conbuf_init(&s->cb, &s->lock, &serial_hooks, s);
	s->lcr = 0x03;		/* 8N1 */
	s->dll = 12;		/* 9600 baud, for a guest that reads it back */
	*dev = s;
	return 0;
}

static int serial_create(struct machine *m, unsigned flags, void **dev)
{
	return serial_new(m, "serial", PICOVM_PORT_COM1, PICOVM_IRQ_COM1,
			  flags & LEGACY_SERIAL_DISCARD, dev);
}

/* COM2 exists only with serial.1 (its absence reads 0xff, as no UART). */
static int serial1_create(struct machine *m, unsigned flags, void **dev)
{
	if (!(flags & LEGACY_SERIAL1))
		return 0;
	return serial_new(m, "serial.1", PICOVM_PORT_COM2, PICOVM_IRQ_COM2,
			  false, dev);
}

static void serial_destroy(void *dev)
{
	struct serial *s = dev;

	if (s)
		pthread_mutex_destroy(&s->lock);
	legacy_free(s);
}

static struct chardev serial_chardev(void *dev)
{
	struct serial *s = dev;

	return conbuf_chardev(&s->cb);
}

/* The registers; buffered bytes are not state (output is flushed by the
 * console thread, input not yet read by the guest is the host's). */
#define SERIAL_STATE 10

static size_t serial_save(void *dev, uint8_t *b)
{
	struct serial *s = dev;

	pthread_mutex_lock(&s->lock);
	uint8_t v[SERIAL_STATE] = { s->ier, s->lcr, s->mcr, s->scr, s->dll,
		s->dlm, s->fcr, s->thri_pending, s->ier_written,
		(uint8_t)s->irq_level };
	pthread_mutex_unlock(&s->lock);
	memcpy(b, v, sizeof(v));
	return sizeof(v);
}

static int serial_restore(void *dev, const uint8_t *b, size_t len)
{
	struct serial *s = dev;

	if (len != SERIAL_STATE || b[7] > 1 || b[8] > 1 || b[9] > 1)
		return legacy_bad_state(s->irq == PICOVM_IRQ_COM1 ? "serial" :
					"serial.1", len, SERIAL_STATE);
	pthread_mutex_lock(&s->lock);
	s->ier = b[0], s->lcr = b[1], s->mcr = b[2], s->scr = b[3];
	s->dll = b[4], s->dlm = b[5], s->fcr = b[6];
	s->thri_pending = b[7], s->ier_written = b[8], s->irq_level = b[9];
	pthread_mutex_unlock(&s->lock);
	return 0;
}

const struct legacy_ops serial_legacy = {
	.name = "serial",
	.create = serial_create,
	.destroy = serial_destroy,
	.chardev = serial_chardev,
	.save = serial_save,
	.restore = serial_restore,
};

const struct legacy_ops serial1_legacy = {
	.name = "serial.1",
	.create = serial1_create,
	.destroy = serial_destroy,
	.chardev = serial_chardev,
	.save = serial_save,
	.restore = serial_restore,
};
