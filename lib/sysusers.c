/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/error.h"
#include "core/parse.h"
#include "core/strv.h"
#include "sysusers.h"

#define ID_UNSET UINT32_MAX
#define SYSTEM_ID_MIN 1U
#define SYSTEM_ID_MAX 999U

struct su_user {
	char *name;
	uint32_t uid;
	uint32_t gid;
	char *group; /* primary group by name (UID:GROUP), or NULL */
	char *gecos, *home, *shell;
	char *origin;
};

struct su_group {
	char *name;
	uint32_t gid;
	char **members;
	char *origin;
	bool implicit; /* created for a user of the same name */
};

struct sysusers {
	struct su_user *users;
	size_t n_users;
	struct su_group *groups;
	size_t n_groups;
	struct {
		uint32_t lo, hi;
	} * ranges;
	size_t n_ranges;
	/* "m" lines are applied after allocation */
	char **memberships; /* pairs: user, group */
};

int sysusers_new(struct sysusers **ret)
{
	struct sysusers *s = new0(struct sysusers, 1);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

struct sysusers *sysusers_free(struct sysusers *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_users; i++) {
		free(s->users[i].name);
		free(s->users[i].group);
		free(s->users[i].gecos);
		free(s->users[i].home);
		free(s->users[i].shell);
		free(s->users[i].origin);
	}
	free(s->users);
	for (size_t i = 0; i < s->n_groups; i++) {
		free(s->groups[i].name);
		strv_free(s->groups[i].members);
		free(s->groups[i].origin);
	}
	free(s->groups);
	free(s->ranges);
	strv_free(s->memberships);
	free(s);
	return NULL;
}

/* Splits a line into up to 6 fields; "quoted strings" keep their spaces. */
static int split_fields(const char *line, char ***ret)
{
	_cleanup_strv_free_ char **f = NULL;
	const char *p = line;

	for (;;) {
		_cleanup_free_ char *w = NULL;
		size_t n = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		w = malloc(strlen(p) + 1);
		if (!w)
			return -ENOMEM;
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				w[n++] = *p++;
			}
			if (*p != '"')
				return -EBADMSG;
			p++;
		} else
			while (*p && !isspace((unsigned char)*p))
				w[n++] = *p++;
		w[n] = '\0';
		if (strv_push(&f, TAKE_PTR(w)) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(f);
	if (!*ret && !(*ret = new0(char *, 1)))
		return -ENOMEM;
	return 0;
}

