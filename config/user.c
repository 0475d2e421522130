/* sandbox.user parsing; see user.h. */
#include "user.h"

#include <stdio.h>
#include <string.h>

#include "value.h"

static const char expect[] = "expected a user name from /etc/passwd or "
			     "UID[:GID], ids 1..4294967294";

/* One id: digits only, in range, not root. */
static int parse_id(const char *text, const char *what, uint32_t *id,
		    char *why, size_t n)
{
	uint64_t v;

	if (value_parse_u64(text, &v) < 0 || v > CONFIG_MAX_ID) {
		snprintf(why, n, "%s '%s' is not a decimal id up to 4294967294; %s",
			 what, text, expect);
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
			 spec, passwd ? passwd : "/etc/passwd", expect);
		return -1;
	}
	snprintf(why, n, "no user '%s' in %s; %s", spec,
		 passwd ? passwd : "/etc/passwd", expect);
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
					 passwd ? passwd : "/etc/passwd", expect);
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
		snprintf(why, n, "the value is empty; %s", expect);
		return -1;
	}
	/* A leading digit, sign or space means UID[:GID]: a NAME starts
	 * with a letter or '_'. */
	if (strchr("0123456789+- \t", spec[0])) {
		char copy[64];
		if (strlen(spec) >= sizeof(copy)) {
			snprintf(why, n, "'%.20s...' is too long; %s", spec, expect);
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
