/*
 * picovm's command line: picovm run|check FILE [key=value ...].
 * Only this file decides exit statuses (see picovm(1) and usage()).
 */
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "control/control.h"
#include "seccomp/sandbox.h"
#include "vm/vmm.h"

#ifndef PICOVM_VERSION
#define PICOVM_VERSION "unknown"	/* the Makefile defines it */
#endif

#define EXIT_BAD_INPUT 2

static void short_usage(FILE *out)
{
	fputs("usage: picovm run FILE [key=value ...]\n"
	      "       picovm check FILE [key=value ...]\n"
	      "       picovm restore DIR [key=value ...]\n"
	      "       picovm ctl TARGET REQUEST...\n"
	      "       picovm ls\n"
	      "       picovm --help | --version\n", out);
}

static void usage(FILE *out)
{
	short_usage(out);
	fputs("\n"
	      "Commands:\n"
	      "  run FILE     boot the VM that the config FILE describes and "
	      "run it\n"
	      "               until the guest stops it\n"
	      "  check FILE   validate FILE, the kernel and the initrd without"
	      " starting\n"
	      "               anything, and print the effective "
	      "configuration\n"
	      "  restore DIR  run the VM snapshotted into the folder DIR "
	      "(snapshot.path);\n"
	      "               overrides only of what the guest cannot see: "
	      "name, serial,\n"
	      "               log, timeout, sandbox*, snapshot.*, control,\n"
	      "               net.N.tap/fd/bridge, disk.N.path\n"
	      "  ctl TARGET REQUEST...\n"
	      "               send one request to a running VM's control "
	      "socket (TARGET:\n"
	      "               a socket path, or a VM name in the runtime "
	      "folder) and print\n"
	      "               the reply; REQUEST: status, pause, resume, "
	      "stop [TIMEOUT],\n"
	      "               kill, stats.  Exit status 0 on ok, 1 on error, "
	      "2 on bad usage\n"
	      "  ls           the running VMs of the runtime folder "
	      "($XDG_RUNTIME_DIR/picovm,\n"
	      "               or /run/picovm for root): name, pid, state, "
	      "uptime\n"
	      "  --help, -h, help    this text\n"
	      "  --version, -V       the version\n"
	      "\n"
	      "Each key=value after FILE overrides (or adds) one key of FILE;"
	      " the\n"
	      "value is written as in the file, quotes included, and "
	      "relative paths are\n"
	      "relative to the current folder.\n"
	      "\n"
	      "Keys (FILE holds one `key = value` per line; see "
	      "`man picovm.conf`):\n", out);
	config_print_keys(out);
	fputs("\n"
	      "Exit status of run:\n"
	      "  0        the guest shut down cleanly (wrote 0 to the exit "
	      "port, or\n"
	      "           reset through the i8042)\n"
	      "  N        the guest wrote the byte N to the exit port "
	      "(0x510)\n"
	      "  1        picovm or the guest failed (KVM error, triple "
	      "fault, internal\n"
	      "           error)\n"
	      "  2        bad config, command line or input file; nothing "
	      "was started\n"
	      "  124      the timeout ran out\n"
	      "  137      ended by `picovm ctl NAME kill`, or a `stop` whose "
	      "TIMEOUT ran out\n"
	      "  128+N    stopped by signal N (SIGINT 130, SIGTERM 143)\n"
	      "  159      a thread broke its seccomp filter (sandbox violation)\n"
	      "check exits 0 when the VM is valid, 2 when not.\n"
	      "\n"
	      "See picovm(1) and picovm.conf(5).\n", out);
}

/* The keys `restore` may override: what the guest cannot see. */
static bool restore_key_ok(const char *arg)
{
	static const char *const keys[] = {
		"name", "serial", "log", "timeout", "sandbox", "sandbox.user",
		"sandbox.chroot", "snapshot.path", "snapshot.after", "control", "gdb",
		"gdb.wait",
	};
	static const char *const dev_keys[] = { "tap", "fd", "bridge" };
	size_t klen = strcspn(arg, "=");
	unsigned n;
	int end = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == klen && !strncmp(arg, keys[i], klen))
			return true;
	char field[8];
	if (sscanf(arg, "disk.%u.%7[a-z]%n", &n, field, &end) == 2 &&
	    (size_t)end == klen && !strcmp(field, "path"))
		return true;
	for (size_t i = 0; i < sizeof(dev_keys) / sizeof(dev_keys[0]); i++)
		if (sscanf(arg, "net.%u.%7[a-z]%n", &n, field, &end) == 2 &&
		    (size_t)end == klen && !strcmp(field, dev_keys[i]))
			return true;
	return false;
}

/* Built-in limits unless KVM answers; when it cannot be opened, `run`
 * reports that itself and `check` does not need it.  For run and restore
 * main() has asked already (before the descriptor scan). */
