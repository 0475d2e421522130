/*
 * Building, running and tearing down a VM: the order of things.
 *
 *   probe the kernel and initrd (bad input: status 2, nothing created)
 *   open the output sinks
 *   /dev/kvm, the VM, guest RAM, the boot structures, the devices, vCPUs
 *   start the console thread, then the vCPU threads
 *   wait for a stop: guest exit port / reset / failure, a signal, timeout
 *   kick and join the vCPUs, flush and stop the console, restore the tty
 */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "vm.h"
#include "../boot/boot.h"
#include "../control/control.h"
#include "../devices/console.h"
#include "../devices/devices.h"
#include "../gdb/gdb.h"
#include "usock.h"
#include "iothread.h"
#include "pit.h"
#include "reaper.h"
#include "vdevs.h"
#include "snapshot.h"
#include "../seccomp/sandbox.h"
#include "../vcpu/vcpu.h"

int vmm_own_fd(void)
{
	return kvm_kept_fd();
}

int vmm_limits(struct config_limits *lim, bool run)
{
	struct kvm k;
	int ret = kvm_open(&k, KVM_OPEN_QUIET | (run ? KVM_OPEN_CPUID : 0));

	if (ret < 0)
		return ret;
	lim->max_vcpus = k.max_vcpus < CONFIG_MAX_VCPUS ? k.max_vcpus :
							 CONFIG_MAX_VCPUS;
	if (!run) {
		kvm_close(&k);
		return 0;
	}
	/* The VM's build takes this descriptor (opened and checked once);
	 * the CPUID list is fetched on it meanwhile, joined in vm_build(). */
	kvm_keep(&k);
	return 0;
}

/* The kernel command line as the guest gets it: the configured one plus
 * one virtio_mmio.device= entry per virtio device, in list order (unless
 * virtio.cmdline = off), then picovm.name=NAME, picovm.net=passt when the
 * guest's first network interface is on passt (it answers DHCP) and, when
 * the console's input is not a terminal, picovm.stdin=notty (picovm(1)).
 * `check` counts the longest form. */
static char *full_cmdline(const struct config *c, const struct vdevs *l,
			  bool notty)
{
	size_t n = strlen(c->cmdline) + 1 + 64 * (VIRTIO_MMIO_MAX_DEVICES + 1) +
		   strlen(c->name) + 64;
	char *s = malloc(n);

	if (!s) {
		log_err("out of memory");
		return NULL;
	}
	strcpy(s, c->cmdline);
	if (vdevs_cmdline(l, c->virtio_cmdline, s, n) < 0) {
		log_err("the kernel command line is too long");
		free(s);
		return NULL;
	}
	size_t len = strlen(s);
	bool passt = false;
	for (unsigned i = 0; i < CONFIG_MAX_DEVICES; i++)
		if (c->net[i].present) {
			passt = (c->net[i].passt && *c->net[i].passt) ||
				c->net[i].passt_fd >= 0;
			break;
		}
	snprintf(s + len, n - len, "%spicovm.name=%s%s%s", len ? " " : "",
		 c->name, passt ? " picovm.net=passt" : "",
		 notty ? " picovm.stdin=notty" : "");
	return s;
}

/* Whether the console's input is there and is not a terminal. */
static bool console_notty(const struct config *c)
{
	return c->serial.kind != SINK_NONE && !isatty(0);
}

int vmm_check(const struct config *c)
{
	struct boot_plan p = { .kernel_fd = -1, .initrd_fd = -1 };
	struct vdevs l;

	if (vdevs_plan(c, &l) < 0)
		return -1;
	char *cmdline = full_cmdline(c, &l, true);
	int ret = cmdline ? boot_probe(c, cmdline, &p) : -1;

	boot_plan_free(&p);
	free(cmdline);
	if (vdevs_open(&l, c, true) < 0)
		ret = -1;
	vdevs_close(&l);
	return ret;
}

/* Opens a sink file for writing; prints why not and returns -1 (-2 for
 * a standard stream that is one of the VM's inputs).
 * O_NONBLOCK for the open, so that a FIFO without a reader is an error
 * (ENXIO) instead of a hang; the serial output then blocks as stdout does
 * (the console thread waits for it), the log stays non-blocking (log.h).
 * Truncated (trunc) only once it is known not to be one of the VM's
 * inputs or the other output (other: its descriptor, or -1); `check`
 * refuses those already, this catches a file swapped in since. */
