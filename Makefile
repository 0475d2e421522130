# picovm: one statically linked KVM microVM monitor.
#   make run        install build dependencies if missing, build picovm
#                   and the default Linux guest, boot examples/demo.conf
#                   (the README's first command)
#   make test-linux only the Linux tier (make test runs it last)
#   make            build ./picovm
#   make test       build everything and run every test tier (tests/run.sh)
#   make guests     build the freestanding test guests (guest/)
#   make bench      run every benchmark in bench/; writes bench/results/
#                   (results.md and PNG plots; needs QEMU and gnuplot-nox)
#   make install PREFIX=/usr/local
VERSION := 0.1.0
CC ?= gcc
# picovm itself is built against musl (Debian's musl-tools): static glibc's
# start-up asks the CPU about 80 CPUID questions (cache sizes, string
# function choice) before main, and on a virtualised host every CPUID is an
# exit to the hypervisor (5.7 us each on the nested host this was measured
# on: 0.45 ms of each start, a third of exec to the guest's first
# instruction).  musl's start-up asks none.  Host tools (seccomp/genbpf,
# tests/, bench/) stay on $(CC) and glibc.
PICOVM_CC ?= musl-gcc
PREFIX ?= /usr/local
DESTDIR ?=

include warnings.mk
# CFLAGS is the user's (make CFLAGS=-O0 works); what picovm needs to build
# at all is in PICOVM_CFLAGS.  _FORTIFY_SOURCE needs an optimising build.
CFLAGS ?= -O2 -g
FORTIFY := $(if $(filter -O0,$(CFLAGS)),,-D_FORTIFY_SOURCE=2)
PICOVM_CFLAGS := -std=c11 -D_GNU_SOURCE -DPICOVM_VERSION='"$(VERSION)"' \
	$(WARN) -fstack-protector-strong $(FORTIFY)
LDFLAGS += -static
# libseccomp is a build-time tool only (seccomp/genbpf), not linked in.
# liburing.a is Debian's (it calls the kernel itself and needs only calloc,
# free and the stack protector from a C library, which musl has).
LDLIBS := /usr/lib/x86_64-linux-gnu/liburing.a
# musl-gcc searches only musl's headers: the kernel's and liburing's come
# from the build host's, through links in .musl-include/.  vm/libc.h is
# read first by every file (what musl spells differently from glibc).
MUSL_INC := .musl-include
MUSL_CFLAGS := -isystem $(MUSL_INC) -include vm/libc.h

SRCS := main.c $(sort $(wildcard config/*.c vm/*.c vcpu/*.c boot/*.c \
	devices/*.c virtio/*.c net/*.c seccomp/*.c control/*.c gdb/*.c))
# The seccomp rule tables (filters.c) are compiled to BPF at build time by
# a host program linking libseccomp (seccomp/bpf.h); picovm links the
# generated programs, not the tables or libseccomp's compiler.
SRCS := $(filter-out seccomp/filters.c seccomp/genbpf.c seccomp/bpf_gen.c,$(SRCS)) \
	seccomp/bpf_gen.c
OBJS := $(SRCS:.c=.o)
DEPS := $(OBJS:.o=.d)

all: picovm

seccomp/genbpf: seccomp/genbpf.c seccomp/filters.c seccomp/variant.c \
		seccomp/bpf.h seccomp/filters.h seccomp/sandbox.h
	$(CC) $(CFLAGS) $(PICOVM_CFLAGS) -o $@ seccomp/genbpf.c seccomp/filters.c \
		seccomp/variant.c -lseccomp
seccomp/bpf_gen.c: seccomp/genbpf
	./seccomp/genbpf >$@.tmp && mv $@.tmp $@

picovm: $(OBJS)
	$(PICOVM_CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(MUSL_INC)/.links:
	@mkdir -p $(MUSL_INC)
	ln -sfn /usr/include/linux $(MUSL_INC)/linux
	ln -sfn /usr/include/x86_64-linux-gnu/asm $(MUSL_INC)/asm
	ln -sfn /usr/include/asm-generic $(MUSL_INC)/asm-generic
	ln -sfn /usr/include/liburing $(MUSL_INC)/liburing
	ln -sfn /usr/include/liburing.h $(MUSL_INC)/liburing.h
	@touch $@

# Objects of another compiler (a tree built before picovm moved to musl)
# must not be linked: a change of the Makefile rebuilds them.
$(OBJS): Makefile | $(MUSL_INC)/.links

%.o: %.c
	$(PICOVM_CC) $(CFLAGS) $(PICOVM_CFLAGS) $(MUSL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(DEPS)

guests:
	$(MAKE) -C guest

# The test build: the same sources with PICOVM_TEST_HOOKS, which lets the
# sandbox tests make each thread break its filter (see seccomp/sandbox.h).
# The release binary has no such switch.
HOOK_OBJS := $(patsubst %.c,tests/build/hooks/%.o,$(SRCS))
tests/build/picovm-hooks: $(HOOK_OBJS)
	$(PICOVM_CC) $(LDFLAGS) -o $@ $(HOOK_OBJS) $(LDLIBS)
tests/build/hooks/%.o: %.c
	@mkdir -p $(dir $@)
	$(PICOVM_CC) $(CFLAGS) $(PICOVM_CFLAGS) $(MUSL_CFLAGS) -DPICOVM_TEST_HOOKS -MMD -MP -c -o $@ $<
-include $(HOOK_OBJS:.o=.d)
$(HOOK_OBJS): Makefile | $(MUSL_INC)/.links

# Debian packages the build needs; installed when missing and we are root.
DEPS_LIBS := /usr/lib/x86_64-linux-gnu/libseccomp.a \
	/usr/lib/x86_64-linux-gnu/liburing.a /usr/bin/musl-gcc
DEPS_PKGS := gcc make libseccomp-dev liburing-dev musl-tools
deps:
	@for f in $(DEPS_LIBS); do [ -f $$f ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing build dependencies: $(DEPS_PKGS)"; \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -q $(DEPS_PKGS); \
		else \
			echo "missing build dependencies; run: sudo apt-get install $(DEPS_PKGS)"; \
			exit 1; \
		fi; \
	fi

# The default Linux guest (kernel built once per machine, cached under
# ~/.cache/picovm; see guest/linux/README.md).
linux:
	bash guest/linux/build.sh

run: deps
	$(MAKE) picovm guests linux
	./picovm run examples/demo.conf

test-linux: deps
	$(MAKE) picovm guests linux
	bash tests/run.sh linux

tools:
	$(MAKE) -C tests tools

test: deps
	$(MAKE) picovm guests tests/build/picovm-hooks
	$(MAKE) -C tests tools
	bash tests/run.sh

fuzz:
	$(MAKE) -C tests fuzz

bench: picovm guests
	bash bench/run.sh

install: picovm
	install -D -m 0755 picovm $(DESTDIR)$(PREFIX)/bin/picovm
	install -D -m 0644 doc/picovm.1 $(DESTDIR)$(PREFIX)/share/man/man1/picovm.1
	install -D -m 0644 doc/picovm.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/picovm.conf.5

clean:
	rm -f picovm $(OBJS) $(DEPS) seccomp/genbpf seccomp/bpf_gen.c
	rm -rf $(MUSL_INC)
	$(MAKE) -C guest clean
	$(MAKE) -C tests clean

.PHONY: all deps linux run test-linux guests tools fuzz test bench install clean
