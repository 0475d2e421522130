/*
 * picovm's key table.  Adding a key is one entry here plus the field it
 * fills in struct config; the loader, `check` output, --help and the
 * errors all follow from the entry.  Keep the docs (doc/picovm.conf.5,
 * config/README-keys.md) in step: tests/t-golden.sh checks that every key
 * named here appears in both.
 */
#include "keys.h"
#include "user.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define AT(field) offsetof(struct config, field)

/* KEY_ENUM values are stored through an unsigned *. */
_Static_assert(sizeof(enum kernel_format) == sizeof(unsigned),
	       "enum kernel_format is not unsigned-sized");

static const char *const kernel_formats[] = {
	[KERNEL_FORMAT_AUTO] = "auto",
	[KERNEL_FORMAT_ELF] = "elf",
	[KERNEL_FORMAT_PVH] = "pvh",
	[KERNEL_FORMAT_BZIMAGE] = "bzimage",
};

/* By enum sink_kind; SINK_FILE is spelled file:PATH. */
static const char *const serial_sinks[] = {
	[SINK_STDOUT] = "stdout",
	[SINK_FILE] = NULL,
	[SINK_NONE] = "none",
};
static const char *const log_sinks[] = {
	[SINK_STDOUT] = "stderr",
};

_Static_assert(sizeof(enum disk_cache) == sizeof(unsigned),
	       "enum disk_cache is not unsigned-sized");
_Static_assert(sizeof(enum console_kind) == sizeof(unsigned),
	       "enum console_kind is not unsigned-sized");

static const char *const disk_caches[] = {
	[DISK_CACHE_WRITEBACK] = "writeback",
	[DISK_CACHE_UNSAFE] = "unsafe",
};
static const char *const console_kinds[] = {
	[CONSOLE_SERIAL] = "serial",
	[CONSOLE_VIRTIO] = "virtio",
};

#define DISK(field) offsetof(struct config, disk[0].field)
#define DISK_KEY .stride = sizeof(struct disk_config), .present = DISK(present)

#define NET(field) offsetof(struct config, net[0].field)
#define NET_KEY .stride = sizeof(struct net_config), .present = NET(present)

int config_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int check_mac(const union key_value *v, const void *ctx, char *why,
		     size_t n)
{
	uint8_t mac[6];

	(void)ctx;
	if (!*v->s)
		return 0;	/* "": derived from the name */
	if (config_parse_mac(v->s, mac) < 0) {
		snprintf(why, n, "'%s' is not a MAC address; expected six hex "
			 "bytes like 02:00:00:12:34:56", v->s);
		return -1;
	}
	if (mac[0] & 1) {
		snprintf(why, n, "'%s' is a multicast address; expected a "
			 "unicast MAC (first byte even)", v->s);
		return -1;
	}
	return 0;
}

/* Interface names: what the kernel accepts (IFNAMSIZ, no '/' or space). */
static int check_ifname(const union key_value *v, const void *ctx, char *why,
			size_t n)
{
	size_t len = strlen(v->s);

	(void)ctx;
	if (len == 0)
		return 0;	/* "": none (how `check` prints an unset one) */
	if (len > 15 || strpbrk(v->s, "/: \t") ||
	    strcmp(v->s, ".") == 0 || strcmp(v->s, "..") == 0) {
		snprintf(why, n, "'%s' is not an interface name; expected 1 to 15 "
			 "characters without '/', ':' or spaces", v->s);
		return -1;
	}
	return 0;
}

static int check_fd(const union key_value *v, const void *ctx, char *why,
		    size_t n)
{
	(void)ctx;
	if (v->u != 0 && v->u < 3) {	/* 0: none, as `check` prints it */
		snprintf(why, n, "%u is a standard stream; expected an inherited "
			 "tap descriptor, 3 or above", v->u);
		return -1;
	}
	if (v->u > INT_MAX) {	/* would wrap to a negative int: "no fd" */
		snprintf(why, n, "%u is not a descriptor number; expected an "
			 "inherited tap descriptor, 3..%d", v->u, INT_MAX);
		return -1;
	}
	return 0;
}

static int check_user(const union key_value *v, const void *ctx, char *why,
		      size_t n)
{
	uint32_t uid, gid;

	(void)ctx;
	if (!*v->s)
		return 0;	/* "": none, as `check` prints it */
	return config_parse_user(v->s, NULL, &uid, &gid, why, n);
}

#define NAME_MAX_LEN 64

