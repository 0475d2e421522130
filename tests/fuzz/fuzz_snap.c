/*
 * libFuzzer target: the snapshot state loader (vm/snapfile.c).
 *
 * Input: one parameter byte, then a state file.  With bit 0 of the
 * parameter set, the header's payload size and checksum are fixed up
 * first, so the fuzzer gets past the checksum into the records.  A file
 * the loader accepts must encode and load again, and encode to the same
 * bytes the second time (the loader keeps everything it accepted); a
 * refusal must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/snapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_header h;
	struct snap_state s, t;
	char why[160] = "";

	if (size < 1)
		return 0;
	int fix = data[0] & 1;
	data++, size--;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (fix && size >= sizeof(h)) {
		memcpy(&h, buf, sizeof(h));
		h.payload_size = size - sizeof(h);
		h.checksum = 0;
		memcpy(buf, &h, sizeof(h));
		h.checksum = snap_hash(buf, size);
		memcpy(buf, &h, sizeof(h));
	}
	if (snap_decode(buf, size, &s, why, sizeof(why)) == 0) {
		uint8_t *a, *b;
		size_t alen, blen;
		if (s.h.nvcpus < 1 || s.h.nvcpus > SNAP_MAX_VCPUS ||
		    s.h.nlegacy > SNAP_MAX_LEGACY)
			abort();
		for (uint32_t i = 0; i < s.h.nvcpus; i++)
			if (s.vcpu[i].msrs.n > SNAP_MAX_MSRS)
				abort();
		if (snap_encode(&s, &a, &alen) == 0) {
			if (snap_decode(a, alen, &t, why, sizeof(why)) != 0)
				abort();
			if (snap_encode(&t, &b, &blen) == 0) {
				if (blen != alen || memcmp(a, b, alen) != 0)
					abort();
				free(b);
			}
			snap_free(&t);
			free(a);
		}
		snap_free(&s);
	} else if (!why[0]) {
		abort();
	}
	free(buf);
	return 0;
}
