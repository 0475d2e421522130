/*
 * The VM configuration: what a config file and command-line overrides
 * describe, after parsing and validation.  The code in config/ (syntax.c:
 * lines and values; keys.c: the key table and its rules; config.c: the
 * loader and printing, sharing internal.h) is the only code that knows the
 * file format; the rest of picovm reads this struct and the functions
 * below.
 *
 * Contract:
 *  - config_load() never exits; it prints every error it finds to stderr as
 *    "picovm: FILE:LINE: KEY: message" (or "picovm: command line: argument
 *    N: KEY: message" for overrides) and returns -1, or returns 0 with *c
 *    filled.  main() turns -1 into exit status 2.
 *  - Paths in *c are absolute: the loader has already resolved
 *    file-relative paths against the config file's folder, and override
 *    paths against the current directory.
 *  - Strings are heap copies owned by *c; config_free() releases them.
 */
#ifndef PICOVM_CONFIG_H
#define PICOVM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum kernel_format {
	KERNEL_FORMAT_AUTO,
	KERNEL_FORMAT_ELF,	/* 64-bit ELF vmlinux, 64-bit boot protocol */
	KERNEL_FORMAT_PVH,	/* ELF with XEN_ELFNOTE_PHYS32_ENTRY */
	KERNEL_FORMAT_BZIMAGE,	/* Linux boot protocol, 64-bit entry */
};

enum sink_kind {
	SINK_STDOUT,	/* for `log`: stderr */
	SINK_FILE,
	SINK_NONE,
};

struct sink {
	enum sink_kind kind;
	char *path;	/* SINK_FILE only */
};

/* Limits the validator checks against; filled from /dev/kvm when it can be
 * opened, otherwise from conservative built-in values. */
struct config_limits {
	unsigned max_vcpus;
};

#define CONFIG_MIN_MEMORY (8ULL << 20)
#define CONFIG_MAX_MEMORY (1ULL << 40)
#define CONFIG_MAX_VCPUS 254	/* xAPIC ids, MP table: 255 is broadcast,
				   one id is left for the IOAPIC */
/* Numbered device keys ("disk.N.path") take N = 0 .. CONFIG_MAX_DEVICES-1;
 * per-device arrays in struct config have this many elements. */
#define CONFIG_MAX_DEVICES 16
/* sun_path holds 108 bytes with the NUL. */
#define CONFIG_MAX_SOCKET_PATH 107

enum disk_cache {
	DISK_CACHE_WRITEBACK,	/* FLUSH offered; writethrough if not acked */
	DISK_CACHE_UNSAFE,	/* no FLUSH, no syncing at all */
};

enum console_kind {
	CONSOLE_SERIAL,		/* the 8250 UART is the console */
	CONSOLE_VIRTIO,		/* a virtio-console device (hvc0) is */
};

struct disk_config {
	bool present;		/* some disk.N.* key was given */
	char *path;		/* required when present */
	bool readonly;
	char *serial;		/* GET_ID, at most 20 bytes; NULL: none */
	enum disk_cache cache;
	bool direct;		/* O_DIRECT */
	bool ephemeral;		/* writes go to a discarded overlay */
};

#define DISK_SERIAL_MAX 20

/* One net.N.forward entry: host port -> guest port. */
struct net_forward {
	bool udp;		/* else tcp */
	uint16_t host, guest;
};
#define CONFIG_MAX_FORWARDS 32

struct net_config {
	bool present;		/* some net.N.* key was given */
	char *tap;		/* NAME, "auto", or NULL when fd is used */
	char *passt;		/* "auto", a passt socket path, or NULL */
	unsigned passt_fd_key;	/* net.N.passt.fd as given; 0: not given */
	int passt_fd;		/* the inherited passt socket, or -1 */
	char *forward;		/* "tcp:H:G,udp:H:G..."; NULL: none */
	char *bridge;		/* NULL: none */
	unsigned fd_key;	/* net.N.fd as given; 0: not given */
	int fd;			/* the inherited descriptor, or -1 */
	char *mac;		/* "52:54:00:12:34:56"; NULL: derived */
	uint8_t mac_bytes[6];	/* parsed, or the derived default */
	unsigned mtu;
	bool offload;
};