int config_check_name(const char *name, char *why, size_t n)
{
	static const char expect[] = "expected 1 to 64 characters of "
				     "A-Z a-z 0-9 . _ -";
	size_t len = strlen(name);

	if (len == 0) {
		snprintf(why, n, "the name is empty; %s", expect);
		return -1;
	}
	if (len > NAME_MAX_LEN) {
		snprintf(why, n, "'%.20s...' is %zu characters long; %s", name,
			 len, expect);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
			  ch == '-';
		if (ok)
			continue;
		if (ch >= 0x20 && ch < 0x7f)
			snprintf(why, n, "'%s' contains '%c'; %s", name, ch,
				 expect);
		else
			snprintf(why, n, "'%s' contains the byte 0x%02x; %s",
				 name, ch, expect);
		return -1;
	}
	return 0;
}

static int check_name(const union key_value *v, const void *ctx, char *why,
		      size_t n)
{
	(void)ctx;
	return config_check_name(v->s, why, n);
}

/* The whole range is checked here, not by the table's min/max, because
 * the maximum depends on the host and the message must say whose limit
 * it is. */
static int check_vcpus(const union key_value *v, const void *ctx, char *why,
		       size_t n)
{
	const struct config_limits *lim = ctx;
	unsigned max = CONFIG_MAX_VCPUS;
	bool kvm = lim && lim->max_vcpus && lim->max_vcpus < max;

	if (kvm)
		max = lim->max_vcpus;
	if (v->u < 1) {
		snprintf(why, n, "%u is below the minimum of 1; expected 1..%u",
			 v->u, max);
		return -1;
	}
	if (v->u > max) {
		snprintf(why, n, "%u is above the maximum of %u; expected "
			 "1..%u (%s allows at most %u)", v->u, max, max,
			 kvm ? "KVM on this host" : "picovm", max);
		return -1;
	}
	return 0;
}