static int open_sink(const struct config *c, const char *key,
		     const struct sink *s, int std_fd, bool trunc, int other)
{
	struct stat st, ost;
	char input[32];

	if (s->kind == SINK_NONE)
		return -1;
	if (s->kind == SINK_STDOUT) {
		/* `picovm run vm.conf 1<>disk.img` must not write the console
		 * over the disk either.  (stderr is not checked: the message
		 * saying so would go there.) */
		if (std_fd == 1 && fstat(std_fd, &st) == 0 &&
		    config_is_input(c, &st, input, sizeof(input))) {
			log_err("%s: stdout is %s; expected anything but one of "
				"the VM's inputs", key, input);
			return -2;
		}
		return std_fd;
	}
	int fd = open(s->path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY |
			       O_NONBLOCK | (trunc ? 0 : O_APPEND), 0644);
	if (fd < 0) {
		log_err("%s: cannot open %s: %s", key, s->path, errno == ENXIO ?
			"it is a FIFO without a reader (start the reader first)" :
			strerror(errno));
		return -1;
	}
	const char *why = NULL;
	if (fstat(fd, &st) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
		 !S_ISCHR(st.st_mode))
		why = "not a file, a FIFO or a character device";
	else if (config_is_input(c, &st, input, sizeof(input)))
		why = input;
	else if (other >= 0 && fstat(other, &ost) == 0 &&
		 st.st_dev == ost.st_dev && st.st_ino == ost.st_ino)
		why = "the other output";
	if (why) {
		log_err("%s: %s is %s%s; expected a file of its own", key, s->path,
			why == input ? "also " : "", why);
		close(fd);
		return -1;
	}
	/* The log keeps O_NONBLOCK: its writes never wait (log.h). */
	int fl = fcntl(fd, F_GETFL);
	if ((trunc && S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) || fl < 0 ||
	    (std_fd != 2 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) {
		log_err("%s: %s: %s", key, s->path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The legacy devices; the first one that offers a chardev is the console
 * when no virtio device does. */
const struct legacy_ops *const legacy_kinds[NLEGACY] = {
	&serial_legacy, &i8042_legacy, &debugport_legacy, &rtc_legacy,
	&pvpanic_legacy, &acpi_pm_legacy, &vmgenid_legacy, &serial1_legacy,
};

static void legacy_chardev(const struct vm *vm, struct chardev *cd)
{
	for (unsigned i = 0; i < NLEGACY; i++)
		if (vm->legacy[i] && legacy_kinds[i]->chardev) {
			*cd = legacy_kinds[i]->chardev(vm->legacy[i]);
			return;
		}
}

/* A fresh boot: the kernel and initrd (boot_place(), which sets
 * vm->entry), then the firmware tables (vm_tables(), after it: the MP
 * table takes the CPU's signature from the CPUID list). */
static int vm_tables(struct vm *vm)
{
	const struct config *c = vm->cfg;
	uint32_t sig, features;

	cpuid_signature(vm->cpuid, &sig, &features);
	if (mptable_write(&vm->m.mem, vm->nvcpus, sig, features) < 0) {
		log_err("cannot write the MP table for %u vCPUs", vm->nvcpus);
		return -1;
	}
	if (c->acpi && acpi_write(&vm->m.mem, vm->nvcpus, vm->vdevs.n) < 0) {
		log_err("cannot set up ACPI for %u vCPUs", vm->nvcpus);
		return -1;
	}
	return 0;
}

/* A result of vm/pit.h's calls, passed on: a snapshot's PIT state KVM
 * refused makes the restore's status 2 (restore_refused()). */
static int pit_result(struct vm *vm, int ret)
{
	if (ret < 0 && (-ret & PIT_STATE_REFUSED))
		restore_refuse(vm);
	return ret;
}

/* Each vCPU's CPUID and registers (vm_build()): 0 or -1. */
static int vcpus_setup(void *arg)
{
	struct vm *vm = arg;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vcpu_setup(&vm->vcpus[i], vm->cpuid, vm->nvcpus,
			       vm->restore ? NULL : &vm->entry) < 0)
			return -1;
	return 0;
}

static int vm_build(struct vm *vm, const struct boot_plan *plan)
{
	const struct config *c = vm->cfg;
	int ret;

	if (kvm_open(&vm->m.kvm, 0) < 0 || kvm_create_vm(&vm->m.kvm) < 0)
		return -1;
	if (c->vcpus > vm->m.kvm.max_vcpus) {
		log_err("vcpus: %u is more than KVM on this host allows (%u)",
			c->vcpus, vm->m.kvm.max_vcpus);
		return -1;
	}
	if (vm->restore) {
		if (restore_memory(vm) < 0)
			return -1;
		ret = 0;
	} else {
		ret = gmem_init(&vm->m.mem, c->memory, c->hugepages);
	}
	if (ret < 0) {
		log_err("memory: cannot allocate %llu MiB%s: %s",
			(unsigned long long)(c->memory >> 20),
			c->hugepages ? " of hugepages (see "
				       "/proc/sys/vm/nr_hugepages)" : "",
			strerror(-ret));
		return -1;
	}
	ret = gmem_register(&vm->m.mem, vm->m.kvm.vm_fd);
	if (ret < 0) {
		log_err("KVM_SET_USER_MEMORY_REGION: %s", strerror(-ret));
		return -1;
	}
	if (kvm_create_irqchip(&vm->m.kvm) < 0)
		return -1;
	/* The devices, the vCPUs and the kernel first, what needs the CPUID
	 * list (its fetch runs since vmm_limits()) last: the MP table and
	 * each vCPU's CPUID; the PIT (a restored one with its state) after
	 * the vCPUs (below). */
	/* With console = virtio the UART stays, but its output goes nowhere. */
	unsigned flags = (c->acpi ? LEGACY_ACPI : 0) |
			 (c->serial.kind == SINK_NONE || c->console == CONSOLE_VIRTIO ?
			  LEGACY_SERIAL_DISCARD : 0) |
			 (strcmp(c->serial1, "none") ? LEGACY_SERIAL1 : 0);
	for (unsigned i = 0; i < NLEGACY; i++)
		if (legacy_kinds[i]->create(&vm->m, flags, &vm->legacy[i]) < 0)
			return -1;
	/* Only virtio devices use the I/O thread: without one there is no
	 * ring and no thread (iothread_start() then starts none). */
	bool io = vm->vdevs.n > 0;
	if ((io && (iothread_init(vdevs_inflight(&vm->vdevs)) < 0 ||
		    iothread_prepare() < 0)) ||
	    vdevs_attach(&vm->vdevs, &vm->m) < 0 || (io && iothread_seal() < 0))
		return -1;
	vm->vcpus = calloc(vm->nvcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		log_err("vcpus: cannot allocate %u vCPUs", vm->nvcpus);
		return -1;
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vm->vcpus[i].fd = -1;
		if (vcpu_create(&vm->m, &vm->vcpus[i], i) < 0)
			return -1;
	}
	if (!vm->restore && boot_place(c, plan, &vm->m.mem, &vm->entry) < 0)
		return -1;
	vm->cpuid = cpuid_supported(vm->m.kvm.fd);
	if (!vm->cpuid)
		return -1;
	/* A fresh boot's vCPU set-up (KVM_SET_CPUID2 alone is 0.1 ms of
	 * host CPUID exits here) runs on the CPUID thread, when the list
	 * was not cached (vcpu/cpucache.h) and there is one, while this one
	 * writes the firmware tables, hands the VM to the reaper and enters
	 * the sandbox; vmm_start() collects it before any vCPU thread
	 * starts.  Not for a restore (its state goes on top), nor with the
	 * gdb stub (it looks at the vCPUs when it attaches). */
	bool async = !vm->restore && !vm->gdb &&
		     cpuid_prefetch_run(vcpus_setup, vm);
	/* The PIT is made by the reaper (vm/pit.h) after the vCPUs:
	 * creating it waits for the kernel to make the PIT's worker thread
	 * (longer on a busy host, where kthreadd waits for a CPU) and for
	 * grace periods, which then overlap the vCPUs' set-up, the tables,
	 * the sandbox and the vCPU threads' start; the vCPUs wait for the
	 * PIT before their first KVM_RUN (pit_gate_wait()). */
	if (pit_result(vm, pit_reinject_off(vm->m.kvm.vm_fd,
					    restore_pit_state(vm))) < 0)
		return -1;
	if (!vm->restore && vm_tables(vm) < 0)
		return -1;
	if (async)
		return 0;
	if (vcpus_setup(vm) < 0)
		return -1;
	return vm->restore ? restore_state(vm) : 0;
}

/* The VM, its vCPUs and the taps picovm created go to the reaper
 * (vm/reaper.h): their destruction then happens after picovm's exit.  A
 * failure costs only that. */
static void hand_to_reaper(const struct vm *vm)
{
	int fds[1 + CONFIG_MAX_VCPUS], taps[VIRTIO_MMIO_MAX_DEVICES];
	unsigned n = 0;

	if (!reaper_holds_vm())		/* unless its PIT came first */
		fds[n++] = vm->m.kvm.vm_fd;
	for (unsigned i = 0; i < vm->nvcpus && n < 1 + CONFIG_MAX_VCPUS; i++)
		fds[n++] = vm->vcpus[i].fd;
	(void)reaper_hand(fds, n, taps,
			  vdevs_linger_fds(&vm->vdevs, taps, VIRTIO_MMIO_MAX_DEVICES));
}

/* How far below its frame stack_trim() gives the stack back: more than
 * start-up ever goes deep, less than the gap the kernel keeps free below
 * a stack (stack_guard_gap, 1 MiB by default). */
#define STACK_TRIM_SPAN (256u << 10)

/* Start-up went deep into the main thread's stack (path buffers of 4 KiB
 * in restore_open() and the sinks, the MSR lists, the config: 20-30 KiB
 * below where vm_wait() runs), and those pages stayed resident for the
 * VM's whole run, in every clone.  They go back here, once the vCPUs run;
 * a deeper call later (a snapshot, the stop) finds fresh zero pages.
 * Everything more than a page below this frame is unused (madvise's own
 * call takes a few bytes of it); the part of the span under the stack's
 * lowest page is not mapped, which madvise reports (ENOMEM, ignored)
 * after dropping the pages of the part that is. */
static __attribute__((noinline)) void stack_trim(void)
{
	uintptr_t below = ((uintptr_t)__builtin_frame_address(0) &
			   ~(uintptr_t)4095) - 4096;

	(void)madvise((void *)(below - STACK_TRIM_SPAN), STACK_TRIM_SPAN,
		      MADV_DONTNEED);
}

/* Waits for the VM to stop; turns signals and the timeout into stops. */
static void vm_wait(struct vm *vm, int sig_fd, int timer_fd)
{
	while (!machine_stopping(&vm->m)) {
		struct pollfd p[3] = {
			{ .fd = vm->m.stop_efd, .events = POLLIN },
			{ .fd = sig_fd, .events = POLLIN },
			{ .fd = timer_fd, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			uint64_t v;
			if (read(vm->m.stop_efd, &v, sizeof(v)) < 0)
				v = 0;
		}
		if (atomic_load(&vm->m.snapshot_req) && !machine_stopping(&vm->m))
			snapshot_take(vm);
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				machine_stop(&vm->m, EXIT_VM_SIGNAL_BASE + (int)si.ssi_signo,
					"stopping on %s", strsignal((int)si.ssi_signo));
		}
		if (p[2].revents & POLLIN)
			machine_stop(&vm->m, EXIT_VM_TIMEOUT, "timeout: stopped the VM after "
				"%llu ms", (unsigned long long)vm->cfg->timeout_ms);
	}
}

/* PICOVM_STATS=1 in the environment: one line of exit counts at the end,
 * for the benchmarks (bench/). */
static void vm_stats(const struct vm *vm)
{
	uint64_t io = 0, mmio = 0, other = 0;

	if (!getenv("PICOVM_STATS") || !vm->vcpus)
		return;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		io += vm->vcpus[i].exits_io;
		mmio += vm->vcpus[i].exits_mmio;
		other += vm->vcpus[i].exits_other;
	}
	log_info("stats: exits to user space: io=%llu mmio=%llu other=%llu",
		 (unsigned long long)io, (unsigned long long)mmio,
		 (unsigned long long)other);
}

static void vm_teardown(struct vm *vm)
{
	cpuid_prefetch_end();	/* a build that failed before its end */
	atomic_store(&vm->m.stopping, true);
	pit_gate_fail();		/* vCPUs told to go before the PIT came */
	machine_wake_parked(&vm->m);	/* a paused VM stops too */
	control_stopping(vm->control);
	gdb_stopping(vm->gdb);
	for (unsigned i = 0; vm->vcpus && i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; vm->vcpus && i < vm->nvcpus; i++)
		if (vm->vcpus[i].m)
			vcpu_destroy(&vm->vcpus[i]);
	vm_stats(vm);
	/* The vCPUs are gone: no new requests.  The console flushes the
	 * guest's last output meanwhile; the disks finish the chunks in
	 * flight.  Each step is bounded (picovm(1): a stop takes at most 1 s
	 * plus the final fdatasync of writeback disks). */
	console_stop_begin(vm->console);
	iothread_stop(vdevs_busy, &vm->vdevs);
	/* Nothing writes to the taps now: the reaper may take them down
	 * and rename them while the rest of the stop goes on.  Not when the
	 * I/O thread could not end its work (then at the end, below). */
	if (!iothread_left_busy())
		reaper_release();
	if (getenv("PICOVM_STATS") && vm->vcpus)
		iothread_log_stats();
	console_stop_begin(vm->console1);
	console_stop(vm->console);
	vm->console = NULL;
	console_stop(vm->console1);
	log_limit_summary();
	vdevs_close(&vm->vdevs);	/* the reaper holds the taps it renames */
	iothread_exit();
	free(vm->vcpus);
	for (unsigned i = 0; i < NLEGACY; i++) {
		legacy_kinds[i]->destroy(vm->legacy[i]);
		vm->legacy[i] = NULL;
	}
	snapshot_close(vm);
	reaper_release();	/* unless asked above */
	/* I/O the stop could not end may still write into guest RAM: leave
	 * it mapped, the process is about to exit.  Ordinary RAM is left to
	 * the address space's end too (munmap here cost ~80 us of zapping
	 * and KVM MMU notifier work on picovm's way out; the reaper, its
	 * last user, does it after picovm's exit, vm/reaper.h); huge pages
	 * are given back now, so that a VM started at once finds the pool. */
	if (vm->m.mem.huge && !iothread_left_busy())
		gmem_free(&vm->m.mem);
	kvm_close(&vm->m.kvm);
	restore_close(vm);
}

/* serial.1's host side, opened before the sandbox: a file (*fd) or a
 * listening socket (*u).  0, or -1 after printing why. */
static int serial1_open(const struct config *c, int log_fd, int *fd,
			struct usock *u)
{
	*fd = -1;
	u->fd = u->dir_fd = -1;
	if (strncmp(c->serial1, "file:", 5) == 0) {
		struct sink s = { .kind = SINK_FILE, .path = c->serial1 + 5 };
		*fd = open_sink(c, "serial.1", &s, -1, true, log_fd);
		return *fd < 0 ? -1 : 0;
	}
	if (strncmp(c->serial1, "unix:", 5) == 0)
		return usock_listen(u, "serial.1", c->serial1 + 5) < 0 ? -1 : 0;
	return 0;
}

/* Boots c, or (dir not NULL) restores the snapshot in dir with c, its
 * vm.conf plus overrides. */
static int vmm_start(const struct config *c, const char *dir)
{
	struct vm vm;
	struct boot_plan plan = { .kernel_fd = -1, .initrd_fd = -1 };
	sigset_t sigs;
	int status = EXIT_VM_FAILURE;
	int out_fd = -1, log_fd = -1, sig_fd = -1, timer_fd = -1, ret;
	int s1_fd = -1;
	bool s1_started = false;	/* its thread removes the socket */
	int s1_reserve = -1, s1_reserve2 = -1;
	struct usock s1 = { .fd = -1, .dir_fd = -1 };

	memset(&vm, 0, sizeof(vm));
	vm.cfg = c;
	vm.nvcpus = c->vcpus;
	vm.m.kvm.fd = vm.m.kvm.vm_fd = -1;
	pthread_mutex_init(&vm.m.stop_lock, NULL);
	pthread_mutex_init(&vm.m.pause_lock, NULL);
	pthread_cond_init(&vm.m.pause_cond, NULL);
	pthread_mutex_init(&vm.m.pause_op, NULL);
	vm.m.event_efd = -1;
	atomic_init(&vm.m.solo_vcpu, -1);

	/* A vanished stdout reader must not kill us; signals are read from
	 * a signalfd by this thread only. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sigdelset(&sigs, SIGUSR1);

	sandbox_enable(c->sandbox);
	if (c->sandbox)
		sandbox_close_inherited(c, kvm_kept_fd());
	/* Before the disks and taps are opened: the reaper must not hold
	 * them (vm/reaper.h).  Without one the VM is destroyed at exit. */
	(void)reaper_start();
	char *cmdline = NULL;
	bool ok = vdevs_plan(c, &vm.vdevs) == 0;
	if (ok && !dir) {
		cmdline = full_cmdline(c, &vm.vdevs, console_notty(c));
		ok = cmdline && boot_probe(c, cmdline, &plan) == 0;
	} else if (ok) {
		ok = restore_open(&vm, dir) == 0;
	}
	if (!ok || vdevs_open(&vm.vdevs, c, false) < 0 ||
	    (dir && restore_files(&vm) < 0)) {
		boot_plan_free(&plan);
		vdevs_close(&vm.vdevs);
		restore_close(&vm);
		free(cmdline);
		(void)reaper_settle();	/* it drops picovm's stdout before we end */
		return EXIT_VM_BADINPUT;
	}
	if ((ret = log_nonblocking_stderr()) < 0)
		log_err("stderr: cannot make its writes non-blocking: %s; "
			"messages may wait for its reader", strerror(-ret));
	log_fd = open_sink(c, "log", &c->log, 2, false, -1);
	if (log_fd < 0) {
		status = EXIT_VM_BADINPUT;
		goto free_plan;
	}
	if (log_fd != 2)
		log_set_fd(log_fd);
	out_fd = open_sink(c, "serial", &c->serial, 1, true, log_fd);
	if ((c->serial.kind == SINK_FILE && out_fd < 0) || out_fd == -2) {
		status = EXIT_VM_BADINPUT;
		goto close_sinks;
	}
	if (serial1_open(c, log_fd, &s1_fd, &s1) < 0) {
		status = EXIT_VM_BADINPUT;
		goto close_sinks;
	}
	/* A descriptor number kept for serial.1's console eventfd: the
	 * sandbox caps RLIMIT_NOFILE at what is open when it starts. */
	if (s1_fd >= 0 || s1.fd >= 0)
		s1_reserve = fcntl(s1_fd >= 0 ? s1_fd : s1.fd, F_DUPFD_CLOEXEC, 0);
	if (s1.fd >= 0)		/* and one for its client */
		s1_reserve2 = fcntl(s1.fd, F_DUPFD_CLOEXEC, 0);
	ret = control_open(c, &vm.control);
	if (ret < 0) {
		status = ret == -2 ? EXIT_VM_BADINPUT : EXIT_VM_FAILURE;
		goto close_sinks;
	}
	ret = gdb_open(c, &vm.gdb);
	if (ret < 0) {
		status = ret == -2 ? EXIT_VM_BADINPUT : EXIT_VM_FAILURE;
		goto close_fds;
	}
	vm.m.event_efd = control_event_fd(vm.control);
	vm.m.stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (vm.m.stop_efd < 0 || sig_fd < 0 || timer_fd < 0) {
		log_err("cannot create event descriptors: %s", strerror(errno));
		goto close_fds;
	}
	if (vm_build(&vm, &plan) < 0) {
		if (restore_refused(&vm))
			status = EXIT_VM_BADINPUT;
		goto teardown;
	}
	if (gdb_attach(vm.gdb, &vm) < 0)
		goto teardown;
	if (snapshot_prepare(&vm) < 0) {
		status = EXIT_VM_BADINPUT;
		goto teardown;
	}
	boot_plan_free(&plan);
	restore_drop_fd(&vm);
	struct sandbox_fds sfds = { .ring_fd = iothread_ring_fd(),
				    .snapshot = vm.snap != NULL,
				    .log_send = log_stderr_is_socket() };
	for (unsigned i = 0; i < CONFIG_MAX_DEVICES; i++)
		sfds.passt |= c->net[i].present && c->net[i].passt &&
			      strcmp(c->net[i].passt, "auto") == 0;
	control_sandbox_fds(vm.control, &sfds);
	gdb_sandbox_fds(vm.gdb, &sfds);
	sfds.serial1_fd = s1.fd;
	sfds.serial1_dir_fd = s1.dir_fd;
	sandbox_set_fds(&sfds);
	if (sandbox_process(c) < 0)
		goto teardown;
	/* The vCPU threads first (after the sandbox: they inherit its
	 * credentials): each loads its filter, then waits for machine_go(). */
	for (unsigned i = 0; i < vm.nvcpus; i++)
		if (vcpu_start(&vm.vcpus[i]) < 0) {
			machine_stop(&vm.m, EXIT_VM_FAILURE, NULL);
			break;
		}
	struct chardev cd;
	bool vcon = vdevs_chardev(&vm.vdevs, &cd);
	if (!vcon)
		legacy_chardev(&vm, &cd);
	/* No console thread when it would have nothing to move: serial =
	 * none (no output, no input) with the UART as the console, which
	 * then drops what the guest writes itself (LEGACY_SERIAL_DISCARD).
	 * A virtio console's output must still be consumed. */
	if (vcon || c->serial.kind != SINK_NONE) {
		vm.console = console_start(&vm.m, &cd, out_fd,
					   c->serial.kind == SINK_NONE ? -1 : 0);
		if (!vm.console)
			goto teardown;
	}
	if (iothread_start(&vm.m) < 0)
		goto teardown;
	if (vm.legacy[LEGACY_COM2] && (s1_fd >= 0 || s1.fd >= 0)) {
		struct chardev cd1 = serial1_legacy.chardev(vm.legacy[LEGACY_COM2]);
		if (s1_reserve >= 0)
			close(s1_reserve);
		s1_reserve = -1;
		vm.console1 = s1.fd >= 0 ?
			console_start_listen(&vm.m, &cd1, s1.fd, s1.dir_fd, s1.base,
					     s1_reserve2) :
			console_start(&vm.m, &cd1, s1_fd, -1);
		s1_reserve2 = -1;	/* the console's now */
		if (!vm.console1)
			goto teardown;
		s1_started = true;
	}
	if (c->timeout_ms) {
		struct itimerspec t = { .it_value = {
			.tv_sec = (time_t)(c->timeout_ms / 1000),
			.tv_nsec = (long)(c->timeout_ms % 1000) * 1000000 } };
		timerfd_settime(timer_fd, 0, &t, NULL);
	}
	/* The vCPUs' set-up (vm_build()), which the vCPU, console and I/O
	 * threads' starts overlapped; then the vCPUs may run, once the PIT
	 * is there too (vm/pit.h: pit_gate_wait()). */
	if (cpuid_prefetch_end() < 0)
		goto teardown;
	machine_go(&vm.m);
	ret = pit_result(&vm, pit_ready());
	if (ret < 0) {
		if (restore_refused(&vm))
			status = EXIT_VM_BADINPUT;	/* a snapshot's PIT */
		goto teardown;
	}
	/* After the go: the vCPUs need none of it, and until it the VM
	 * would only be destroyed at picovm's exit. */
	hand_to_reaper(&vm);
	if (control_start(vm.control, &vm, &cd) < 0 || gdb_start(vm.gdb) < 0)
		machine_stop(&vm.m, EXIT_VM_FAILURE, NULL);
	if (sandbox_thread(SANDBOX_MAIN, "picovm") < 0)
		machine_stop(&vm.m, EXIT_VM_FAILURE, NULL);
	stack_trim();
	vm_wait(&vm, sig_fd, timer_fd);
	status = vm.m.exit_status;
teardown:
	vm_teardown(&vm);
close_fds:
	control_finish(vm.control, status);
	vm.control = NULL;
	gdb_finish(vm.gdb, status);
	vm.gdb = NULL;
	if (vm.m.stop_efd >= 0)
		close(vm.m.stop_efd);
	if (sig_fd >= 0)
		close(sig_fd);
	if (timer_fd >= 0)
		close(timer_fd);
close_sinks:
	if (s1_reserve >= 0)
		close(s1_reserve);
	if (s1_reserve2 >= 0)
		close(s1_reserve2);
	usock_close(&s1, !s1_started);
	if (s1_fd >= 0)
		close(s1_fd);
	if (out_fd > 2)
		close(out_fd);
	if (log_fd > 2) {
		log_set_fd(2);
		close(log_fd);
	}
free_plan:
	boot_plan_free(&plan);
	vdevs_close(&vm.vdevs);
	free(cmdline);
	(void)reaper_settle();	/* a VM that failed before the hand-over */
	return status;
}

int vmm_run(const struct config *c)
{
	return vmm_start(c, NULL);
}

int vmm_restore(const struct config *c, const char *dir)
{
	return vmm_start(c, dir);
}