static bool valid_name(const char *s)
{
	/* As sysusers.d(5) and useradd accept for system accounts. */
	if (isempty(s) || strlen(s) > 31 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_-.", *c))
			return false;
	return true;
}

static const char *field(char **f, size_t i)
{
	if (strv_length(f) <= i || streq(f[i], "-"))
		return NULL;
	return f[i];
}

static struct su_user *find_user(const struct sysusers *s, const char *name)
{
	for (size_t i = 0; i < s->n_users; i++)
		if (streq(s->users[i].name, name))
			return &s->users[i];
	return NULL;
}

static struct su_group *find_group(const struct sysusers *s, const char *name)
{
	for (size_t i = 0; i < s->n_groups; i++)
		if (streq(s->groups[i].name, name))
			return &s->groups[i];
	return NULL;
}

static int parse_id(const char *s, uint32_t *ret)
{
	unsigned u;
	if (safe_atou(s, &u) < 0 || u >= UINT32_MAX)
		return -EINVAL;
	*ret = u;
	return 0;
}

static int add_group(struct sysusers *s, const char *name, uint32_t gid, const char *origin,
		     bool implicit)
{
	struct su_group *n = reallocarray(s->groups, s->n_groups + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->groups = n;
	n[s->n_groups] = (struct su_group){
		.name = strdup(name),
		.gid = gid,
		.origin = strdup(origin),
		.implicit = implicit,
	};
	if (!n[s->n_groups].name || !n[s->n_groups].origin)
		return -ENOMEM;
	s->n_groups++;
	return 0;
}

int sysusers_add_line(struct sysusers *s, const char *line, const char *origin, char **ret_error)
{
	_cleanup_strv_free_ char **f = NULL;
	const char *type, *name, *id;
	int r;

	while (isspace((unsigned char)*line))
		line++;
	if (!*line || *line == '#')
		return 0;
	if (strchr(line, '%'))
		return error_at(ret_error, -EBADMSG, origin, 0,
				"specifiers ('%%') are not supported: '%s'", line);
	r = split_fields(line, &f);
	if (r == -EBADMSG)
		return error_at(ret_error, -EBADMSG, origin, 0, "unterminated quote: '%s'", line);
	if (r < 0)
		return r;
	if (strv_length(f) < 2 || strv_length(f) > 6)
		return error_at(ret_error, -EBADMSG, origin, 0, "expected 2 to 6 fields: '%s'",
				line);
	type = f[0];
	name = f[1];
	id = field(f, 2);

	if (streq(type, "r")) {
		uint32_t lo, hi;
		const char *dash = strchr(f[2] ? f[2] : "", '-');
		_cleanup_free_ char *a = NULL;
		void *n;
		if (!streq(name, "-") || !f[2] || !dash)
			return error_at(ret_error, -EBADMSG, origin, 0,
					"expected 'r - LOW-HIGH': '%s'", line);
		a = strndup(f[2], (size_t)(dash - f[2]));
		if (!a)
			return -ENOMEM;
		if (parse_id(a, &lo) < 0 || parse_id(dash + 1, &hi) < 0 || lo > hi || lo == 0)
			return error_at(ret_error, -EBADMSG, origin, 0, "invalid range '%s'", f[2]);
		n = reallocarray(s->ranges, s->n_ranges + 1, sizeof(*s->ranges));
		if (!n)
			return -ENOMEM;
		s->ranges = n;
		s->ranges[s->n_ranges].lo = lo;
		s->ranges[s->n_ranges].hi = hi;
		s->n_ranges++;
		return 0;
	}

	if (!valid_name(name))
		return error_at(ret_error, -EBADMSG, origin, 0,
				"'%s' is not a valid user or group name", name);

	if (streq(type, "m")) {
		const char *group = field(f, 2);
		if (!group || !valid_name(group))
			return error_at(ret_error, -EBADMSG, origin, 0,
					"expected 'm USER GROUP': '%s'", line);
		if ((r = strv_extend(&s->memberships, name)) < 0 ||
		    (r = strv_extend(&s->memberships, group)) < 0)
			return r;
		return 0;
	}

	if (streq(type, "g")) {
		uint32_t gid = ID_UNSET;
		struct su_group *g = find_group(s, name);
		if (id && parse_id(id, &gid) < 0)
			return error_at(ret_error, -EBADMSG, origin, 0, "'%s' is not a group id",
					id);
		if (g) {
			/* First declaration wins; an implicit group becomes explicit. */
			if (g->implicit && gid != ID_UNSET && g->gid == ID_UNSET)
				g->gid = gid;
			g->implicit = false;
			return 0;
		}
		return add_group(s, name, gid, origin, false);
	}

	if (streq(type, "u")) {
		struct su_user *n;
		uint32_t uid = ID_UNSET, gid = ID_UNSET;
		_cleanup_free_ char *group = NULL;

		if (find_user(s, name))
			return 0;
		if (id) {
			const char *colon = strchr(id, ':');
			_cleanup_free_ char *u = colon ? strndup(id, (size_t)(colon - id)) :
							 strdup(id);
			if (!u)
				return -ENOMEM;
			if (!streq(u, "-") && parse_id(u, &uid) < 0)
				return error_at(ret_error, -EBADMSG, origin, 0,
						"'%s' is not a user id", id);
			if (colon) {
				if (parse_id(colon + 1, &gid) < 0) {
					if (!valid_name(colon + 1))
						return error_at(ret_error, -EBADMSG, origin, 0,
								"'%s' is not a group id or name",
								colon + 1);
					group = strdup(colon + 1);
					if (!group)
						return -ENOMEM;
				}
			}
		}
		n = reallocarray(s->users, s->n_users + 1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->users = n;
		n = &s->users[s->n_users];
		*n = (struct su_user){
			.name = strdup(name),
			.uid = uid,
			.gid = gid,
			.group = TAKE_PTR(group),
			.gecos = field(f, 3) ? strdup(field(f, 3)) : NULL,
			.home = field(f, 4) ? strdup(field(f, 4)) : NULL,
			.shell = field(f, 5) ? strdup(field(f, 5)) : NULL,
			.origin = strdup(origin),
		};
		s->n_users++;
		if (!n->name || !n->origin || (field(f, 3) && !n->gecos) ||
		    (field(f, 4) && !n->home) || (field(f, 5) && !n->shell))
			return -ENOMEM;
		/* A user without an explicit primary group gets its own. */
		if (gid == ID_UNSET && !n->group && !find_group(s, name))
			return add_group(s, name, ID_UNSET, origin, true);
		return 0;
	}
	return error_at(ret_error, -EBADMSG, origin, 0, "unknown line type '%s' (u, g, m or r)",
			type);
}

int sysusers_add_text(struct sysusers *s, const char *text, const char *file, char **ret_error)
{
	_cleanup_free_ char *copy = strdup(text);
	unsigned line = 0;

	if (!copy)
		return -ENOMEM;
	for (char *l = copy, *next; l; l = next) {
		_cleanup_free_ char *origin = NULL;
		int r;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		line++;
		if (asprintf(&origin, "%s:%u", file, line) < 0)
			return -ENOMEM;
		r = sysusers_add_line(s, l, origin, ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool uid_taken(const struct sysusers *s, uint32_t id)
{
	for (size_t i = 0; i < s->n_users; i++)
		if (s->users[i].uid == id)
			return true;
	return false;
}

static bool gid_taken(const struct sysusers *s, uint32_t id)
{
	for (size_t i = 0; i < s->n_groups; i++)
		if (s->groups[i].gid == id)
			return true;
	return false;
}

static bool in_ranges(const struct sysusers *s, uint32_t id)
{
	if (s->n_ranges == 0)
		return id >= SYSTEM_ID_MIN && id <= SYSTEM_ID_MAX;
	for (size_t i = 0; i < s->n_ranges; i++)
		if (id >= s->ranges[i].lo && id <= s->ranges[i].hi)
			return true;
	return false;
}

static int next_free(const struct sysusers *s, bool for_user, bool for_group, uint32_t *ret)
{
	uint32_t top = SYSTEM_ID_MAX;

	for (size_t i = 0; i < s->n_ranges; i++)
		top = i == 0 ? s->ranges[i].hi : MAX(top, s->ranges[i].hi);
	for (uint32_t id = top; id >= 1; id--) {
		if (!in_ranges(s, id))
			continue;
		if ((for_user && uid_taken(s, id)) || (for_group && gid_taken(s, id)))
			continue;
		*ret = id;
		return 0;
	}
	return -ENOSPC;
}

int sysusers_allocate(struct sysusers *s, char **ret_error)
{
	int r;

	/* Fixed ids must be unique. */
	for (size_t i = 0; i < s->n_users; i++)
		for (size_t j = 0; j < i; j++)
			if (s->users[i].uid != ID_UNSET && s->users[i].uid == s->users[j].uid)
				return error_at(ret_error, -EBADMSG, s->users[i].origin, 0,
						"uid %" PRIu32 " of %s is already taken by %s (%s)",
						s->users[i].uid, s->users[i].name, s->users[j].name,
						s->users[j].origin);
	for (size_t i = 0; i < s->n_groups; i++)
		for (size_t j = 0; j < i; j++)
			if (s->groups[i].gid != ID_UNSET && s->groups[i].gid == s->groups[j].gid)
				return error_at(ret_error, -EBADMSG, s->groups[i].origin, 0,
						"gid %" PRIu32 " of %s is already taken by %s (%s)",
						s->groups[i].gid, s->groups[i].name,
						s->groups[j].name, s->groups[j].origin);

	/* Explicit groups without ids. */
	for (size_t i = 0; i < s->n_groups; i++) {
		struct su_group *g = &s->groups[i];
		if (g->gid != ID_UNSET || g->implicit)
			continue;
		r = next_free(s, false, true, &g->gid);
		if (r < 0)
			return error_at(ret_error, -EBADMSG, g->origin, 0,
					"no free group id left for %s", g->name);
	}
	/* Users, with their own groups: prefer uid == gid. */
	for (size_t i = 0; i < s->n_users; i++) {
		struct su_user *u = &s->users[i];
		struct su_group *own = find_group(s, u->name);

		if (u->uid == ID_UNSET) {
			bool pair = own && own->implicit && own->gid == ID_UNSET;
			r = next_free(s, true, pair, &u->uid);
			if (r < 0 && pair)
				r = next_free(s, true, false, &u->uid);
			if (r < 0)
				return error_at(ret_error, -EBADMSG, u->origin, 0,
						"no free user id left for %s", u->name);
		}
		if (own && own->implicit && own->gid == ID_UNSET) {
			if (!gid_taken(s, u->uid))
				own->gid = u->uid;
			else if (next_free(s, false, true, &own->gid) < 0)
				return error_at(ret_error, -EBADMSG, u->origin, 0,
						"no free group id left for %s", u->name);
		}
	}
	/* Primary groups. */
	for (size_t i = 0; i < s->n_users; i++) {
		struct su_user *u = &s->users[i];
		if (u->gid != ID_UNSET)
			continue;
		const char *gname = u->group ?: u->name;
		struct su_group *g = find_group(s, gname);
		if (!g)
			return error_at(ret_error, -EBADMSG, u->origin, 0,
					"primary group %s of user %s is not declared", gname,
					u->name);
		u->gid = g->gid;
	}
	/* Memberships. */
	for (size_t i = 0; s->memberships && s->memberships[i]; i += 2) {
		struct su_group *g = find_group(s, s->memberships[i + 1]);
		if (!g || !find_user(s, s->memberships[i]))
			return error_at(ret_error, -EBADMSG, "sysusers", 0,
					"'m %s %s' names an undeclared user or group",
					s->memberships[i], s->memberships[i + 1]);
		if (!strv_contains(g->members, s->memberships[i]) &&
		    strv_extend(&g->members, s->memberships[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int cmp_user(const void *a, const void *b)
{
	const struct su_user *x = *(struct su_user *const *)a, *y = *(struct su_user *const *)b;
	return x->uid != y->uid ? (x->uid < y->uid ? -1 : 1) : strcmp(x->name, y->name);
}

static int cmp_group(const void *a, const void *b)
{
	const struct su_group *x = *(struct su_group *const *)a, *y = *(struct su_group *const *)b;
	return x->gid != y->gid ? (x->gid < y->gid ? -1 : 1) : strcmp(x->name, y->name);
}

int sysusers_render(const struct sysusers *s, int64_t epoch, char **ret_passwd, char **ret_group,
		    char **ret_shadow, char **ret_gshadow)
{
	_cleanup_free_ const struct su_user **users = NULL;
	_cleanup_free_ const struct su_group **groups = NULL;
	_cleanup_free_ char *pw = NULL, *gr = NULL, *sh = NULL, *gs = NULL;
	size_t npw = 0, ngr = 0, nsh = 0, ngs = 0;
	FILE *fpw, *fgr, *fsh, *fgs;
	int64_t days = epoch / 86400;

	users = reallocarray(NULL, s->n_users ?: 1, sizeof(*users));
	groups = reallocarray(NULL, s->n_groups ?: 1, sizeof(*groups));
	if (!users || !groups)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_users; i++) {
		if (s->users[i].uid == ID_UNSET)
			return -EINVAL; /* not allocated */
		users[i] = &s->users[i];
	}
	for (size_t i = 0; i < s->n_groups; i++) {
		if (s->groups[i].gid == ID_UNSET)
			return -EINVAL;
		groups[i] = &s->groups[i];
	}
	qsort(users, s->n_users, sizeof(*users), cmp_user);
	qsort(groups, s->n_groups, sizeof(*groups), cmp_group);

	fpw = open_memstream(&pw, &npw);
	fsh = open_memstream(&sh, &nsh);
	fgr = open_memstream(&gr, &ngr);
	fgs = open_memstream(&gs, &ngs);
	if (!fpw || !fsh || !fgr || !fgs) {
		if (fpw)
			fclose(fpw);
		if (fsh)
			fclose(fsh);
		if (fgr)
			fclose(fgr);
		if (fgs)
			fclose(fgs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_users; i++) {
		const struct su_user *u = users[i];
		fprintf(fpw, "%s:x:%" PRIu32 ":%" PRIu32 ":%s:%s:%s\n", u->name, u->uid, u->gid,
			strempty(u->gecos), u->home ?: "/",
			u->shell ?: (u->uid == 0 ? "/bin/sh" : "/usr/sbin/nologin"));
		fprintf(fsh, "%s:!*:%" PRIi64 "::::::\n", u->name, days);
	}
	for (size_t i = 0; i < s->n_groups; i++) {
		const struct su_group *g = groups[i];
		_cleanup_free_ char *members = strv_join(g->members, ",");
		fprintf(fgr, "%s:x:%" PRIu32 ":%s\n", g->name, g->gid, strempty(members));
		fprintf(fgs, "%s:!*::%s\n", g->name, strempty(members));
	}
	if (fclose(fpw) | fclose(fsh) | fclose(fgr) | fclose(fgs))
		return -ENOMEM;
	*ret_passwd = TAKE_PTR(pw);
	*ret_group = TAKE_PTR(gr);
	*ret_shadow = TAKE_PTR(sh);
	*ret_gshadow = TAKE_PTR(gs);
	return 0;
}

int sysusers_uid(const struct sysusers *s, const char *user, uid_t *ret)
{
	const struct su_user *u = find_user(s, user);
	if (!u || u->uid == ID_UNSET)
		return -ENOENT;
	*ret = u->uid;
	return 0;
}

int sysusers_gid(const struct sysusers *s, const char *group, gid_t *ret)
{
	const struct su_group *g = find_group(s, group);
	if (!g || g->gid == ID_UNSET)
		return -ENOENT;
	*ret = g->gid;
	return 0;
}