static const struct key_def keys[] = {
	{
		.name = "name",
		.type = KEY_STRING,
		.offset = AT(name),
		.check = check_name,
		.def_doc = "the config file name without .conf",
		.help = "the VM's name in picovm's messages",
	},
	{
		.name = "kernel",
		.type = KEY_PATH,
		.flags = KEYF_REQUIRED | KEYF_FILE,
		.offset = AT(kernel),
		.help = "the guest kernel: ELF vmlinux, PVH ELF or bzImage",
	},
	{
		.name = "kernel.format",
		.type = KEY_ENUM,
		.offset = AT(kernel_format),
		.def = "auto",
		.choices = kernel_formats,
		.nchoices = sizeof(kernel_formats) / sizeof(kernel_formats[0]),
		.help = "how to boot the kernel; auto picks by its content",
	},
	{
		.name = "initrd",
		.type = KEY_PATH,
		.flags = KEYF_FILE,
		.offset = AT(initrd),
		.def_doc = "none",
		.help = "an initial RAM disk for the kernel",
	},
	{
		.name = "cmdline",
		.type = KEY_STRING,
		.offset = AT(cmdline),
		.def = "",
		.max = 65535,
		.help = "the kernel command line",
	},
	{
		.name = "memory",
		.type = KEY_SIZE,
		.offset = AT(memory),
		.def = "256M",
		.min = CONFIG_MIN_MEMORY,
		.max = CONFIG_MAX_MEMORY,
		.align = 4096,
		.help = "guest RAM: 8M..1T, a multiple of 4K",
	},
	{
		.name = "memory.hugepages",
		.type = KEY_BOOL,
		.offset = AT(hugepages),
		.def = "false",
		.help = "back guest RAM with 2M huge pages (memory: a "
			"multiple of 2M)",
	},
	{
		.name = "vcpus",
		.type = KEY_UINT,
		.offset = AT(vcpus),
		.def = "1",
		.check = check_vcpus,
		.help = "virtual CPUs: 1..254, or fewer if KVM allows fewer",
	},
	{
		.name = "serial",
		.type = KEY_SINK,
		.offset = AT(serial),
		.def = "stdout",
		.choices = serial_sinks,
		.nchoices = sizeof(serial_sinks) / sizeof(serial_sinks[0]),
		.help = "where the guest's COM1 UART output goes",
	},
	{
		.name = "log",
		.type = KEY_SINK,
		.offset = AT(log),
		.def = "stderr",
		.choices = log_sinks,
		.nchoices = sizeof(log_sinks) / sizeof(log_sinks[0]),
		.help = "where picovm's own messages go",
	},
	{
		.name = "timeout",
		.type = KEY_DURATION,
		.offset = AT(timeout_ms),
		.def = "0",
		.help = "stop the VM after this long, exit status 124 "
			"(0: never)",
	},
	{
		.name = "console",
		.type = KEY_ENUM,
		.offset = AT(console),
		.def = "serial",
		.choices = console_kinds,
		.nchoices = sizeof(console_kinds) / sizeof(console_kinds[0]),
		.help = "the console device: serial (COM1) or virtio "
			"(virtio-console, hvc0); it gets the serial sink and stdin",
	},
	{
		.name = "acpi",
		.type = KEY_BOOL,
		.offset = AT(acpi),
		.def = "true",
		.help = "ACPI tables (MADT, FADT, DSDT with \\_S5) so the guest "
			"can power off; off for kernels without ACPI",
	},
	{
		.name = "sandbox",
		.type = KEY_BOOL,
		.offset = AT(sandbox),
		.def = "true",
		.help = "seccomp filters, no capabilities, restricted io_uring "
			"(off: debugging only)",
	},
	{
		.name = "sandbox.user",
		.type = KEY_STRING,
		.offset = AT(sandbox_user),
		.check = check_user,
		.def_doc = "none",
		.help = "switch to this user (NAME or UID[:GID]) before the "
			"guest runs (picovm must start as root)",
	},
	{
		.name = "sandbox.chroot",
		.type = KEY_PATH,
		.offset = AT(sandbox_chroot),
		.def_doc = "none",
		.help = "chroot into this folder (private mount namespace) "
			"before the guest runs (root only)",
	},
	{
		.name = "disk.N.path",
		.type = KEY_PATH,
		.flags = KEYF_REQUIRED | KEYF_FILE | KEYF_BLOCKDEV,
		.offset = DISK(path),
		DISK_KEY,
		.help = "virtio-blk disk N: a raw image (size a multiple of "
			"512) or a block device",
	},
	{
		.name = "disk.N.readonly",
		.type = KEY_BOOL,
		.offset = DISK(readonly),
		DISK_KEY,
		.def = "false",
		.help = "the guest cannot write disk N (writes fail with IOERR)",
	},
	{
		.name = "disk.N.serial",
		.type = KEY_STRING,
		.offset = DISK(serial),
		DISK_KEY,
		.max = DISK_SERIAL_MAX,
		.def_doc = "none",
		.help = "disk N's serial number (GET_ID), at most 20 bytes",
	},
	{
		.name = "disk.N.cache",
		.type = KEY_ENUM,
		.offset = DISK(cache),
		DISK_KEY,
		.def = "writeback",
		.choices = disk_caches,
		.nchoices = sizeof(disk_caches) / sizeof(disk_caches[0]),
		.help = "writeback: FLUSH reaches the disk; unsafe: never sync",
	},
	{
		.name = "disk.N.direct",
		.type = KEY_BOOL,
		.offset = DISK(direct),
		DISK_KEY,
		.def = "false",
		.help = "open disk N with O_DIRECT (bypass the host page cache)",
	},
	{
		.name = "disk.N.ephemeral",
		.type = KEY_BOOL,
		.offset = DISK(ephemeral),
		DISK_KEY,
		.def = "false",
		.help = "guest writes to disk N go to an overlay discarded at "
			"exit; the image never changes",
	},
	{
		.name = "net.N.tap",
		.type = KEY_STRING,
		.offset = NET(tap),
		NET_KEY,
		.check = check_ifname,
		.def_doc = "none",
		.help = "virtio-net N on tap NAME (existing), or auto: create one "
			"named after the VM (needs CAP_NET_ADMIN)",
	},
	{
		.name = "net.N.fd",
		.type = KEY_UINT,
		.offset = NET(fd_key),
		NET_KEY,
		.check = check_fd,
		.def_doc = "none",
		.help = "virtio-net N on a tap descriptor inherited from the "
			"parent (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR); 0: none",
	},
	{
		.name = "net.N.bridge",
		.type = KEY_STRING,
		.offset = NET(bridge),
		NET_KEY,
		.check = check_ifname,
		.def_doc = "none",
		.help = "add net N's tap to this existing bridge "
			"(needs CAP_NET_ADMIN)",
	},
	{
		.name = "net.N.mac",
		.type = KEY_STRING,
		.offset = NET(mac),
		NET_KEY,
		.check = check_mac,
		.def_doc = "02:70:xx:xx:xx:N, derived from name",
		.help = "net N's MAC address",
	},
	{
		.name = "net.N.mtu",
		.type = KEY_UINT,
		.offset = NET(mtu),
		NET_KEY,
		.def = "1500",
		.min = 68,
		.max = 65535,
		.help = "net N's MTU, told to the guest (VIRTIO_NET_F_MTU)",
	},
	{
		.name = "net.N.offload",
		.type = KEY_BOOL,
		.offset = NET(offload),
		NET_KEY,
		.def = "true",
		.help = "offer checksum and TSO offloads on net N",
	},
};

const struct key_table config_keys = {
	.keys = keys,
	.nkeys = sizeof(keys) / sizeof(keys[0]),
};
