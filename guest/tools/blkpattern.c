/*
 * blkpattern SEED BYTES: writes the first BYTES bytes of the picotest
 * block pattern (blkpattern.h) for SEED to stdout, so a test script can
 * compare a disk image with what the guest wrote:
 *     blkpattern 7 4096 | cmp - <(dd if=img bs=512 skip=S count=8)
 */
#include <stdio.h>
#include <stdlib.h>

#include "blkpattern.h"

int main(int argc, char **argv)
{
	static unsigned char buf[65536];
	unsigned long long seed, n, i = 0;
	char *end;

	if (argc != 3) {
		fprintf(stderr, "usage: blkpattern SEED BYTES\n");
		return 2;
	}
	seed = strtoull(argv[1], &end, 0);
	if (*end)
		return 2;
	n = strtoull(argv[2], &end, 0);
	if (*end)
		return 2;
	while (i < n) {
		size_t k = n - i < sizeof(buf) ? (size_t)(n - i) : sizeof(buf);

		for (size_t j = 0; j < k; j++)
			buf[j] = blk_pattern(seed, i + j);
		if (fwrite(buf, 1, k, stdout) != k)
			return 1;
		i += k;
	}
	return fflush(stdout) ? 1 : 0;
}