enum snapshot_after { SNAPSHOT_STOP, SNAPSHOT_CONTINUE };

/* virtio_mmio.device= entries on the kernel command line (vm/vdevs.c). */
enum virtio_cmdline { VIRTIO_CMDLINE_AUTO, VIRTIO_CMDLINE_ON, VIRTIO_CMDLINE_OFF };

struct config {
	char *file;		/* the config file as given */
	char *name;		/* default: config file name without ".conf" */
	char *kernel;		/* required */
	enum kernel_format kernel_format;
	char *initrd;		/* NULL: none */
	char *cmdline;		/* never NULL; "" by default */
	uint64_t memory;	/* bytes, default 256 MiB */
	bool hugepages;
	unsigned vcpus;		/* default 1 */
	struct sink serial;	/* default stdout */
	char *serial1;		/* COM2: "none" | file:PATH | unix:PATH */
	struct sink log;	/* default stderr (SINK_STDOUT) */
	uint64_t timeout_ms;	/* 0: none */
	enum console_kind console;	/* takes the `serial` sink and stdin */
	bool acpi;			/* ACPI tables + PM1 (default on) */
	enum virtio_cmdline virtio_cmdline;
	bool sandbox;			/* default on */
	char *sandbox_user;		/* NAME | UID[:GID]; NULL: keep */
	char *sandbox_chroot;		/* NULL: none */
	char *snapshot_path;		/* folder for port-0x512 snapshots */
	enum snapshot_after snapshot_after;
	char *control;			/* "auto" | socket path; NULL: none */
	char *gdb;			/* unix:PATH | 127.0.0.1:PORT; NULL: none */
	bool gdb_wait;			/* stop before the first instruction */
	struct disk_config disk[CONFIG_MAX_DEVICES];
	struct net_config net[CONFIG_MAX_DEVICES];
};

int config_load(struct config *c, const char *file, int noverrides,
		char *const overrides[], const struct config_limits *lim);
/* Prints the effective configuration, one "key = value" per line, in a
 * form that config_load() reads back to the same struct. */
void config_print(const struct config *c, FILE *out);
void config_free(struct config *c);
/* Finds an executable "passt" in $PATH (or the usual folders without
 * PATH): true with its path in out. */
bool config_find_passt(char *out, size_t n);
/* Parses a net.N.forward list into out[max] (out may be NULL): the count,
 * or -1 with "what; expected what" in why. */
int config_parse_forward(const char *s, struct net_forward *out,
			 unsigned max, char *why, size_t n);
struct stat;
/* Whether st (of an output about to be written) is one of the VM's input
 * files: kernel, initrd or a disk.N.path (same device and inode, or the
 * same block device).  Writes that key's name to key[n] when it is.
 * `check` and `run` refuse such an output: writing it would destroy the
 * input. */
bool config_is_input(const struct config *c, const struct stat *st,
		     char *key, size_t n);
/* A duration as the config file writes one ("500ms", "30s", "2m", "0");
 * returns 0 with *ms set, or -1. */
int config_parse_duration(const char *s, uint64_t *ms);
/* Lists every key with its type, default and a line of help (for
 * `picovm --help`; generated from the key table so it cannot drift). */
void config_print_keys(FILE *out);

/* sandbox.user = NAME | UID[:GID]: the user picovm switches to.  Shared by
 * the config check (so `check` and `run` refuse a bad value with status 2
 * before anything starts) and by the sandbox, which switches. */
/* The highest id a user may name: (uid_t)-1 = 4294967295 means "leave
 * unchanged" to setresuid(), so it cannot be switched to. */
#define CONFIG_MAX_ID 4294967294u

/* Parses spec against passwd, an /etc/passwd-format file (NULL: the real
 * one).  UID and GID are decimal digits only (no sign, space or 0x), at
 * most CONFIG_MAX_ID; GID defaults to UID.  A NAME is looked up by hand
 * (glibc's NSS does not work in a static binary) and its GID is its
 * primary group.  Id 0 (root) is refused for either: switching to it is
 * no privilege drop.  Returns 0, or -1 with "what was wrong; expected
 * what" in why. */
int config_parse_user(const char *spec, const char *passwd, uint32_t *uid,
		      uint32_t *gid, char *why, size_t n);

#endif
