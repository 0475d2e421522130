/*
 * The CPUID list's cache (vcpu/cpucache.c): a list stored is the list
 * loaded, and a file that is not exactly what picovm wrote for this KVM
 * (another KVM, bytes changed, cut, grown, more entries than the caller
 * takes, a link, no cache folder) is a miss, never a list.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "../../vcpu/cpucache.h"

static union {
	struct kvm_cpuid2 c;
	unsigned char bytes[sizeof(struct kvm_cpuid2) +
			    CPUCACHE_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2)];
} in, out;

static char dir[64], file[128];

static long file_size(void)
{
	struct stat st;

	return stat(file, &st) == 0 ? (long)st.st_size : -1;
}

/* Changes the byte at off (from the end when negative) of the cache. */
static void flip(long off)
{
	int fd = open(file, O_RDWR);
	unsigned char b;
	off_t at = off < 0 ? file_size() + off : off;

	if (fd < 0 || pread(fd, &b, 1, at) != 1)
		exit(2);
	b ^= 0x40;
	if (pwrite(fd, &b, 1, at) != 1)
		exit(2);
	close(fd);
}

static bool load_ok(int fd, unsigned max)
{
	memset(&out, 0xa5, sizeof(out));
	if (cpucache_load(fd, &out.c, max) < 0)
		return false;
	return out.c.nent == in.c.nent &&
	       !memcmp(out.c.entries, in.c.entries,
		       in.c.nent * sizeof(struct kvm_cpuid_entry2));
}

int main(void)
{
	int kvm = open("/dev/null", O_RDONLY);	/* stands for /dev/kvm */
	int other = open("/dev/zero", O_RDONLY);	/* another device */

	snprintf(dir, sizeof(dir), "/tmp/picovm-cpucache.XXXXXX");
	if (kvm < 0 || other < 0 || !mkdtemp(dir))
		return 2;
	setenv("XDG_CACHE_HOME", dir, 1);
	snprintf(file, sizeof(file), "%s/picovm/cpuid", dir);

	in.c.nent = 3;
	for (unsigned i = 0; i < 3; i++) {
		in.c.entries[i].function = i ? 0x80000000u + i : 0;
		in.c.entries[i].eax = 0x1000u * (i + 1);
		in.c.entries[i].ebx = 0x756e6547u + i;
	}
	check("no cache yet: a miss", !load_ok(kvm, 256), "a list without a file");
	cpucache_store(kvm, &in.c);
	struct stat st;
	check("stored: the file is the user's alone (0600)",
	      stat(file, &st) == 0 && (st.st_mode & 0777) == 0600,
	      "mode %o", (unsigned)(st.st_mode & 0777));
	check("stored, loaded: the same entries", load_ok(kvm, 256), "miss or other entries");
	check("another KVM (device): a miss", !load_ok(other, 256), "loaded");
	check("fewer entries wanted than cached: a miss", !load_ok(kvm, 2), "loaded");

	long size = file_size();
	flip(-5);
	check("an entry's byte changed: a miss", !load_ok(kvm, 256), "loaded");
	cpucache_store(kvm, &in.c);
	flip(30);
	check("a byte of the key changed: a miss", !load_ok(kvm, 256), "loaded");
	cpucache_store(kvm, &in.c);
	check("rewritten after a miss: a hit again", load_ok(kvm, 256), "miss");
	check("rewritten: the same size", file_size() == size, "%ld, was %ld",
	      file_size(), size);
	if (truncate(file, size - 1) < 0)
		return 2;
	check("cut by a byte: a miss", !load_ok(kvm, 256), "loaded");
	cpucache_store(kvm, &in.c);
	int fd = open(file, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "x", 1) != 1)
		return 2;
	close(fd);
	check("a byte longer: a miss", !load_ok(kvm, 256), "loaded");

	/* A link at the file's place is not followed, for reading or
	 * writing (the rename replaces the link itself). */
	cpucache_store(kvm, &in.c);
	char real[160];
	snprintf(real, sizeof(real), "%s/real", dir);
	if (rename(file, real) < 0 || symlink(real, file) < 0)
		return 2;
	check("a symbolic link in its place: a miss", !load_ok(kvm, 256), "loaded");
	unlink(file);
	unlink(real);

	/* Another user's folder (root with that user's HOME): not used. */
	if (geteuid() == 0) {
		unlink(file);
		if (chown(dir, 65534, 65534) < 0)
			return 2;
		cpucache_store(kvm, &in.c);
		check("a folder of another user: nothing stored there",
		      file_size() < 0, "stored");
		if (chown(dir, 0, 0) < 0)
			return 2;
	}

	setenv("XDG_CACHE_HOME", "relative/path", 1);
	unsetenv("HOME");
	cpucache_store(kvm, &in.c);
	check("no usable XDG_CACHE_HOME or HOME: nothing stored, a miss",
	      !load_ok(kvm, 256) && file_size() < 0, "loaded or stored");

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return check_failures ? 1 : 0;
}
