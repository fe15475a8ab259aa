/* SPDX-License-Identifier: Apache-2.0 */
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/parse.h"
#include "core/strv.h"
#include "ledger-policy.h"

#define POLICY_MAX_SIZE (1024U * 1024U)
#define NSS_BUF_SIZE 16384

static void rule_done(struct ledger_policy_rule *r)
{
	free(r->unit_glob);
	free(r->type_glob);
}

struct ledger_policy *ledger_policy_free(struct ledger_policy *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_rules; i++)
		rule_done(&p->rules[i]);
	free(p->rules);
	free(p->path);
	return mfree(p);
}

static int lookup_user(const char *name, uint32_t *ret)
{
	_cleanup_free_ char *buf = malloc(NSS_BUF_SIZE);
	struct passwd pw, *res = NULL;
	int r;

	if (!buf)
		return -ENOMEM;
	r = getpwnam_r(name, &pw, buf, NSS_BUF_SIZE, &res);
	if (r != 0)
		return -r;
	if (!res)
		return -ESRCH;
	*ret = (uint32_t)pw.pw_uid;
	return 0;
}

static int lookup_group(const char *name, uint32_t *ret)
{
	_cleanup_free_ char *buf = malloc(NSS_BUF_SIZE);
	struct group gr, *res = NULL;
	int r;

	if (!buf)
		return -ENOMEM;
	r = getgrnam_r(name, &gr, buf, NSS_BUF_SIZE, &res);
	if (r != 0)
		return -r;
	if (!res)
		return -ESRCH;
	*ret = (uint32_t)gr.gr_gid;
	return 0;
}

