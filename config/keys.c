/*
 * picovm's keys: the key table (adding a key is one entry here plus the
 * field it fills in struct config: the loader, `check` output, --help and
 * the errors follow from the entry; tests/t-docs.sh checks the README key
 * table and doc/picovm.conf.5 against it), the checks of single values
 * (name, MAC, interface names, descriptors, vcpus, sandbox.user), and the
 * rules that involve more than one key or the file name.  See internal.h.
 */
#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define AT(field) offsetof(struct config, field)

/* CFG_ENUM values are stored through an unsigned *. */
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

_Static_assert(sizeof(enum snapshot_after) == sizeof(unsigned),
	       "enum snapshot_after is not unsigned-sized");
static const char *const snapshot_afters[] = {
	[SNAPSHOT_STOP] = "stop",
	[SNAPSHOT_CONTINUE] = "continue",
};

_Static_assert(sizeof(enum virtio_cmdline) == sizeof(unsigned),
	       "enum virtio_cmdline is not unsigned-sized");
static const char *const virtio_cmdlines[] = {
	[VIRTIO_CMDLINE_AUTO] = "auto",
	[VIRTIO_CMDLINE_ON] = "on",
	[VIRTIO_CMDLINE_OFF] = "off",
};

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

int cfg_parse_mac(const char *s, uint8_t mac[6])
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

