/*
 * sandbox.user = NAME | UID[:GID]: the user picovm switches to.
 *
 * Shared by the config check (so `check` and `run` refuse a bad value with
 * status 2 before anything starts) and by the sandbox, which switches.
 */
#ifndef PICOVM_CONFIG_USER_H
#define PICOVM_CONFIG_USER_H

#include <stddef.h>
#include <stdint.h>

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