static bool glob_ok(const char *g)
{
	if (isempty(g) || strlen(g) > 256)
		return false;
	for (const char *c = g; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return false;
	return true;
}

static int parse_rule(const char *path, unsigned line, char **words, struct ledger_policy_rule *ret,
		      char **ret_error)
{
	struct ledger_policy_rule rule = { .line = line };
	bool who = false;
	int r;

	if (!streq(words[0], "allow")) {
		r = error_at(ret_error, -EBADMSG, path, line, "'%s': a rule begins with 'allow'",
			     words[0]);
		goto fail;
	}
	if (!words[1]) {
		r = error_at(ret_error, -EBADMSG, path, line,
			     "'allow' alone: name who (uid=, user=, gid=, group= or unit=)");
		goto fail;
	}
	for (char **w = words + 1; *w; w++) {
		char *eq = strchr(*w, '=');
		const char *key, *value;

		if (!eq || eq == *w || !eq[1]) {
			r = error_at(ret_error, -EBADMSG, path, line, "'%s' is not KEY=VALUE", *w);
			goto fail;
		}
		*eq = '\0';
		key = *w;
		value = eq + 1;
		if (streq(key, "uid") || streq(key, "user")) {
			unsigned u;
			if (rule.has_uid) {
				r = error_at(ret_error, -EBADMSG, path, line,
					     "uid or user given twice");
				goto fail;
			}
			if (streq(key, "uid")) {
				if (safe_atou(value, &u) < 0) {
					r = error_at(ret_error, -EBADMSG, path, line,
						     "uid=%s: not a number", value);
					goto fail;
				}
				rule.uid = u;
			} else {
				r = lookup_user(value, &rule.uid);
				if (r == -ENOMEM)
					goto fail;
				if (r < 0) {
					r = error_at(ret_error, -EBADMSG, path, line,
						     "user=%s: no such user", value);
					goto fail;
				}
			}
			rule.has_uid = who = true;
		} else if (streq(key, "gid") || streq(key, "group")) {
			unsigned u;
			if (rule.has_gid) {
				r = error_at(ret_error, -EBADMSG, path, line,
					     "gid or group given twice");
				goto fail;
			}
			if (streq(key, "gid")) {
				if (safe_atou(value, &u) < 0) {
					r = error_at(ret_error, -EBADMSG, path, line,
						     "gid=%s: not a number", value);
					goto fail;
				}
				rule.gid = u;
			} else {
				r = lookup_group(value, &rule.gid);
				if (r == -ENOMEM)
					goto fail;
				if (r < 0) {
					r = error_at(ret_error, -EBADMSG, path, line,
						     "group=%s: no such group", value);
					goto fail;
				}
			}
			rule.has_gid = who = true;
		} else if (streq(key, "unit") || streq(key, "type")) {
			char **g = streq(key, "unit") ? &rule.unit_glob : &rule.type_glob;
			if (*g) {
				r = error_at(ret_error, -EBADMSG, path, line, "%s given twice",
					     key);
				goto fail;
			}
			if (!glob_ok(value)) {
				r = error_at(ret_error, -EBADMSG, path, line,
					     "%s=%s: not a valid pattern", key, value);
				goto fail;
			}
			*g = strdup(value);
			if (!*g) {
				r = -ENOMEM;
				goto fail;
			}
			if (streq(key, "unit"))
				who = true;
		} else {
			r = error_at(ret_error, -EBADMSG, path, line,
				     "unknown condition '%s' (uid, user, gid, group, unit, type)",
				     key);
			goto fail;
		}
	}
	if (!who) {
		r = error_at(ret_error, -EBADMSG, path, line,
			     "the rule names nobody: add uid=, user=, gid=, group= or unit=");
		goto fail;
	}
	*ret = rule;
	return 0;
fail:
	rule_done(&rule);
	return r;
}

int ledger_policy_parse(const char *path, const char *text, struct ledger_policy **ret,
			char **ret_error)
{
	_cleanup_(ledger_policy_freep) struct ledger_policy *p = new0(struct ledger_policy, 1);
	unsigned line = 0;
	int r;

	if (!p)
		return -ENOMEM;
	p->path = strdup(path);
	if (!p->path)
		return -ENOMEM;
	for (const char *l = text; *l;) {
		const char *eol = strchrnul(l, '\n');
		_cleanup_free_ char *s = strndup(l, (size_t)(eol - l));
		_cleanup_strv_free_ char **words = NULL;
		struct ledger_policy_rule *nr;
		char *hash;

		line++;
		l = *eol ? eol + 1 : eol;
		if (!s)
			return -ENOMEM;
		hash = strchr(s, '#');
		if (hash)
			*hash = '\0';
		r = strv_split(s, " \t\r", &words);
		if (r < 0)
			return r;
		if (strv_length(words) == 0)
			continue;
		nr = realloc(p->rules, (p->n_rules + 1) * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		p->rules = nr;
		r = parse_rule(path, line, words, &p->rules[p->n_rules], ret_error);
		if (r < 0)
			return r;
		p->n_rules++;
	}
	*ret = TAKE_PTR(p);
	return 0;
}

int ledger_policy_load(const char *path, struct ledger_policy **ret, char **ret_error)
{
	_cleanup_free_ char *text = NULL;
	size_t n = 0;
	int r = read_full_file(path, POLICY_MAX_SIZE, &text, &n);

	if (r < 0)
		return r;
	if (strlen(text) != n)
		return error_at(ret_error, -EBADMSG, path, 1, "the file contains a NUL byte");
	return ledger_policy_parse(path, text, ret, ret_error);
}

static bool in_groups(uint32_t gid, const struct ledger_actor *a, const uint32_t *groups, size_t n)
{
	if (a->gid == gid)
		return true;
	for (size_t i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

int ledger_policy_check(const struct ledger_policy *p, const struct ledger_actor *actor,
			const uint32_t *groups, size_t n_groups, const char *type,
			unsigned *ret_line)
{
	for (size_t i = 0; p && i < p->n_rules; i++) {
		const struct ledger_policy_rule *r = &p->rules[i];

		if (r->has_uid && r->uid != actor->uid)
			continue;
		if (r->has_gid && !in_groups(r->gid, actor, groups, n_groups))
			continue;
		if (r->unit_glob && (!actor->unit || fnmatch(r->unit_glob, actor->unit, 0) != 0))
			continue;
		if (r->type_glob && type && fnmatch(r->type_glob, type, 0) != 0)
			continue;
		if (ret_line)
			*ret_line = r->line;
		return 0;
	}
	return -EACCES;
}
