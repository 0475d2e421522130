/* The snapshot state file: writer and hostile-input loader; see snapfile.h. */
#include "snapfile.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	TAG_REGS = 1, TAG_SREGS, TAG_XSAVE, TAG_XCRS, TAG_MSRS, TAG_LAPIC,
	TAG_EVENTS, TAG_DEBUGREGS, TAG_MP_STATE, TAG_VCPU_END,
	TAG_IRQCHIP = 20, TAG_PIT, TAG_CLOCK,
	TAG_LEGACY = 30,
	TAG_VDEV = 40,
};
#define NVCPU_TAGS (TAG_VCPU_END - TAG_REGS)

/* FNV-1a 64 of n more bytes, from the hash so far h. */
static uint64_t hash_more(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t snap_hash(const void *p, size_t n)
{
	return hash_more(0xcbf29ce484222325ULL, p, n);
}

int snap_alloc(struct snap_state *s, uint32_t nvcpus)
{
	memset(s, 0, sizeof(*s));
	if (nvcpus < 1 || nvcpus > SNAP_MAX_VCPUS)
		return -1;
	s->vcpu = calloc(nvcpus, sizeof(*s->vcpu));
	if (!s->vcpu)
		return -1;
	s->h.nvcpus = nvcpus;
	return 0;
}

void snap_free(struct snap_state *s)
{
	free(s->vcpu);
	s->vcpu = NULL;
}

/* The one place that knows which record is where in struct snap_state;
 * len is the fixed size, 0 for the variable ones (MSRs, legacy). */
static void *record(struct snap_state *s, uint32_t tag, uint32_t i,
		    size_t *len)
{
	struct snap_vcpu *v = tag < TAG_VCPU_END && i < s->h.nvcpus ?
			      &s->vcpu[i] : NULL;
#define FIXED(field) (*len = sizeof(field), (void *)&(field))
	switch (tag) {
	case TAG_REGS: return v ? FIXED(v->regs) : NULL;
	case TAG_SREGS: return v ? FIXED(v->sregs) : NULL;
	case TAG_XSAVE: return v ? FIXED(v->xsave) : NULL;
	case TAG_XCRS: return v ? FIXED(v->xcrs) : NULL;
	case TAG_MSRS: *len = 0; return v ? &v->msrs : NULL;
	case TAG_LAPIC: return v ? FIXED(v->lapic) : NULL;
	case TAG_EVENTS: return v ? FIXED(v->events) : NULL;
	case TAG_DEBUGREGS: return v ? FIXED(v->debugregs) : NULL;
	case TAG_MP_STATE: return v ? FIXED(v->mp_state) : NULL;
	case TAG_IRQCHIP: return i < 3 ? FIXED(s->irqchip[i]) : NULL;
	case TAG_PIT: return i == 0 ? FIXED(s->pit) : NULL;
	case TAG_CLOCK: return i == 0 ? FIXED(s->clock) : NULL;
	case TAG_LEGACY:
		*len = 0;
		return i < s->h.nlegacy ? s->legacy[i] : NULL;
	case TAG_VDEV:
		*len = 0;
		return i < s->h.nvdev ? s->vdev[i] : NULL;
	}
#undef FIXED
	return NULL;
}

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void put(struct wbuf *w, const void *data, size_t n)
{
	if (w->oom)
		return;
	if (w->cap - w->len < n) {
		size_t cap = (w->cap + n) * 2;
		uint8_t *p = realloc(w->p, cap);
		if (!p) {
			w->oom = true;
			return;
		}
		w->p = p, w->cap = cap;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void put_record(struct wbuf *w, uint32_t tag, uint32_t i,
		       const void *data, size_t n)
{
	uint32_t hdr[3] = { tag, i, (uint32_t)n };

	put(w, hdr, sizeof(hdr));
	put(w, data, n);
}

int snap_encode(const struct snap_state *cs, uint8_t **out, size_t *len)
{
	struct snap_state *s = (struct snap_state *)(uintptr_t)cs;
	struct wbuf w = { 0 };
	struct snap_header h = s->h;
	size_t n = 0;

	put(&w, &h, sizeof(h));
	for (uint32_t i = 0; i < s->h.nvcpus; i++)
		for (uint32_t t = TAG_REGS; t < TAG_VCPU_END; t++) {
			void *p = record(s, t, i, &n);
			if (t == TAG_MSRS)
				n = sizeof(uint32_t) + (size_t)s->vcpu[i].msrs.n *
					sizeof(struct kvm_msr_entry);
			put_record(&w, t, i, p, n);
		}
	static const uint32_t vm_tags[][2] = {
		{ TAG_IRQCHIP, 0 }, { TAG_IRQCHIP, 1 }, { TAG_IRQCHIP, 2 },
		{ TAG_PIT, 0 }, { TAG_CLOCK, 0 },
	};
	for (size_t i = 0; i < sizeof(vm_tags) / sizeof(vm_tags[0]); i++) {
		void *p = record(s, vm_tags[i][0], vm_tags[i][1], &n);
		put_record(&w, vm_tags[i][0], vm_tags[i][1], p, n);
	}
	for (uint32_t i = 0; i < s->h.nlegacy; i++)
		put_record(&w, TAG_LEGACY, i, s->legacy[i], s->legacy_len[i]);
	for (uint32_t i = 0; i < s->h.nvdev; i++)
		put_record(&w, TAG_VDEV, i, s->vdev[i], s->vdev_len[i]);
	if (w.oom) {
		free(w.p);
		return -1;
	}
	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	h.version = SNAP_VERSION;
	h.header_size = sizeof(h);
	h.payload_size = w.len - sizeof(h);
	h.checksum = 0;
	memcpy(w.p, &h, sizeof(h));
	h.checksum = snap_hash(w.p, w.len);
	memcpy(w.p, &h, sizeof(h));
	*out = w.p;
	*len = w.len;
	return 0;
}

static int bad(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_header(const uint8_t *buf, size_t len, struct snap_header *h,
			char *why, size_t wl)
{
	if (len < sizeof(*h))
		return bad(why, wl, "truncated: %zu bytes, shorter than its "
			   "header", len);
	memcpy(h, buf, sizeof(*h));
	if (memcmp(h->magic, SNAP_MAGIC, sizeof(h->magic)) != 0)
		return bad(why, wl, "not a picovm snapshot state file");
	if (h->version != SNAP_VERSION)
		return bad(why, wl, "state file version %u; this picovm reads "
			   "version %u only", h->version, SNAP_VERSION);
	if (h->header_size != sizeof(*h))
		return bad(why, wl, "header size %u, expected %zu",
			   h->header_size, sizeof(*h));
	if (h->payload_size != len - sizeof(*h))
		return bad(why, wl, "truncated or extended: %zu bytes, the "
			   "header says %llu", len, (unsigned long long)
			   (h->payload_size + sizeof(*h)));
	/* The checksum covers the header with its checksum field zero and
	 * the payload. */
	struct snap_header z = *h;
	z.checksum = 0;
	uint64_t sum = hash_more(snap_hash(&z, sizeof(z)), buf + sizeof(z),
				 len - sizeof(z));
	if (sum != h->checksum)
		return bad(why, wl, "checksum mismatch: the file is damaged");
	if (h->nvcpus < 1 || h->nvcpus > SNAP_MAX_VCPUS)
		return bad(why, wl, "%u vCPUs, outside 1..%u", h->nvcpus,
			   SNAP_MAX_VCPUS);
	if (h->nlegacy > SNAP_MAX_LEGACY)
		return bad(why, wl, "%u legacy devices, at most %u", h->nlegacy,
			   SNAP_MAX_LEGACY);
	if (h->nvdev > SNAP_MAX_VDEV)
		return bad(why, wl, "%u virtio devices, at most %u", h->nvdev,
			   SNAP_MAX_VDEV);
	return 0;
}

int snap_decode(const uint8_t *buf, size_t len, struct snap_state *s,
		char *why, size_t wl)
{
	struct snap_header h;

	memset(s, 0, sizeof(*s));
	if (check_header(buf, len, &h, why, wl) < 0 ||
	    snap_alloc(s, h.nvcpus) < 0) {
		if (!why[0])
			bad(why, wl, "out of memory");
		return -1;
	}
	s->h = h;
	/* Seen records: NVCPU_TAGS per vCPU, then 3 irqchips, PIT, clock,
	 * the legacy devices, the virtio devices. */
	size_t nseen = (size_t)h.nvcpus * NVCPU_TAGS + 5 + h.nlegacy + h.nvdev;
	bool *seen = calloc(nseen, sizeof(*seen));
	if (!seen) {
		snap_free(s);
		return bad(why, wl, "out of memory");
	}
	size_t off = sizeof(h), nrec = 0;
	int ret = 0;
	while (ret == 0 && off < len) {
		uint32_t rh[3];
		size_t want;
		if (len - off < sizeof(rh)) {
			ret = bad(why, wl, "truncated record at byte %zu", off);
			break;
		}
		memcpy(rh, buf + off, sizeof(rh));
		off += sizeof(rh);
		void *dst = record(s, rh[0], rh[1], &want);
		size_t slot;
		if (!dst) {
			ret = bad(why, wl, "unknown record %u/%u at byte %zu",
				  rh[0], rh[1], off - sizeof(rh));
			break;
		}
		if (rh[0] < TAG_VCPU_END)
			slot = (size_t)rh[1] * NVCPU_TAGS + (rh[0] - TAG_REGS);
		else if (rh[0] == TAG_IRQCHIP)
			slot = (size_t)h.nvcpus * NVCPU_TAGS + rh[1];
		else if (rh[0] == TAG_LEGACY)
			slot = (size_t)h.nvcpus * NVCPU_TAGS + 5 + rh[1];
		else if (rh[0] == TAG_VDEV)
			slot = (size_t)h.nvcpus * NVCPU_TAGS + 5 + h.nlegacy + rh[1];
		else
			slot = (size_t)h.nvcpus * NVCPU_TAGS + 3 +
			       (rh[0] == TAG_CLOCK);
		if (seen[slot]) {
			ret = bad(why, wl, "record %u/%u twice", rh[0], rh[1]);
			break;
		}
		seen[slot] = true;
		nrec++;
		if (rh[2] > len - off) {
			ret = bad(why, wl, "record %u/%u: truncated", rh[0], rh[1]);
			break;
		}
		if (rh[0] == TAG_MSRS) {
			uint32_t n;
			if (rh[2] < sizeof(n) || (memcpy(&n, buf + off, sizeof(n)),
			    n > SNAP_MAX_MSRS) || rh[2] != sizeof(n) +
			    (size_t)n * sizeof(struct kvm_msr_entry)) {
				ret = bad(why, wl, "vCPU %u: bad MSR list", rh[1]);
				break;
			}
		} else if (rh[0] == TAG_LEGACY || rh[0] == TAG_VDEV) {
			bool leg = rh[0] == TAG_LEGACY;
			uint32_t max = leg ? SNAP_LEGACY_MAX : SNAP_VDEV_MAX;
			if (rh[2] > max) {
				ret = bad(why, wl, "%s device %u: %u bytes of state, "
					  "at most %u", leg ? "legacy" : "virtio",
					  rh[1], rh[2], max);
				break;
			}
			(leg ? s->legacy_len : s->vdev_len)[rh[1]] = rh[2];
		} else if (rh[2] != want) {
			ret = bad(why, wl, "record %u/%u: %u bytes, expected %zu",
				  rh[0], rh[1], rh[2], want);
			break;
		}
		memcpy(dst, buf + off, rh[2]);
		off += rh[2];
	}
	if (ret == 0 && nrec != nseen)
		ret = bad(why, wl, "%zu of %zu records missing", nseen - nrec,
			  nseen);
	free(seen);
	if (ret < 0)
		snap_free(s);
	return ret;
}
