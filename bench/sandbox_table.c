/* sandbox_table: prints, per thread role, how many distinct system calls
 * and ioctl request numbers its seccomp filter allows (seccomp/filters.c),
 * for the README's table. */
#include <stdio.h>

#include "../seccomp/filters.h"

int main(void)
{
	static const char *const names[] = { "main (picovm)", "vcpuN", "io",
					     "console", "control", "gdb", "serial1" };
	static const enum sandbox_role roles[] = { SANDBOX_MAIN, SANDBOX_VCPU,
						   SANDBOX_IO, SANDBOX_CONSOLE,
						   SANDBOX_CONTROL, SANDBOX_GDB,
						   SANDBOX_SERIAL1 };

	printf("| thread | system calls | ioctl numbers |\n| --- | --- | --- |\n");
	for (unsigned i = 0; i < 7; i++) {
		unsigned ioctls, calls = sandbox_count(roles[i], &ioctls);
		printf("| %s | %u | %u |\n", names[i], calls, ioctls);
	}
	return 0;
}
