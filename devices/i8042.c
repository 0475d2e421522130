/*
 * i8042 keyboard controller, just enough for a guest to reset the machine
 * (command 0xfe, what Linux does with reboot=k) and for Linux's i8042
 * driver to find a controller with neither keyboard nor mouse behind it
 * quickly instead of waiting out its timeouts.  Resetting ends the VM with
 * status 0: a microVM has nothing to reboot into.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "ports.h"
#include "../vm/machine.h"

#define STATUS_OBF 0x01
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08
#define STATUS_UNLOCKED 0x10	/* keyboard not inhibited: no "Keylock active" */
#define CTR_KBD_INT 0x01
#define CTR_KBD_DISABLED 0x10
#define CTR_AUX_DISABLED 0x20

struct i8042 {
	pthread_mutex_t lock;
	struct machine *m;
	uint8_t status, ctr, out, pending_cmd;
};

static void reply(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->status |= STATUS_OBF;
}

static void command(struct i8042 *k, uint8_t cmd)
{
	k->status |= STATUS_CMD;
	switch (cmd) {
	case 0x20: reply(k, k->ctr); break;		/* read CTR */
	case 0x60:					/* write CTR */
	case 0xd1:					/* write output port */
	case 0xd2: case 0xd3: case 0xd4:		/* kbd, aux loop, aux */
		k->pending_cmd = cmd;
		break;
	case 0xa7: k->ctr |= CTR_AUX_DISABLED; break;
	case 0xa8: k->ctr &= (uint8_t)~CTR_AUX_DISABLED; break;
	/* No aux (mouse) port, said at once so that Linux's probe does not
	 * wait out its timeouts: the interface test finds its clock line
	 * stuck low (0x01), and the loop command 0xd3 below answers from
	 * the keyboard side, which Linux takes as "no loop". */
	case 0xa9: reply(k, 0x01); break;
	case 0xaa: reply(k, 0x55); break;	/* self test passed */
	case 0xab: reply(k, 0x00); break;	/* kbd interface ok */
	case 0xad: k->ctr |= CTR_KBD_DISABLED; break;
	case 0xae: k->ctr &= (uint8_t)~CTR_KBD_DISABLED; break;
	default:
		/* 0xf0-0xff pulse output lines; bit 0 low pulses reset. */
		if ((cmd & 0xf0) == 0xf0 && !(cmd & 1))
			machine_stop(k->m, EXIT_VM_OK, NULL);
		break;
	}
}

static void data_write(struct i8042 *k, uint8_t v)
{
	k->status &= (uint8_t)~STATUS_CMD;
	switch (k->pending_cmd) {
	case 0x60:
		k->ctr = v;
		break;
	case 0xd1:
		if (!(v & 1))	/* output port bit 0 is the reset line */
			machine_stop(k->m, EXIT_VM_OK, NULL);
		break;
	case 0xd3:
		reply(k, v);	/* status without AUXDATA: not from the aux port */
		break;
	case 0:
		/* A byte for the keyboard, and there is none: refused at
		 * once ("resend", 0xfe) with the keyboard interrupt when the
		 * CTR enables it, so that a driver (Linux atkbd) gives up
		 * now instead of after its timeouts. */
		reply(k, 0xfe);
		if (k->ctr & CTR_KBD_INT) {
			machine_irq_line(k->m, PICOVM_IRQ_KBD, 1);
			machine_irq_line(k->m, PICOVM_IRQ_KBD, 0);
		}
		break;
	default:
		break;	/* 0xd2, 0xd4: no keyboard or mouse to take it */
	}
	k->pending_cmd = 0;
}

static void i8042_access(void *opaque, uint64_t off, uint8_t *data,
			 uint32_t len, bool is_write)
{
	struct i8042 *k = opaque;
	uint16_t port = (uint16_t)(PICOVM_PORT_I8042_DATA + off);

	if (len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&k->lock);
	if (port == PICOVM_PORT_I8042_CMD) {
		if (is_write)
			command(k, data[0]);
		else
			data[0] = k->status;
	} else if (port == PICOVM_PORT_I8042_DATA) {
		if (is_write) {
			data_write(k, data[0]);
		} else {
			data[0] = k->out;
			k->status &= (uint8_t)~STATUS_OBF;
		}
	} else if (!is_write) {
		data[0] = 0xff;
	}
	pthread_mutex_unlock(&k->lock);
}

static int i8042_create(struct machine *m, unsigned flags, void **dev)
{
	/* One region 0x60-0x64; 0x61 between is the PIT's speaker port,
	 * handled in the kernel before it can reach us. */
	struct i8042 *k = legacy_new(m, "i8042", sizeof(*k),
				     PICOVM_PORT_I8042_DATA, PICOVM_PORT_I8042_CMD -
				     PICOVM_PORT_I8042_DATA + 1, i8042_access);

	(void)flags;
	if (!k)
		return -1;
	pthread_mutex_init(&k->lock, NULL);
	k->m = m;
	k->status = STATUS_SYS | STATUS_UNLOCKED;
	k->ctr = CTR_AUX_DISABLED | STATUS_SYS;
	*dev = k;
	return 0;
}

static void i8042_destroy(void *dev)
{
	struct i8042 *k = dev;

	if (k)
		pthread_mutex_destroy(&k->lock);
	legacy_free(k);
}

static size_t i8042_save(void *dev, uint8_t *b)
{
	struct i8042 *k = dev;

	pthread_mutex_lock(&k->lock);
	b[0] = k->status, b[1] = k->ctr, b[2] = k->out, b[3] = k->pending_cmd;
	pthread_mutex_unlock(&k->lock);
	return 4;
}

static int i8042_restore(void *dev, const uint8_t *b, size_t len)
{
	struct i8042 *k = dev;

	if (len != 4)
		return legacy_bad_state("i8042", len, 4);
	pthread_mutex_lock(&k->lock);
	k->status = b[0], k->ctr = b[1], k->out = b[2], k->pending_cmd = b[3];
	pthread_mutex_unlock(&k->lock);
	return 0;
}

const struct legacy_ops i8042_legacy = {
	.name = "i8042",
	.create = i8042_create,
	.destroy = i8042_destroy,
	.save = i8042_save,
	.restore = i8042_restore,
};
