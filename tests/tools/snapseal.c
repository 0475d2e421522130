/*
 * snapseal STATE vdev N HOW: rewrites one virtio device record of a
 * snapshot state file and seals it again (valid checksum), so that a
 * restore reaches the device's own checks (tests/t-snapshot-io.sh).
 * snapseal STATE cpu vendor|model: the header's CPU vendor (one letter
 * changed) or CPUID 1 signature (model bits flipped), sealed again: a
 * snapshot from another CPU (tests/t-snapshot.sh).
 * HOW: short (one byte less), long (8 zero bytes more), skip (the
 * console's transmit offset set to 2^64-1), mac (a MAC byte flipped),
 * ephemeral (the disk's ephemeral flag flipped).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/snapfile.h"
#include "../../virtio/mmio.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0 || !(buf = malloc((size_t)n + 1)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int main(int argc, char **argv)
{
	struct snap_state s;
	char why[160] = "";
	size_t len, olen;
	uint8_t *out;

	int cpu = argc == 4 && strcmp(argv[2], "cpu") == 0;

	if (!cpu && (argc != 5 || strcmp(argv[2], "vdev") != 0)) {
		fprintf(stderr, "usage: snapseal STATE vdev N short|long|skip|mac|ephemeral\n"
			"       snapseal STATE cpu vendor|model\n");
		return 2;
	}
	uint8_t *buf = slurp(argv[1], &len);
	if (snap_decode(buf, len, &s, why, sizeof(why)) < 0) {
		fprintf(stderr, "snapseal: %s\n", why);
		return 1;
	}
	if (cpu) {
		if (!strcmp(argv[3], "vendor")) {
			s.h.cpu_vendor[0] ^= 0x20;	/* GenuineIntel -> genuineIntel */
		} else if (!strcmp(argv[3], "model")) {
			s.h.cpu_signature ^= 0xf0;	/* CPUID 1 EAX model bits */
		} else {
			fprintf(stderr, "snapseal: cpu vendor|model, not '%s'\n", argv[3]);
			return 2;
		}
		goto seal;
	}
	unsigned long n = strtoul(argv[3], NULL, 10);
	if (n >= s.h.nvdev) {
		fprintf(stderr, "snapseal: no virtio device %lu\n", n);
		return 1;
	}
	const char *how = argv[4];
	const size_t t = sizeof(struct virtio_mmio_state);
	if (!strcmp(how, "short") && s.vdev_len[n]) {
		s.vdev_len[n]--;
	} else if (!strcmp(how, "long") && s.vdev_len[n] + 8 <= SNAP_VDEV_MAX) {
		memset(s.vdev[n] + s.vdev_len[n], 0, 8);
		s.vdev_len[n] += 8;
	} else if (!strcmp(how, "skip") && s.vdev_len[n] >= t + 8) {
		memset(s.vdev[n] + t, 0xff, 8);
	} else if (!strcmp(how, "mac") && s.vdev_len[n] > t) {
		s.vdev[n][t] ^= 1;
	} else if (!strcmp(how, "ephemeral") && s.vdev_len[n] > t + 8) {
		s.vdev[n][t + 8] ^= 1;
	} else {
		fprintf(stderr, "snapseal: cannot do '%s' to a record of %u bytes\n",
			how, s.vdev_len[n]);
		return 1;
	}
seal:
	if (snap_encode(&s, &out, &olen) < 0) {
		fprintf(stderr, "snapseal: out of memory\n");
		return 1;
	}
	FILE *f = fopen(argv[1], "wb");
	if (!f || fwrite(out, 1, olen, f) != olen || fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