static struct config_limits limits = { .max_vcpus = CONFIG_MAX_VCPUS };

static int load(struct config *c, int argc, char **argv, bool asked)
{
	if (!asked)
		(void)vmm_limits(&limits, false);
	return config_load(c, argv[2], argc - 3, argv + 3, &limits);
}

static int restore(int argc, char **argv)
{
	struct config c;
	/* DIR/vm.conf on the heap, gone once loaded: as a 4 KiB array it
	 * kept a stack page of the main thread resident for the whole run
	 * (the config keeps its own copy of the name). */
	const size_t len = 4096;
	char *conf;
	int ret;

	for (int i = 3; i < argc; i++)
		if (strchr(argv[i], '=') && !restore_key_ok(argv[i])) {
			fprintf(stderr, "picovm: restore: %.*s: the guest "
				"already saw it; a restore may change only "
				"name, serial, log, timeout, sandbox*, "
				"snapshot.*, control, net.N.tap/fd/bridge and "
				"disk.N.path\n", (int)strcspn(argv[i], "="),
				argv[i]);
			return EXIT_BAD_INPUT;
		}
	if (!(conf = malloc(len))) {
		fputs("picovm: restore: out of memory\n", stderr);
		return 1;
	}
	if (snprintf(conf, len, "%s/vm.conf", argv[2]) >= (int)len) {
		fprintf(stderr, "picovm: restore: %s: name too long\n", argv[2]);
		free(conf);
		return EXIT_BAD_INPUT;
	}
	char *dir = argv[2];
	argv[2] = conf;
	ret = load(&c, argc, argv, true);
	argv[2] = dir;
	free(conf);
	if (ret < 0)
		return EXIT_BAD_INPUT;
	int status = vmm_restore(&c, dir);
	config_free(&c);
	return status;
}

int main(int argc, char **argv)
{
	struct config c;

	/* musl (what picovm is linked against) needs none of this: its
	 * malloc maps large blocks on their own, and its calloc writes no
	 * page that is still zero.  Built with glibc:
	 * blocks of 32 KiB and more come from mmap, not the heap: zero pages
	 * until used, where calloc on the heap clears them (and so makes
	 * them resident) at once.  A device's buffers it may never use (the
	 * UART's 64 KiB output ring behind serial = none) then cost no
	 * memory: many clones of a snapshot each carry them (PSS per clone).
	 * The heap grows only by what it needs (no 128 KiB pad), or a large
	 * block would still be carved from the pad; the pad the libraries'
	 * start-up code got before main goes back at once. */
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 32 * 1024);
	mallopt(M_TOP_PAD, 0);
	malloc_trim(0);
#endif
	/* Before anything is opened: see sandbox_std_fds(). */
	if (sandbox_std_fds() < 0) {
		fputs("picovm: cannot open /dev/null for a closed standard "
		      "descriptor\n", stderr);
		return 1;
	}
	/* run and restore build a VM: /dev/kvm is opened once and the CPUID
	 * list's fetch started on it (vm/vmm.h) before the scan of inherited
	 * descriptors, which then overlaps the fetch. */
	bool builds = argc >= 3 && (!strcmp(argv[1], "run") ||
				    !strcmp(argv[1], "restore"));
	if (builds)
		(void)vmm_limits(&limits, true);
	sandbox_note_inherited(vmm_own_fd());
	if (argc < 2) {
		short_usage(stderr);
		return EXIT_BAD_INPUT;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		usage(stdout);
		return fflush(stdout) ? 1 : 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("picovm %s\n", PICOVM_VERSION);
		return fflush(stdout) ? 1 : 0;
	}
	if (!strcmp(cmd, "ctl"))
		return control_ctl_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "ls"))
		return control_ls_main(argc - 1, argv + 1);
	if (strcmp(cmd, "run") != 0 && strcmp(cmd, "check") != 0 &&
	    strcmp(cmd, "restore") != 0) {
		fprintf(stderr, "picovm: unknown command '%s' (try 'picovm "
			"--help')\n", cmd);
		return EXIT_BAD_INPUT;
	}
	if (argc < 3) {
		fprintf(stderr, "picovm: %s: missing the config FILE (try "
			"'picovm --help')\n", cmd);
		short_usage(stderr);
		return EXIT_BAD_INPUT;
	}
	if (!strcmp(cmd, "restore"))
		return restore(argc, argv);
	if (load(&c, argc, argv, !strcmp(cmd, "run")) < 0)
		return EXIT_BAD_INPUT;

	int status;
	if (!strcmp(cmd, "run")) {
		status = vmm_run(&c);
	} else if (vmm_check(&c) < 0) {
		status = EXIT_BAD_INPUT;
	} else {
		config_print(&c, stdout);
		status = fflush(stdout) || ferror(stdout) ? 1 : 0;
	}
	config_free(&c);
	return status;
}
