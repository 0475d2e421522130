# The warning list every host-side C file of picovm is built with: the
# binary (Makefile) and the unit tests and tools (tests/Makefile).
WARN := -Wall -Wextra -Werror -Wshadow -Wconversion -Wimplicit-fallthrough \
	-Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wformat=2 \
	-Wvla -Wundef -Wwrite-strings -Wcast-qual -Wnull-dereference
