/*
 * 8250/16550A UART on COM1 (0x3f8-0x3ff, IRQ 4): the register model.
 * The host side (terminal, stdin, stdout or file) is devices/console.c,
 * which talks to the model only through the functions below.
 *
 * Bounded buffers both ways.  Output: while the host side cannot keep up
 * (stdout stalled), LSR.THRE reads 0 so a well-behaved driver waits; bytes
 * a guest writes regardless are dropped and counted, so a vCPU never
 * blocks on the host and memory never grows.  Input: picovm stops reading
 * stdin while the guest has not drained the buffer, and, once the guest
 * has programmed IER, while its receive interrupt is off (IER.RDI clear,
 * MCR.OUT2 clear, or loopback).
 */
#ifndef PICOVM_DEVICES_SERIAL_H
#define PICOVM_DEVICES_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chardev.h"

/* The device is serial_legacy (devices.h); with LEGACY_SERIAL_DISCARD its
 * output goes nowhere (serial = none), so THRE never drops.  Its chardev
 * is the host side's view of the UART (devices/chardev.h). */

#define SERIAL_OUT_SIZE 65536
#define SERIAL_IN_SIZE 4096

#endif
