# picovm: one statically linked KVM microVM monitor.
#   make            build ./picovm
#   make test       build everything and run every test tier (tests/run.sh)
#   make guests     build the freestanding test guests (guest/)
#   make bench      run the benchmarks in bench/
#   make install PREFIX=/usr/local
VERSION := 0.1.0
CC ?= gcc
PREFIX ?= /usr/local
DESTDIR ?=

WARN := -Wall -Wextra -Werror -Wshadow -Wconversion -Wimplicit-fallthrough \
	-Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wformat=2 \
	-Wvla -Wundef -Wwrite-strings -Wcast-qual -Wnull-dereference
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -DPICOVM_VERSION='"$(VERSION)"' $(WARN) \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2
LDFLAGS += -static
LDLIBS := -lseccomp -luring -lcap-ng -lpthread

SRCS := main.c $(sort $(wildcard config/*.c vm/*.c vcpu/*.c boot/*.c \
	devices/*.c virtio/*.c net/*.c seccomp/*.c))
OBJS := $(SRCS:.c=.o)
DEPS := $(OBJS:.o=.d)

all: picovm

picovm: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

%.o: %.c
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(DEPS)

guests:
	$(MAKE) -C guest

tools:
	$(MAKE) -C tests tools

test: picovm guests
	$(MAKE) -C tests tools
	bash tests/run.sh

bench: picovm guests
	bash bench/run.sh

install: picovm
	install -D -m 0755 picovm $(DESTDIR)$(PREFIX)/bin/picovm
	install -D -m 0644 doc/picovm.1 $(DESTDIR)$(PREFIX)/share/man/man1/picovm.1
	install -D -m 0644 doc/picovm.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/picovm.conf.5

clean:
	rm -f picovm $(OBJS) $(DEPS)
	$(MAKE) -C guest clean
	$(MAKE) -C tests clean

.PHONY: all guests tools test bench install clean