static int check_mac(const union cfg_value *v, const void *ctx, char *why,
		     size_t n)
{
	uint8_t mac[6];

	(void)ctx;
	if (!*v->s)
		return 0;	/* "": derived from the name */
	if (cfg_parse_mac(v->s, mac) < 0) {
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
static int check_ifname(const union cfg_value *v, const void *ctx, char *why,
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

static int check_fd(const union cfg_value *v, const void *ctx, char *why,
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

/* net.N.passt: auto, or where a running passt listens (passt -s PATH). */
static int check_passt(const union cfg_value *v, const void *ctx, char *why,
		       size_t n)
{
	(void)ctx;
	if (!*v->s || strcmp(v->s, "auto") == 0)
		return 0;
	if (v->s[0] != '/' || strlen(v->s) > CONFIG_MAX_SOCKET_PATH) {
		snprintf(why, n, "'%.40s' is not auto or an absolute socket path "
			 "of at most %d bytes", v->s, CONFIG_MAX_SOCKET_PATH);
		return -1;
	}
	return 0;
}

/* Digits only, 1..65535; advances *p past them. */
static bool parse_port(const char **p, uint16_t *port)
{
	unsigned v = 0, digits = 0;

	while (isdigit((unsigned char)**p) && digits < 6) {
		v = v * 10 + (unsigned)(*(*p)++ - '0');
		digits++;
	}
	*port = (uint16_t)v;
	return digits && digits < 6 && v >= 1 && v <= 65535;
}

int config_parse_forward(const char *s, struct net_forward *out,
			 unsigned max, char *why, size_t n)
{
	unsigned count = 0;

	while (*s) {
		struct net_forward f;
		const char *p = s + 4;
		bool ok = (strncmp(s, "tcp:", 4) == 0 || strncmp(s, "udp:", 4) == 0) &&
			  parse_port(&p, &f.host) && *p++ == ':' &&
			  parse_port(&p, &f.guest) && (!*p || (*p == ',' && p[1]));
		if (!ok) {
			snprintf(why, n, "'%.40s' is not a forward list; expected "
				 "tcp:HOSTPORT:GUESTPORT or udp:HOSTPORT:GUESTPORT "
				 "(ports 1..65535), comma-separated", s);
			return -1;
		}
		if (count == max) {
			snprintf(why, n, "more than %u forwards", max);
			return -1;
		}
		f.udp = s[0] == 'u';
		if (out)
			out[count] = f;
		count++;
		s = *p ? p + 1 : p;
	}
	return (int)count;
}

static int check_forward(const union cfg_value *v, const void *ctx, char *why,
			 size_t n)
{
	(void)ctx;
	return config_parse_forward(v->s, NULL, CONFIG_MAX_FORWARDS, why, n) < 0
	       ? -1 : 0;
}

static int check_user(const union cfg_value *v, const void *ctx, char *why,
		      size_t n)
{
	uint32_t uid, gid;

	(void)ctx;
	if (!*v->s)
		return 0;	/* "": none, as `check` prints it */
	return config_parse_user(v->s, NULL, &uid, &gid, why, n);
}

#define NAME_MAX_LEN 64

int cfg_check_name(const char *name, char *why, size_t n)
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

static int check_name(const union cfg_value *v, const void *ctx, char *why,
		      size_t n)
{
	(void)ctx;
	return cfg_check_name(v->s, why, n);
}

/* The whole range is checked here, not by the table's min/max, because
 * the maximum depends on the host and the message must say whose limit
 * it is. */
static int check_vcpus(const union cfg_value *v, const void *ctx, char *why,
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

/* control = "" (none) | auto | PATH: a socket path must fit sun_path. */
static int check_control(const union cfg_value *v, const void *ctx, char *why,
			 size_t n)
{
	(void)ctx;
	if (strlen(v->s) > CONFIG_MAX_SOCKET_PATH) {
		snprintf(why, n, "'%.20s...' is %zu bytes long; expected auto "
			 "or a socket path of at most %d bytes", v->s,
			 strlen(v->s), CONFIG_MAX_SOCKET_PATH);
		return -1;
	}
	return 0;
}

/* gdb = "" (none) | unix:PATH | 127.0.0.1:PORT: loopback only, since
 * whoever connects owns the guest. */
static int check_gdb(const union cfg_value *v, const void *ctx, char *why,
		     size_t n)
{
	const char *s = v->s;

	(void)ctx;
	if (!*s)
		return 0;
	if (strncmp(s, "unix:", 5) == 0) {
		size_t len = strlen(s + 5);
		if (len == 0 || len > CONFIG_MAX_SOCKET_PATH) {
			snprintf(why, n, "the socket path is %zu bytes long; "
				 "expected unix:PATH with 1..%d bytes", len,
				 CONFIG_MAX_SOCKET_PATH);
			return -1;
		}
		return 0;
	}
	const char *port = strncmp(s, "127.0.0.1:", 10) == 0 ? s + 10 : NULL;
	char *end;
	unsigned long p = port && *port >= '0' && *port <= '9' ?
			  strtoul(port, &end, 10) : 0;
	if (!port || p < 1 || p > 65535 || *end) {
		snprintf(why, n, "'%.40s' is not unix:PATH or 127.0.0.1:PORT "
			 "(PORT 1..65535); expected a local socket or a "
			 "loopback port: the debugger owns the guest", s);
		return -1;
	}
	return 0;
}

/* serial.1 = none | file:PATH | unix:PATH (COM2, for kgdb). */
static int check_serial1(const union cfg_value *v, const void *ctx,
			 char *why, size_t n)
{
	const char *s = v->s;
	size_t len;

	(void)ctx;
	if (strcmp(s, "none") == 0)
		return 0;
	if (strncmp(s, "file:", 5) == 0 && s[5])
		return 0;
	if (strncmp(s, "unix:", 5) == 0 &&
	    (len = strlen(s + 5)) > 0 && len <= CONFIG_MAX_SOCKET_PATH)
		return 0;
	snprintf(why, n, "'%.40s' is not none, file:PATH or unix:PATH (at most "
		 "%d bytes); expected COM2's host side", s,
		 CONFIG_MAX_SOCKET_PATH);
	return -1;
}

static const struct cfg_key keys[] = {
	{
		.name = "name",
		.type = CFG_STRING,
		.offset = AT(name),
		.check = check_name,
		.def_doc = "the config file name without .conf",
		.help = "the VM's name in picovm's messages",
	},
	{
		.name = "kernel",
		.type = CFG_PATH,
		.flags = CFG_REQUIRED | CFG_FILE,
		.offset = AT(kernel),
		.help = "the guest kernel: ELF vmlinux, PVH ELF or bzImage",
	},
	{
		.name = "kernel.format",
		.type = CFG_ENUM,
		.offset = AT(kernel_format),
		.def = "auto",
		.choices = kernel_formats,
		.nchoices = sizeof(kernel_formats) / sizeof(kernel_formats[0]),
		.help = "how to boot the kernel; auto picks by its content",
	},
	{
		.name = "initrd",
		.type = CFG_PATH,
		.flags = CFG_FILE,
		.offset = AT(initrd),
		.def_doc = "none",
		.help = "an initial RAM disk for the kernel",
	},
	{
		.name = "cmdline",
		.type = CFG_STRING,
		.offset = AT(cmdline),
		.def = "",
		.max = 65535,
		.help = "the kernel command line",
	},
	{
		.name = "memory",
		.type = CFG_SIZE,
		.offset = AT(memory),
		.def = "256M",
		.min = CONFIG_MIN_MEMORY,
		.max = CONFIG_MAX_MEMORY,
		.align = 4096,
		.help = "guest RAM: 8M..1T, a multiple of 4K",
	},
	{
		.name = "memory.hugepages",
		.type = CFG_BOOL,
		.offset = AT(hugepages),
		.def = "false",
		.help = "back guest RAM with 2M huge pages (memory: a "
			"multiple of 2M)",
	},
	{
		.name = "vcpus",
		.type = CFG_UINT,
		.offset = AT(vcpus),
		.def = "1",
		.check = check_vcpus,
		.help = "virtual CPUs: 1..254, or fewer if KVM allows fewer",
	},
	{
		.name = "serial",
		.type = CFG_SINK,
		.offset = AT(serial),
		.def = "stdout",
		.choices = serial_sinks,
		.nchoices = sizeof(serial_sinks) / sizeof(serial_sinks[0]),
		.help = "where the guest's COM1 UART output goes",
	},
	{
		.name = "serial.1",
		.type = CFG_STRING,
		.offset = AT(serial1),
		.def = "none",
		.check = check_serial1,
		.help = "COM2 (0x2f8, IRQ 3; kgdb): none (no port), "
			"file:PATH or unix:PATH (a socket gdb connects to)",
	},
	{
		.name = "log",
		.type = CFG_SINK,
		.offset = AT(log),
		.def = "stderr",
		.choices = log_sinks,
		.nchoices = sizeof(log_sinks) / sizeof(log_sinks[0]),
		.help = "where picovm's own messages go",
	},
	{
		.name = "timeout",
		.type = CFG_DURATION,
		.offset = AT(timeout_ms),
		.def = "0",
		.help = "stop the VM after this long, exit status 124 "
			"(0: never)",
	},
	{
		.name = "console",
		.type = CFG_ENUM,
		.offset = AT(console),
		.def = "serial",
		.choices = console_kinds,
		.nchoices = sizeof(console_kinds) / sizeof(console_kinds[0]),
		.help = "the console device: serial (COM1) or virtio "
			"(virtio-console, hvc0); it gets the serial sink and stdin",
	},
	{
		.name = "acpi",
		.type = CFG_BOOL,
		.offset = AT(acpi),
		.def = "true",
		.help = "ACPI tables (MADT, FADT, DSDT with \\_S5 and the virtio "
			"devices) so the guest can power off and find its "
			"devices; off for kernels without ACPI",
	},
	{
		.name = "virtio.cmdline",
		.type = CFG_ENUM,
		.offset = AT(virtio_cmdline),
		.def = "auto",
		.choices = virtio_cmdlines,
		.nchoices = sizeof(virtio_cmdlines) / sizeof(virtio_cmdlines[0]),
		.help = "virtio_mmio.device= entries on the kernel command line: "
			"on, off, or auto (on: a kernel that also finds the "
			"devices in the DSDT binds each once)",
	},
	{
		.name = "sandbox",
		.type = CFG_BOOL,
		.offset = AT(sandbox),
		.def = "true",
		.help = "seccomp filters, no capabilities, restricted io_uring "
			"(off: debugging only)",
	},
	{
		.name = "sandbox.user",
		.type = CFG_STRING,
		.offset = AT(sandbox_user),
		.check = check_user,
		.def_doc = "none",
		.help = "switch to this user (NAME or UID[:GID]) before the "
			"guest runs (picovm must start as root)",
	},
	{
		.name = "sandbox.chroot",
		.type = CFG_PATH,
		.offset = AT(sandbox_chroot),
		.def_doc = "none",
		.help = "chroot into this folder (private mount namespace) "
			"before the guest runs (root only)",
	},
	{
		.name = "snapshot.path",
		.type = CFG_PATH,
		.offset = AT(snapshot_path),
		.def_doc = "none",
		.help = "folder the guest snapshots the VM into by writing "
			"port 0x512 (created; vm.conf, state, memory)",
	},
	{
		.name = "snapshot.after",
		.type = CFG_ENUM,
		.offset = AT(snapshot_after),
		.def = "stop",
		.choices = snapshot_afters,
		.nchoices = sizeof(snapshot_afters) / sizeof(snapshot_afters[0]),
		.help = "after a snapshot: stop (exit status 0) or continue",
	},
	{
		.name = "control",
		.type = CFG_STRING,
		.offset = AT(control),
		.check = check_control,
		.def_doc = "none",
		.help = "the control socket (picovm ctl): auto (the runtime "
			"folder, NAME.sock) or a path",
	},
	{
		.name = "gdb",
		.type = CFG_STRING,
		.offset = AT(gdb),
		.check = check_gdb,
		.def_doc = "none",
		.help = "a gdb remote stub on unix:PATH or 127.0.0.1:PORT "
			"(loopback only)",
	},
	{
		.name = "gdb.wait",
		.type = CFG_BOOL,
		.offset = AT(gdb_wait),
		.def = "false",
		.help = "with gdb: stop before the first guest instruction "
			"until gdb continues",
	},
	{
		.name = "disk.N.path",
		.type = CFG_PATH,
		.flags = CFG_REQUIRED | CFG_FILE | CFG_BLOCKDEV,
		.offset = DISK(path),
		DISK_KEY,
		.help = "virtio-blk disk N: a raw image (size a multiple of "
			"512) or a block device",
	},
	{
		.name = "disk.N.readonly",
		.type = CFG_BOOL,
		.offset = DISK(readonly),
		DISK_KEY,
		.def = "false",
		.help = "the guest cannot write disk N (writes fail with IOERR)",
	},
	{
		.name = "disk.N.serial",
		.type = CFG_STRING,
		.offset = DISK(serial),
		DISK_KEY,
		.max = DISK_SERIAL_MAX,
		.def_doc = "none",
		.help = "disk N's serial number (GET_ID), at most 20 bytes",
	},
	{
		.name = "disk.N.cache",
		.type = CFG_ENUM,
		.offset = DISK(cache),
		DISK_KEY,
		.def = "writeback",
		.choices = disk_caches,
		.nchoices = sizeof(disk_caches) / sizeof(disk_caches[0]),
		.help = "writeback: FLUSH reaches the disk; unsafe: never sync",
	},
	{
		.name = "disk.N.direct",
		.type = CFG_BOOL,
		.offset = DISK(direct),
		DISK_KEY,
		.def = "false",
		.help = "open disk N with O_DIRECT (bypass the host page cache)",
	},
	{
		.name = "disk.N.ephemeral",
		.type = CFG_BOOL,
		.offset = DISK(ephemeral),
		DISK_KEY,
		.def = "false",
		.help = "guest writes to disk N go to an overlay discarded at "
			"exit; the image never changes",
	},
	{
		.name = "net.N.tap",
		.type = CFG_STRING,
		.offset = NET(tap),
		NET_KEY,
		.check = check_ifname,
		.def_doc = "none",
		.help = "virtio-net N on tap NAME (existing), or auto: create one "
			"named after the VM (needs CAP_NET_ADMIN)",
	},
	{
		.name = "net.N.fd",
		.type = CFG_UINT,
		.offset = NET(fd_key),
		NET_KEY,
		.check = check_fd,
		.def_doc = "none",
		.help = "virtio-net N on a tap descriptor inherited from the "
			"parent (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR); 0: none",
	},
	{
		.name = "net.N.passt",
		.type = CFG_STRING,
		.offset = NET(passt),
		NET_KEY,
		.check = check_passt,
		.def_doc = "none",
		.help = "virtio-net N over passt (no privilege): auto (start "
			"passt) or the socket path of a running passt",
	},
	{
		.name = "net.N.passt.fd",
		.type = CFG_UINT,
		.offset = NET(passt_fd_key),
		NET_KEY,
		.check = check_fd,
		.def_doc = "none",
		.help = "virtio-net N on a connected passt stream socket "
			"inherited from the parent; 0: none",
	},
	{
		.name = "net.N.forward",
		.type = CFG_STRING,
		.offset = NET(forward),
		NET_KEY,
		.check = check_forward,
		.def_doc = "none",
		.help = "host ports passt forwards to net N's guest: "
			"tcp|udp:HOSTPORT:GUESTPORT, comma-separated",
	},
	{
		.name = "net.N.bridge",
		.type = CFG_STRING,
		.offset = NET(bridge),
		NET_KEY,
		.check = check_ifname,
		.def_doc = "none",
		.help = "add net N's tap to this existing bridge "
			"(needs CAP_NET_ADMIN)",
	},
	{
		.name = "net.N.mac",
		.type = CFG_STRING,
		.offset = NET(mac),
		NET_KEY,
		.check = check_mac,
		.def_doc = "02:70:xx:xx:xx:N, derived from name",
		.help = "net N's MAC address",
	},
	{
		.name = "net.N.mtu",
		.type = CFG_UINT,
		.offset = NET(mtu),
		NET_KEY,
		.def = "1500",
		.min = 68,
		.max = 65535,
		.help = "net N's MTU, told to the guest (VIRTIO_NET_F_MTU)",
	},
	{
		.name = "net.N.offload",
		.type = CFG_BOOL,
		.offset = NET(offload),
		NET_KEY,
		.def = "true",
		.help = "offer checksum and TSO offloads on net N",
	},
};

const struct cfg_table cfg_keys = {
	.keys = keys,
	.nkeys = sizeof(keys) / sizeof(keys[0]),
};

/* ---- sandbox.user ---------------------------------------------------- */

static const char user_expect[] = "expected a user name from /etc/passwd or "
			     "UID[:GID], ids 1..4294967294";

/* One id: digits only, in range, not root. */
static int parse_id(const char *text, const char *what, uint32_t *id,
		    char *why, size_t n)
{
	uint64_t v;

	if (cfg_parse_u64(text, &v) < 0 || v > CONFIG_MAX_ID) {
		snprintf(why, n, "%s '%s' is not a decimal id up to 4294967294; %s",
			 what, text, user_expect);
		return -1;
	}
	*id = (uint32_t)v;
	return 0;
}

static int refuse_root(const char *spec, uint32_t uid, uint32_t gid,
		       char *why, size_t n)
{
	if (uid != 0 && gid != 0)
		return 0;
	snprintf(why, n, "'%s' is %s 0 (root): switching to it drops no "
		 "privilege; expected an unprivileged user, or no "
		 "sandbox.user to keep the one picovm runs as", spec,
		 uid == 0 ? "uid" : "gid");
	return -1;
}

/* NAME's line of an /etc/passwd-format file: name:pw:uid:gid:... */
static int lookup(const char *spec, const char *passwd, uint32_t *uid,
		  uint32_t *gid, char *why, size_t n)
{
	FILE *f = fopen(passwd ? passwd : "/etc/passwd", "re");
	size_t len = strlen(spec);
	char line[1024];
	int ret = -1;

	if (!f) {
		snprintf(why, n, "cannot look up user '%s': cannot read %s; %s",
			 spec, passwd ? passwd : "/etc/passwd", user_expect);
		return -1;
	}
	snprintf(why, n, "no user '%s' in %s; %s", spec,
		 passwd ? passwd : "/etc/passwd", user_expect);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, spec, len) != 0 || line[len] != ':')
			continue;
		char *fields[3], *p = line + len + 1;
		line[strcspn(line, "\n")] = '\0';
		/* pw, uid, gid: strsep keeps empty fields. */
		for (int i = 0; i < 3; i++)
			fields[i] = strsep(&p, ":");
		if (!fields[1] || !fields[2] ||
		    parse_id(fields[1], "uid", uid, why, n) < 0 ||
		    parse_id(fields[2], "gid", gid, why, n) < 0) {
			if (!fields[1] || !fields[2])
				snprintf(why, n, "user '%s' has a malformed "
					 "line in %s; %s", spec,
					 passwd ? passwd : "/etc/passwd", user_expect);
			break;
		}
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

int config_parse_user(const char *spec, const char *passwd, uint32_t *uid,
		      uint32_t *gid, char *why, size_t n)
{
	uint32_t u, g;

	if (!*spec) {
		snprintf(why, n, "the value is empty; %s", user_expect);
		return -1;
	}
	/* A leading digit, sign or space means UID[:GID]: a NAME starts
	 * with a letter or '_'. */
	if (strchr("0123456789+- \t", spec[0])) {
		char copy[64];
		if (strlen(spec) >= sizeof(copy)) {
			snprintf(why, n, "'%.20s...' is too long; %s", spec, user_expect);
			return -1;
		}
		strcpy(copy, spec);
		char *colon = strchr(copy, ':');
		if (colon)
			*colon = '\0';
		if (parse_id(copy, "uid", &u, why, n) < 0)
			return -1;
		g = u;
		if (colon && parse_id(colon + 1, "gid", &g, why, n) < 0)
			return -1;
	} else if (lookup(spec, passwd, &u, &g, why, n) < 0) {
		return -1;
	}
	if (refuse_root(spec, u, g, why, n) < 0)
		return -1;
	*uid = u;
	*gid = g;
	return 0;
}

/* ---- rules across keys ----------------------------------------------- */

#define HUGEPAGE_SIZE (2ULL << 20)

/* The default MAC of net.N: locally administered (02), 'p' (0x70), three
 * bytes of an FNV-1a hash of the VM name, N: stable across runs. */
static void tap_mac_default(const char *name, unsigned n, uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x02;
	mac[1] = 0x70;
	mac[2] = (uint8_t)(h >> 16);
	mac[3] = (uint8_t)(h >> 8);
	mac[4] = (uint8_t)h;
	mac[5] = (uint8_t)n;
}

/* `name` defaults to the config file's name without ".conf". */
static void default_name(struct cfg_loader *L, struct config *c)
{
	struct cfg_where w;
	char why[256];

	if (cfg_state(L, "name", &w) != 0)
		return;		/* set, or set to something bad */
	char *copy = strdup(c->file);
	if (!copy) {
		L->oom = true;
		return;
	}
	char *base = basename(copy);
	size_t len = strlen(base);
	if (len >= 5 && strcmp(base + len - 5, ".conf") == 0)
		base[len - 5] = '\0';
	if (cfg_check_name(base, why, sizeof(why)) < 0) {
		cfg_error(L, NULL, "name", "%s (the default name is the "
			   "config file name without .conf; set name to "
			   "choose another)", why);
	} else {
		c->name = strdup(base);
		if (!c->name)
			L->oom = true;
	}
	free(copy);
}

/* Huge pages map guest RAM in 2M pieces, so a partial one cannot be. */
static void check_hugepages(struct cfg_loader *L, const struct config *c)
{
	struct cfg_where wh, wm;
	char mem[CFG_VALUE_BUF];

	if (cfg_state(L, "memory.hugepages", &wh) != 1 || !c->hugepages ||
	    cfg_state(L, "memory", &wm) < 0 || c->memory % HUGEPAGE_SIZE == 0)
		return;
	cfg_format_size(c->memory, mem, sizeof(mem));
	cfg_error(L, &wh, "memory.hugepages", "memory = %s is not a "
		   "multiple of 2M; expected memory to be a multiple of 2M "
		   "with huge pages", mem);
}

/* Whether key was given with a value other than how `check` prints
 * "none" ("" or 0); -1 when it was given and already reported bad. */
static int net_given(struct cfg_loader *L, unsigned n, const char *what,
		     bool set, struct cfg_where *w)
{
	char key[32];

	snprintf(key, sizeof(key), "net.%u.%s", n, what);
	int state = cfg_state(L, key, w);
	return state < 0 ? -1 : state && set;
}

/* An executable passt in PATH (net.N.passt = auto starts it). */
bool config_find_passt(char *out, size_t n)
{
	const char *path = getenv("PATH");

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		if (len && (size_t)snprintf(out, n, "%.*s/passt", (int)len, path) < n &&
		    access(out, X_OK) == 0)
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

/* One descriptor drives one device. */
static void check_fd_unique(struct cfg_loader *L, const struct config *c,
			    unsigned n, int fd, const char *what)
{
	char key[32];
	struct cfg_where w;

	for (unsigned m = 0; m < n; m++)
		if (c->net[m].fd == fd || c->net[m].passt_fd == fd) {
			snprintf(key, sizeof(key), "net.%u.%s", n, what);
			cfg_state(L, key, &w);
			cfg_error(L, &w, key, "descriptor %d is already net.%u.%s; "
				   "expected one descriptor per net", fd, m,
				   c->net[m].fd == fd ? "fd" : "passt.fd");
		}
}

/* Each net.N needs exactly one backend (tap, fd, passt, passt.fd); fill
 * in the MAC and descriptors. */
static void check_nets(struct cfg_loader *L, struct config *c)
{
	static const char *const backends[4] = { "tap", "fd", "passt", "passt.fd" };

	for (unsigned n = 0; n < CONFIG_MAX_DEVICES; n++) {
		struct net_config *nc = &c->net[n];
		char key[32], bin[PATH_MAX];
		struct cfg_where w, wb[4];

		nc->fd = nc->passt_fd = -1;
		if (!nc->present)
			continue;
		/* "" and 0 are how `check` prints "none". */
		int has[4] = {
			net_given(L, n, "tap", nc->tap && *nc->tap, &wb[0]),
			net_given(L, n, "fd", nc->fd_key != 0, &wb[1]),
			net_given(L, n, "passt", nc->passt && *nc->passt, &wb[2]),
			net_given(L, n, "passt.fd", nc->passt_fd_key != 0, &wb[3]),
		};
		if (has[0] < 0 || has[1] < 0 || has[2] < 0 || has[3] < 0)
			continue;	/* already reported */
		int count = has[0] + has[1] + has[2] + has[3], last = -1;
		for (int i = 0; i < 4; i++)
			if (has[i])
				last = i;
		if (count > 1) {
			snprintf(key, sizeof(key), "net.%u.%s", n, backends[last]);
			cfg_error(L, &wb[last], key, "net.%u has %d backends; "
				   "expected exactly one of net.%u.tap, net.%u.fd, "
				   "net.%u.passt and net.%u.passt.fd", n, count, n,
				   n, n, n);
		} else if (count == 0) {
			snprintf(key, sizeof(key), "net.%u.tap", n);
			cfg_error(L, NULL, key, "net.%u needs net.%u.tap (a tap "
				   "name or auto), net.%u.fd, net.%u.passt (auto or "
				   "a socket path) or net.%u.passt.fd", n, n, n, n, n);
		}
		if (has[1] == 1) {
			nc->fd = (int)nc->fd_key;
			check_fd_unique(L, c, n, nc->fd, "fd");
		}
		if (has[3] == 1) {
			nc->passt_fd = (int)nc->passt_fd_key;
			check_fd_unique(L, c, n, nc->passt_fd, "passt.fd");
		}
		bool is_tap = has[0] || has[1], is_auto = has[2] &&
			      strcmp(nc->passt, "auto") == 0;
		if (net_given(L, n, "bridge", nc->bridge && *nc->bridge, &w) == 1 &&
		    !is_tap && count == 1) {
			snprintf(key, sizeof(key), "net.%u.bridge", n);
			cfg_error(L, &w, key, "a bridge takes a tap; expected "
				   "net.%u.tap or net.%u.fd with it", n, n);
		}
		if (net_given(L, n, "forward", nc->forward && *nc->forward, &w) == 1 &&
		    !is_auto && count == 1) {
			snprintf(key, sizeof(key), "net.%u.forward", n);
			cfg_error(L, &w, key, "forwards are passt's and picovm hands "
				   "them over only to a passt it starts; expected "
				   "net.%u.passt = auto with it", n);
		}
		if (is_auto && count == 1 && !config_find_passt(bin, sizeof(bin))) {
			snprintf(key, sizeof(key), "net.%u.passt", n);
			cfg_error(L, &wb[2], key, "auto starts passt, but there is no "
				   "executable passt in PATH; install it (Debian "
				   "package passt: apt-get install passt)");
		}
		if (nc->mac && *nc->mac)
			cfg_parse_mac(nc->mac, nc->mac_bytes);
		else if (c->name)
			tap_mac_default(c->name, n, nc->mac_bytes);
	}
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode))
		return a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static bool is_path(const char *path, const struct stat *st)
{
	struct stat s;

	return path && *path && stat(path, &s) == 0 && same_file(&s, st);
}

bool config_is_input(const struct config *c, const struct stat *st,
		     char *key, size_t n)
{
	if (is_path(c->kernel, st)) {
		snprintf(key, n, "kernel");
		return true;
	}
	if (is_path(c->initrd, st)) {
		snprintf(key, n, "initrd");
		return true;
	}
	for (unsigned i = 0; i < CONFIG_MAX_DEVICES; i++)
		if (c->disk[i].present && is_path(c->disk[i].path, st)) {
			snprintf(key, n, "disk.%u.path", i);
			return true;
		}
	return false;
}

/* Outputs must not be inputs (serial truncates its file; both write), and
 * serial and log must be different files: serial does not append, so it
 * would write over the log's lines. */
static void check_sinks(struct cfg_loader *L, const struct config *c)
{
	static const char *const sink_keys[2] = { "serial", "log" };
	const struct sink *s[2] = { &c->serial, &c->log };
	struct stat st[2];
	bool exists[2] = { false, false };

	for (int i = 0; i < 2; i++) {
		struct cfg_where w;
		char key[32];

		if (s[i]->kind != SINK_FILE || cfg_state(L, sink_keys[i], &w) < 0)
			continue;
		exists[i] = stat(s[i]->path, &st[i]) == 0;
		if (exists[i] && config_is_input(c, &st[i], key, sizeof(key)))
			cfg_error(L, &w, sink_keys[i], "'%s' is also %s: picovm "
				   "would write over it; expected a file of "
				   "its own", s[i]->path, key);
	}
	/* Compared by name too: neither may exist yet. */
	struct cfg_where w;
	if (s[0]->kind == SINK_FILE && s[1]->kind == SINK_FILE &&
	    cfg_state(L, "log", &w) >= 0 && cfg_state(L, "serial", &w) >= 0 &&
	    ((exists[0] && exists[1] && same_file(&st[0], &st[1])) ||
	     strcmp(s[0]->path, s[1]->path) == 0)) {
		cfg_state(L, "log", &w);
		cfg_error(L, &w, "log", "'%s' is also serial: the console "
			   "would write over picovm's messages; expected a "
			   "file of its own", s[1]->path);
	}
}

/* One image, two disks: the flock of a writable one would refuse the
 * other with a misleading "in use by another process"; say what it is. */
static void check_disks(struct cfg_loader *L, const struct config *c)
{
	struct stat st[CONFIG_MAX_DEVICES];
	bool ok[CONFIG_MAX_DEVICES];

	for (unsigned i = 0; i < CONFIG_MAX_DEVICES; i++) {
		const struct disk_config *d = &c->disk[i];
		char key[32];
		struct cfg_where w;

		ok[i] = d->present && d->path &&
			snprintf(key, sizeof(key), "disk.%u.path", i) > 0 &&
			cfg_state(L, key, &w) == 1 && stat(d->path, &st[i]) == 0;
		for (unsigned j = 0; ok[i] && j < i; j++) {
			const struct disk_config *e = &c->disk[j];
			bool writes = (!d->readonly && !d->ephemeral) ||
				      (!e->readonly && !e->ephemeral);
			if (ok[j] && writes && same_file(&st[i], &st[j]))
				cfg_error(L, &w, key, "'%s' is also disk.%u.path "
					   "and one of them is writable; expected "
					   "an image of its own (or both readonly "
					   "or ephemeral)", d->path, j);
		}
	}
}

void cfg_check_keys(struct cfg_loader *L, struct config *c)
{
	default_name(L, c);
	check_hugepages(L, c);
	check_nets(L, c);
	check_sinks(L, c);
	check_disks(L, c);
}
