/*
 * 8250/16550A UART on COM1 (0x3f8-0x3ff, IRQ 4): the register model.
 * The host side (terminal, stdin, stdout or file) is devices/console.c,
 * which talks to the model only through the functions below.
 *
 * Bounded buffers both ways.  Output: while the host side cannot keep up
 * (stdout stalled), LSR.THRE reads 0 so a well-behaved driver waits; bytes
 * a guest writes regardless are dropped and counted, so a vCPU never
 * blocks on the host and memory never grows.  Input: picovm stops reading
 * stdin while the guest has not drained the buffer.
 */
#ifndef PICOVM_DEVICES_SERIAL_H
#define PICOVM_DEVICES_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct serial;

/* discard: output goes nowhere (serial = none), so THRE never drops. */
struct serial *serial_create(struct vm *vm, bool discard);
int serial_attach(struct serial *s);	/* registers on vm->pio */
void serial_destroy(struct serial *s);

/* Host side.  wake_fd (an eventfd) is signalled when output appears or
 * input space frees up. */
void serial_set_wake_fd(struct serial *s, int fd);
size_t serial_peek_output(struct serial *s, uint8_t *buf, size_t max);
void serial_consume_output(struct serial *s, size_t n);
size_t serial_input_space(struct serial *s);
size_t serial_push_input(struct serial *s, const uint8_t *buf, size_t n);
uint64_t serial_dropped(struct serial *s);

#define SERIAL_OUT_SIZE 65536
#define SERIAL_IN_SIZE 4096

#endif
