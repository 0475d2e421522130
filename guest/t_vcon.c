/*
 * virtio-console tests (DeviceID 3, no MULTIPORT: queue 0 = receiveq,
 * host to guest; queue 1 = transmitq, guest to host).  Their output goes
 * through the transmitq only, so it reaches the console sink exactly once;
 * problems finding the device are reported on COM1.
 *
 *   vcon-hello    "vcon: hello from picotest"
 *   vcon-echo     reads up to '\n' (not kept) or 4096 bytes, then
 *                 "vcon-echo: len=N cksum=C" and "vcon-echo: <bytes>"
 *   vcon-flood:N  N bytes of 64-byte lines (63 letters a..z,a..z,a..k and
 *                 '\n'), a '\n' if N % 64 != 0, then "vcon-flood: done"
 */
#include <stdint.h>

#include "picotest.h"
#include "t_vcon.h"
#include "rt/cpu.h"
#include "rt/mem.h"
#include "virtio/virtio.h"

#define QNUM	64		/* entries per queue */
#define BUFSZ	4096		/* bytes per buffer, both directions */
#define ECHO_MAX 4096

static struct vdev dev;
static struct vq rxq, txq;
static uint8_t *rxbuf, *txbuf;	/* QNUM buffers each */
static uint16_t txfree[QNUM];
static unsigned ntxfree;

static void rx_post(unsigned i)
{
	struct vbuf b = { (uint64_t)(rxbuf + i * BUFSZ), BUFSZ, 1 };

	vq_add(&rxq, &b, 1, (void *)(uint64_t)i);
}

int vcon_open(const struct bootinfo *bi, const char *test)
{
	const char *why;
	uint32_t max;

	if (vdev_find(&dev, bi, VIRTIO_ID_CONSOLE, 0, &why) ||
	    (!rxbuf && (!(rxbuf = rt_alloc(QNUM * BUFSZ, 4096)) ||
			!(txbuf = rt_alloc(QNUM * BUFSZ, 4096)) ||
			vq_alloc(&rxq, &dev, 0) || vq_alloc(&txq, &dev, 1))) ||
	    vdev_negotiate(&dev, FBIT(VIRTIO_F_EVENT_IDX), &why))
		goto fail;
	vdev_w32(&dev, VIRTIO_MMIO_QUEUE_SEL, 0);
	max = vdev_r32(&dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max < QNUM) {
		why = "QueueNumMax below 64";
		goto fail;
	}
	if (vq_setup(&rxq, QNUM, &why) || vq_setup(&txq, QNUM, &why))
		goto fail;
	vdev_driver_ok(&dev);
	/* Receive buffers only after DRIVER_OK: the device may not use the
	 * queue (or be notified) earlier. */
	for (unsigned i = 0; i < QNUM; i++)
		rx_post(i);
	vq_kick(&rxq);
	for (ntxfree = 0; ntxfree < QNUM; ntxfree++)
		txfree[ntxfree] = (uint16_t)ntxfree;
	return 0;
fail:
	rt_printf("%s: no usable virtio-console device: %s\n", test, why);
	return -1;
}

void tx_reap(int all)
{
	uint32_t len;
	void *c;

	do {
		while (vq_pop(&txq, &len, &c) >= 0)
			txfree[ntxfree++] = (uint16_t)(uint64_t)c;
		if (ntxfree == QNUM || (!all && ntxfree))
			return;
		cpu_pause();
	} while (1);
}

void vcon_write(const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n) {
		size_t k = n < BUFSZ ? n : BUFSZ;
		unsigned i;
		struct vbuf b;

		if (!ntxfree) {
			vq_kick(&txq);
			tx_reap(0);
		}
		i = txfree[--ntxfree];
		memcpy(txbuf + i * BUFSZ, s, k);
		b = (struct vbuf){ (uint64_t)(txbuf + i * BUFSZ), (uint32_t)k, 0 };
		vq_add(&txq, &b, 1, (void *)(uint64_t)i);
		s += k;
		n -= k;
	}
	vq_kick(&txq);
}

void vcon_printf(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	vcon_write(line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

int test_vcon_hello(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	(void)arg, (void)arglen;
	if (vcon_open(bi, "vcon-hello"))
		return 1;
	vcon_printf("vcon: hello from picotest\n");
	tx_reap(1);
	return 0;
}

int test_vcon_echo(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	static char line[ECHO_MAX];
	size_t n = 0;
	int done = 0;

	(void)arg, (void)arglen;
	if (vcon_open(bi, "vcon-echo"))
		return 1;
	while (!done) {
		uint32_t len;
		void *c;
		unsigned i;

		if (vq_pop(&rxq, &len, &c) < 0) {
			cpu_pause();
			continue;
		}
		i = (unsigned)(uint64_t)c;
		for (uint32_t k = 0; k < len && k < BUFSZ && !done; k++) {
			char ch = (char)rxbuf[i * BUFSZ + k];

			if (ch == '\n')
				done = 1;
			else
				line[n++] = ch;
			if (n == ECHO_MAX)
				done = 1;
		}
		rx_post(i);
		vq_kick(&rxq);
	}
	vcon_printf("vcon-echo: len=%zu cksum=%u\n", n, cksum(line, n));
	vcon_write("vcon-echo: ", 11);
	vcon_write(line, n);
	vcon_write("\n", 1);
	tx_reap(1);
	return 0;
}

int test_vcon_flood(const struct bootinfo *bi, const char *arg, size_t arglen)
{
	static char chunk[BUFSZ];
	uint64_t n;

	if (parse_u64(arg, arglen, &n)) {
		rt_printf("picotest: bad flood length '%.*s'\n", (int)arglen, arg);
		return EXIT_USAGE;
	}
	if (vcon_open(bi, "vcon-flood"))
		return 1;
	/* BUFSZ is a multiple of 64: every chunk starts a line. */
	for (unsigned i = 0; i < BUFSZ; i++)
		chunk[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 64 % 26);
	for (uint64_t done = 0; done < n;) {
		size_t k = n - done < BUFSZ ? (size_t)(n - done) : BUFSZ;

		vcon_write(chunk, k);
		done += k;
	}
	if (n % 64)
		vcon_write("\n", 1);
	vcon_printf("vcon-flood: done\n");
	tx_reap(1);
	return 0;
}
