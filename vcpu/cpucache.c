/*
 * The CPUID list's cache (vcpu/cpucache.h).  A file of
 *   the key: text lines, the first "picovm cpuid cache 1"
 *   u32 nent, u32 FNV-1a of the key, nent and the entries
 *   nent struct kvm_cpuid_entry2
 * Anything else (another key, another length, a bad checksum, nent out
 * of range) is a miss: the list is fetched again and the file replaced.
 */
#include "cpucache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#define CACHE_MAGIC "picovm cpuid cache 1\n"
#define KEY_MAX 1024
#define FILE_MAX (KEY_MAX + 8 + CPUCACHE_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2))

/* The file's bytes, read or to be written: static (both calls are made
 * on the main thread only, and allocate nothing). */
static unsigned char file_buf[FILE_MAX];

/* Up to len - 1 bytes of a small file, its last newline dropped; 0 or
 * -1 (then buf is "?"). */
static int read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		snprintf(buf, len, "?");
		return -1;
	}
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* The key into key (KEY_MAX bytes): its length, or 0 when there is none
 * (no boot id to tie it to this boot). */
static size_t cache_key(int kvm_fd, char *key)
{
	struct utsname u;
	struct stat st;
	char boot[64], ucode[32];

	if (uname(&u) < 0 || fstat(kvm_fd, &st) < 0 ||
	    read_line("/proc/sys/kernel/random/boot_id", boot, sizeof(boot)) < 0)
		return 0;
	(void)read_line("/sys/devices/system/cpu/cpu0/microcode/version", ucode,
			sizeof(ucode));
	int n = snprintf(key, KEY_MAX, CACHE_MAGIC "kernel=%s %s\nboot=%s\n"
			 "kvm=%u:%u %lld.%09ld\nmicrocode=%s\n", u.release, u.version,
			 boot, major(st.st_rdev), minor(st.st_rdev),
			 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec, ucode);
	return n > 0 && n < KEY_MAX ? (size_t)n : 0;
}

/* dir, or (not there yet) the folder it would be made in, is picovm's
 * user's. */
static bool owned(const char *dir)
{
	struct stat st;
	char parent[4096];

	if (stat(dir, &st) == 0)
		return st.st_uid == geteuid();
	if (errno != ENOENT || strlen(dir) >= sizeof(parent))
		return false;
	strcpy(parent, dir);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return false;
	slash[slash == parent] = '\0';	/* "/x" -> "/" */
	return stat(parent, &st) == 0 && st.st_uid == geteuid();
}

/* $XDG_CACHE_HOME/picovm or ~/.cache/picovm, with the file's name when
 * file is set; -1 without either variable (or too long), or when that
 * folder (XDG_CACHE_HOME, or HOME) is not picovm's user's: root with
 * another user's HOME (sudo -E) must not make root's files there. */
static int cache_path(char *p, size_t len, bool file)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	const char *base = xdg && xdg[0] == '/' ? xdg :
			   home && home[0] == '/' ? home : NULL;
	int n;

	if (!base || !owned(base))
		return -1;
	if (base == xdg)
		n = snprintf(p, len, "%s/picovm%s", xdg, file ? "/cpuid" : "");
	else
		n = snprintf(p, len, "%s/.cache/picovm%s", home, file ? "/cpuid" : "");
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static uint32_t fnv1a(uint32_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619U;
	return h;
}

/* The checksum of a key, nent and entries laid out as in the file. */
static uint32_t file_sum(const unsigned char *key, size_t key_len, uint32_t nent,
			 const void *entries)
{
	uint32_t h = fnv1a(2166136261U, key, key_len);

	h = fnv1a(h, &nent, sizeof(nent));
	return fnv1a(h, entries, nent * sizeof(struct kvm_cpuid_entry2));
}

int cpucache_load(int kvm_fd, struct kvm_cpuid2 *c, unsigned max)
{
	char key[KEY_MAX], path[4096];
	size_t key_len = cache_key(kvm_fd, key);
	uint32_t nent, sum;

	if (!key_len || cache_path(path, sizeof(path), true) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	/* One byte more than the largest file: a longer one is a miss. */
	ssize_t n = read(fd, file_buf, sizeof(file_buf));
	close(fd);
	if (n < 0 || (size_t)n < key_len + 8 || memcmp(file_buf, key, key_len))
		return -1;
	memcpy(&nent, file_buf + key_len, sizeof(nent));
	memcpy(&sum, file_buf + key_len + 4, sizeof(sum));
	if (nent == 0 || nent > max || nent > CPUCACHE_MAX_ENTRIES ||
	    (size_t)n != key_len + 8 + nent * sizeof(struct kvm_cpuid_entry2))
		return -1;
	const unsigned char *entries = file_buf + key_len + 8;
	if (file_sum(file_buf, key_len, nent, entries) != sum)
		return -1;
	memcpy(c->entries, entries, nent * sizeof(struct kvm_cpuid_entry2));
	c->nent = nent;
	return 0;
}

void cpucache_store(int kvm_fd, const struct kvm_cpuid2 *c)
{
	char key[KEY_MAX], dir[4096], path[4096], tmp[4200];
	size_t key_len = cache_key(kvm_fd, key);
	uint32_t nent = c->nent;

	if (!key_len || nent == 0 || nent > CPUCACHE_MAX_ENTRIES ||
	    cache_path(dir, sizeof(dir), false) < 0 ||
	    cache_path(path, sizeof(path), true) < 0)
		return;
	/* XDG_CACHE_HOME or ~/.cache may not exist yet (then HOME or the
	 * folder XDG_CACHE_HOME is in is the user's: cache_path()); the
	 * folders picovm makes are the user's alone. */
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	(void)mkdir(dir, 0700);
	*slash = '/';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;
	size_t len = key_len + 8 + nent * sizeof(struct kvm_cpuid_entry2);
	uint32_t sum = file_sum((const unsigned char *)key, key_len, nent, c->entries);
	memcpy(file_buf, key, key_len);
	memcpy(file_buf + key_len, &nent, sizeof(nent));
	memcpy(file_buf + key_len + 4, &sum, sizeof(sum));
	memcpy(file_buf + key_len + 8, c->entries, len - key_len - 8);
	/* A whole file or none: written aside, renamed over the old one
	 * (VMs started at once each write their own). */
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	bool ok = write(fd, file_buf, len) == (ssize_t)len;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}
