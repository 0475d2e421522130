/*
 * libFuzzer target: the descriptor-chain walker (virtio/queue.c) and the
 * block request parser (virtio/blkreq.c) over random guest memory.
 *
 * Input: 16 bytes of parameters, then the guest's RAM (up to 64 KiB, the
 * rest zero).  The RAM is a heap block of exactly its size, so ASan sees
 * any access that escapes it; every buffer a chain yields is read and
 * written in full to prove the translator kept it inside.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../virtio/blkreq.h"
#include "../../virtio/queue.h"

#define RAM_SIZE 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_chain chain;
	static struct iovec iov[VQ_MAX_SEGS];
	uint16_t p[8];

	if (size < sizeof(p))
		return 0;
	memcpy(p, data, sizeof(p));
	uint8_t *ram = calloc(1, RAM_SIZE);
	if (!ram)
		return 0;
	size_t n = size - sizeof(p) < RAM_SIZE ? size - sizeof(p) : RAM_SIZE;
	memcpy(ram, data + sizeof(p), n);
	struct guest_mem m = { .host = ram, .size = RAM_SIZE, .low_size = RAM_SIZE };
	struct vq q;
	const char *why = NULL;

	vq_reset(&q);
	q.num = p[0];
	q.desc_gpa = p[1];
	q.avail_gpa = p[2];
	q.used_gpa = p[3];
	if (vq_enable(&q, &m, VQ_MAX_SIZE, p[4] & 1, p[4] & 2, &why) == 0) {
		for (int i = 0; i < 2 * VQ_MAX_SIZE; i++) {
			if (vq_pop(&q, &chain, &why) <= 0)
				break;
			for (unsigned s = 0; s < chain.nout + chain.nin; s++) {
				volatile uint8_t *b = chain.iov[s].iov_base;
				b[0] = b[0];
				b[chain.iov[s].iov_len - 1] = b[chain.iov[s].iov_len - 1];
			}
			struct blk_cmd cmd = { .iov = iov };
			uint64_t capacity = (uint64_t)p[5] << (p[6] & 63);
			if (blk_parse(&chain, capacity, p[7] & 1, &cmd) == 0) {
				*cmd.status_byte = VIRTIO_BLK_S_OK;
				uint64_t total = 0;
				for (unsigned s = 0; s < cmd.niov; s++) {
					memset(cmd.iov[s].iov_base, 0xa5, cmd.iov[s].iov_len);
					total += cmd.iov[s].iov_len;
				}
				if ((cmd.op == BLK_OP_READ || cmd.op == BLK_OP_WRITE) &&
				    total != cmd.len)
					abort();	/* data must be exactly len */
			}
			vq_push(&q, chain.head, (uint32_t)chain.in_len);
			vq_should_notify(&q);
		}
		vq_enable_kicks(&q);
	}
	free(ram);
	return 0;
}
