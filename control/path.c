/* Where control sockets live (control.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "../vm/log.h"

int control_runtime_dir(char *buf, size_t n)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int len;

	if (xdg && *xdg == '/')
		len = snprintf(buf, n, "%s/picovm", xdg);
	else if (geteuid() == 0)
		len = snprintf(buf, n, "/run/picovm");
	else {
		log_err("control: XDG_RUNTIME_DIR is not set; expected it set "
			"(or root, for /run/picovm), or a socket path");
		return -1;
	}
	if (len < 0 || (size_t)len >= n) {
		log_err("control: the runtime folder %s/picovm is too long", xdg);
		return -1;
	}
	return 0;
}

int control_socket_path(const char *spec, const char *name, char *buf,
			size_t n)
{
	char dir[4096];
	int len;

	if (strcmp(spec, "auto") == 0) {
		if (control_runtime_dir(dir, sizeof(dir)) < 0)
			return -1;
		len = snprintf(buf, n, "%s/%s.sock", dir, name);
	} else if (spec[0] == '/') {
		len = snprintf(buf, n, "%s", spec);
	} else {
		if (!getcwd(dir, sizeof(dir))) {
			log_err("control: cannot tell the current folder");
			return -1;
		}
		len = snprintf(buf, n, "%s/%s", dir, spec);
	}
	if (len < 0 || (size_t)len >= n) {
		log_err("control: the socket path for %s is longer than %zu bytes",
			name, n - 1);
		return -1;
	}
	return 0;
}
