/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generate stage: what maintainer scripts would have made in an installed
 * system, made from the image's own files and the manifest instead (see
 * ../shared/notes/root-from-debs.md): users and groups, os-release, an empty
 * machine-id, alternatives, unit enablement, the CA bundle, a dpkg status database
 * that scanners can read, and the merged-/usr top-level links. Every generated file
 * is written below the staging directory and added to the tree, replacing a
 * package's version of it.
 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>

#include "builder.h"
#include "core/fd.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/hashmap.h"
#include "core/log.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/strv.h"
#include "deb822.h"
#include "ext/archive.h"
#include "ext/crypto.h"
#include "lockfile.h"
#include "manifest.h"
#include "osrelease.h"
#include "sysusers.h"
#include "tree.h"

struct gen {
	struct tree *t;
	const char *dir;
	unsigned counter;
	unsigned files;
};

static int gen_file(struct gen *g, const char *path, const void *data, size_t size, unsigned mode,
		    const char *user, const char *group)
{
	_cleanup_(tree_node_freep) struct tree_node *n =
		tree_node_new(path, TREE_REG, mode, "generated");
	_cleanup_free_ char *source = NULL, *error = NULL;
	int r;

	if (!n)
		return -ENOMEM;
	if (asprintf(&source, "%s/%u", g->dir, g->counter++) < 0)
		return -ENOMEM;
	r = write_file_atomic(source, data, size, 0644);
	if (r < 0)
		return log_error_errno(r, "generate: %s: %m", source);
	n->source = TAKE_PTR(source);
	n->size = size;
	if ((user && !(n->user = strdup(user))) || (group && !(n->group = strdup(group))))
		return -ENOMEM;
	r = tree_add(g->t, TAKE_PTR(n), TREE_ADD_REPLACE, &error);
	if (r < 0)
		return log_error("generate: /%s: %s", path, error ?: strerror(-r)), r;
	g->files++;
	return 0;
}

static int gen_text(struct gen *g, const char *path, const char *text, unsigned mode)
{
	return gen_file(g, path, text, strlen(text), mode, NULL, NULL);
}

static int gen_symlink(struct gen *g, const char *path, const char *target)
{
	_cleanup_(tree_node_freep) struct tree_node *n =
		tree_node_new(path, TREE_SYMLINK, 0777, "generated");
	_cleanup_free_ char *error = NULL;
	int r;

	if (!n || !(n->target = strdup(target)))
		return -ENOMEM;
	r = tree_add(g->t, TAKE_PTR(n), TREE_ADD_REPLACE, &error);
	if (r < 0)
		return log_error("generate: /%s: %s", path, error ?: strerror(-r)), r;
	g->files++;
	return 0;
}

static int gen_dir(struct gen *g, const char *path, unsigned mode)
{
	struct tree_node *n = tree_get(g->t, path);
	_cleanup_free_ char *error = NULL;
	int r;

	if (n) {
		if (n->type != TREE_DIR)
			return log_error("generate: /%s should be a directory, but %s ships a %s",
					 path, n->origin,
					 n->type == TREE_SYMLINK ? "symlink" : "file"),
			       -ENOTDIR;
		return 0;
	}
	n = tree_node_new(path, TREE_DIR, mode, "generated");
	if (!n)
		return -ENOMEM;
	r = tree_add(g->t, n, 0, &error);
	if (r < 0)
		return log_error("generate: /%s: %s", path, error ?: strerror(-r)), r;
	return 0;
}

static int read_node(const struct tree_node *n, char **ret, size_t *ret_size)
{
	if (n->type != TREE_REG)
		return -EINVAL;
	return read_full_file(n->source, 64 * 1024 * 1024, ret, ret_size);
}

/* ---- users and groups ----------------------------------------------------------------------- */

static int gen_users(struct gen *g, const struct manifest *m, int64_t epoch, struct sysusers **ret)
{
	_cleanup_(sysusers_freep) struct sysusers *s = NULL;
	_cleanup_free_ struct tree_node **nodes = NULL;
	_cleanup_(hashmap_freep) struct hashmap *by_name = hashmap_new();
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ char *pw = NULL, *gr = NULL, *sh = NULL, *gs = NULL, *error = NULL;
	size_t n;
	int r;

	if (!by_name)
		return log_oom();
	r = sysusers_new(&s);
	if (r < 0)
		return log_oom();
	r = tree_sorted(g->t, &nodes, &n);
	if (r < 0)
		return log_oom();
	/* sysusers.d semantics: files are read in name order; /etc overrides /usr/lib. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			const char *rest =
				startswith(nodes[i]->path,
					   pass == 0 ? "usr/lib/sysusers.d/" : "etc/sysusers.d/");
			if (!rest || strchr(rest, '/') || !endswith(rest, ".conf"))
				continue;
			if (!hashmap_get(by_name, rest) && strv_extend(&names, rest) < 0)
				return log_oom();
			if (hashmap_replace(by_name, path_last(nodes[i]->path), nodes[i], NULL) < 0)
				return log_oom();
		}
	strv_sort(names);
	STRV_FOREACH(name, names) {
		struct tree_node *node = hashmap_get(by_name, *name);
		_cleanup_free_ char *text = NULL, *file = NULL;

		if (node->type != TREE_REG)
			continue; /* a symlink to /dev/null masks a file */
		r = read_node(node, &text, NULL);
		if (r < 0)
			return log_error_errno(r, "users: /%s: %m", node->path);
		if (asprintf(&file, "/%s (%s)", node->path, node->origin) < 0)
			return log_oom();
		r = sysusers_add_text(s, text, file, &error);
		if (r < 0)
			return log_error("users: %s", error ?: strerror(-r)), r;
	}
	STRV_FOREACH(line, m->sysusers) {
		_cleanup_free_ char *origin = NULL;
		if (asprintf(&origin, "%s: [users] sysusers", m->path) < 0)
			return log_oom();
		r = sysusers_add_line(s, *line, origin, &error);
		if (r < 0)
			return log_error("users: %s", error ?: strerror(-r)), r;
	}
	r = sysusers_allocate(s, &error);
	if (r < 0)
		return log_error("users: %s", error ?: strerror(-r)), r;
	r = sysusers_render(s, epoch, &pw, &gr, &sh, &gs);
	if (r < 0)
		return log_oom();
	if ((r = gen_text(g, "etc/passwd", pw, 0644)) < 0 ||
	    (r = gen_text(g, "etc/group", gr, 0644)) < 0 ||
	    (r = gen_file(g, "etc/shadow", sh, strlen(sh), 0640, NULL, "shadow")) < 0 ||
	    (r = gen_file(g, "etc/gshadow", gs, strlen(gs), 0640, NULL, "shadow")) < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

/* ---- identity ------------------------------------------------------------------------------- */

static int gen_os_release(struct gen *g, const struct manifest *m, bool debug)
{
	struct tree_node *base = tree_resolve(g->t, "usr/lib/os-release");
	_cleanup_free_ char *text = NULL, *out = NULL, *pretty_base = NULL;
	size_t size = 0, out_size = 0;
	FILE *f;
	int r;

	if (!base)
		return log_error("os-release: the image has no /usr/lib/os-release (base-files "
				 "missing from the manifest?)"),
		       -ENOENT;
	r = read_node(base, &text, NULL);
	if (r < 0)
		return log_error_errno(r, "os-release: %m");
	f = open_memstream(&out, &out_size);
	if (!f)
		return log_oom();
	/* Keep the distribution's fields (scanners match on ID and VERSION_ID), replace
	 * what names the product, add the image's identity; AIRLOCK_COMPATIBLE is the
	 * product airlock-update takes updates for (the manifest's compatible). */
	for (char *l = text, *next; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		if (startswith(l, "PRETTY_NAME=")) {
			const char *v = l + strlen("PRETTY_NAME=");
			size_t vl = strlen(v);
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
				pretty_base = strndup(v + 1, vl - 2);
			else
				pretty_base = strdup(v);
			continue;
		}
		if (startswith(l, "IMAGE_ID=") || startswith(l, "IMAGE_VERSION=") ||
		    startswith(l, "VARIANT=") || startswith(l, "VARIANT_ID=") ||
		    startswith(l, "AIRLOCK_COMPATIBLE=") ||
		    startswith(l, OSRELEASE_SECURITY_VERSION "="))
			continue;
		fprintf(f, "%s\n", l);
	}
	fprintf(f,
		"PRETTY_NAME=\"%s %s%s (%s)\"\nVARIANT=\"Airlock appliance%s\"\nVARIANT_ID=%s\n"
		"IMAGE_ID=%s\nIMAGE_VERSION=%s\nAIRLOCK_COMPATIBLE=%s\n" OSRELEASE_SECURITY_VERSION
		"=%" PRIu64 "\n",
		m->name, m->version, debug ? " DEBUG" : "", strna(pretty_base),
		debug ? ", DEBUG build" : "",
		debug ? OSRELEASE_VARIANT_DEBUG : OSRELEASE_VARIANT_RELEASE, m->name, m->version,
		m->compatible, m->security_version);
	if (fclose(f) != 0)
		return log_oom();
	(void)size;
	/* Replace the file the symlink chain ends in, so /etc/os-release follows. */
	return gen_file(g, base->path, out, out_size, 0644, NULL, NULL);
}

static int gen_identity(struct gen *g, const struct manifest *m)
{
	_cleanup_free_ char *hostname = NULL, *hosts = NULL;
	int r;

	/* Empty, not missing: systemd then makes a transient id instead of running the
	 * first-boot wizard on the console. */
	r = gen_text(g, "etc/machine-id", "", 0444);
	if (r < 0)
		return r;
	if (asprintf(&hostname, "%s\n", m->hostname) < 0 ||
	    asprintf(&hosts,
		     "127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost "
		     "ip6-loopback\n",
		     m->hostname) < 0)
		return log_oom();
	if ((r = gen_text(g, "etc/hostname", hostname, 0644)) < 0)
		return r;
	if (!tree_get(g->t, "etc/hosts") && (r = gen_text(g, "etc/hosts", hosts, 0644)) < 0)
		return r;
	return gen_symlink(g, "etc/mtab", "../proc/self/mounts");
}

/* ---- layout --------------------------------------------------------------------------------- */

static int gen_layout(struct gen *g)
{
	static const struct {
		const char *path;
		unsigned mode;
	} dirs[] = {
		{ "dev", 0755 },  { "proc", 0555 }, { "sys", 0555 },	   { "run", 0755 },
		{ "tmp", 01777 }, { "var", 0755 },  { "var/tmp", 01777 },  { "root", 0700 },
		{ "etc", 0755 },  { "efi", 0755 },  { "usr/lib64", 0755 },
	};
	static const char *const merged[] = { "bin", "sbin", "lib", "lib64" };
	int r;

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
		if ((r = gen_dir(g, dirs[i].path, dirs[i].mode)) < 0)
			return r;
	for (size_t i = 0; i < ELEMENTSOF(merged); i++) {
		_cleanup_free_ char *target = path_join("usr", merged[i]);
		if (!target)
			return log_oom();
		if (!tree_get(g->t, target))
			continue;
		if ((r = gen_symlink(g, merged[i], target)) < 0)
			return r;
	}
	return 0;
}

/* ---- alternatives --------------------------------------------------------------------------- */

static int gen_alternatives(struct gen *g, const struct manifest *m)
{
	int r;

	for (size_t i = 0; i < m->n_alternatives; i++) {
		const struct manifest_alternative *a = &m->alternatives[i];
		_cleanup_free_ char *link = NULL, *alt = NULL;
		const char *reason;

		if (!tree_resolve(g->t, a->target + 1))
			return log_error("%s:%u: [alternatives] %s: target %s is not in the image",
					 m->path, a->line, a->name, a->target),
			       -ENOENT;
		r = tree_path_canonicalize(a->link + 1, &link, &reason);
		if (r < 0)
			return log_error("%s:%u: [alternatives] %s: %s %s", m->path, a->line,
					 a->name, a->link, reason),
			       -EINVAL;
		if (asprintf(&alt, "etc/alternatives/%s", a->name) < 0)
			return log_oom();
		/* As update-alternatives makes them: LINK -> /etc/alternatives/NAME -> TARGET */
		if ((r = gen_symlink(g, alt, a->target)) < 0)
			return r;
		free(alt);
		if (asprintf(&alt, "/etc/alternatives/%s", a->name) < 0)
			return log_oom();
		if ((r = gen_symlink(g, link, alt)) < 0)
			return r;
	}
	return 0;
}

/* ---- units ---------------------------------------------------------------------------------- */

static const char *const unit_dirs[] = { "etc/systemd/system", "usr/lib/systemd/system" };

static int find_unit(const struct tree *t, const char *file_name, struct tree_node **ret,
		     char **ret_image_path)
{
	for (size_t i = 0; i < ELEMENTSOF(unit_dirs); i++) {
		_cleanup_free_ char *p = path_join(unit_dirs[i], file_name);
		struct tree_node *n;
		if (!p)
			return -ENOMEM;
		n = tree_resolve(t, p);
		if (n && n->type == TREE_REG) {
			*ret = n;
			*ret_image_path = TAKE_PTR(p);
			return 0;
		}
	}
	return -ENOENT;
}

/* Collects the values of an [Install] key. */
static int install_values(const char *text, const char *key, char ***ret)
{
	_cleanup_strv_free_ char **values = NULL;
	_cleanup_free_ char *copy = strdup(text);
	bool in_install = false;

	if (!copy)
		return -ENOMEM;
	for (char *l = copy, *next; l && *l; l = next) {
		char *s = l, *eq;
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '[') {
			in_install = startswith(s, "[Install]") != NULL;
			continue;
		}
		if (!in_install || *s == '#' || *s == ';')
			continue;
		eq = strchr(s, '=');
		if (!eq)
			continue;
		*eq = '\0';
		for (char *e = eq; e > s && isspace((unsigned char)e[-1]); e--)
			e[-1] = '\0';
		if (!streq(s, key))
			continue;
		_cleanup_strv_free_ char **w = NULL;
		if (strv_split(eq + 1, " \t", &w) < 0 || strv_extend_strv(&values, w) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(values);
	return 0;
}

static int enable_unit(struct gen *g, const struct manifest *m, const char *unit, char ***done)
{
	_cleanup_free_ char *file_name = NULL, *instance = NULL, *image_path = NULL, *text = NULL,
			    *link_name = NULL, *target = NULL;
	_cleanup_strv_free_ char **wanted = NULL, **required = NULL, **alias = NULL, **also = NULL,
				 **def = NULL;
	struct tree_node *node;
	const char *at = strchr(unit, '@'), *dot = strrchr(unit, '.');
	int r;

	if (strv_contains(*done, unit))
		return 0;
	if (strv_extend(done, unit) < 0)
		return log_oom();

	/* Templates: "getty@tty1.service" lives in "getty@.service". */
	if (at && dot && dot > at + 1) {
		instance = strndup(at + 1, (size_t)(dot - at - 1));
		if (!instance ||
		    asprintf(&file_name, "%.*s%s", (int)(at - unit + 1), unit, dot) < 0)
			return log_oom();
	} else if (!(file_name = strdup(unit)))
		return log_oom();

	r = find_unit(g->t, file_name, &node, &image_path);
	if (r < 0)
		return log_error("%s: [units] enable: %s: no such unit in the image (looked for %s "
				 "in /etc/systemd/system and /usr/lib/systemd/system)",
				 m->path, unit, file_name),
		       -ENOENT;
	r = read_node(node, &text, NULL);
	if (r < 0)
		return log_error_errno(r, "units: /%s: %m", node->path);
	if (install_values(text, "WantedBy", &wanted) < 0 ||
	    install_values(text, "RequiredBy", &required) < 0 ||
	    install_values(text, "Alias", &alias) < 0 || install_values(text, "Also", &also) < 0 ||
	    install_values(text, "DefaultInstance", &def) < 0)
		return log_oom();
	if (at && !instance) {
		if (!def || !def[0]) {
			if (!wanted && !required)
				goto no_install;
			return log_error("%s: [units] enable: %s is a template without "
					 "DefaultInstance=; name an instance (e.g. %.*s@NAME%s)",
					 m->path, unit, (int)(at - unit), unit, dot),
			       -EINVAL;
		}
		instance = strdup(def[0]);
		if (!instance)
			return log_oom();
	}
	if (instance) {
		if (asprintf(&link_name, "%.*s@%s%s", (int)(at - unit), unit, instance, dot) < 0)
			return log_oom();
	} else if (!(link_name = strdup(unit)))
		return log_oom();
	if (asprintf(&target, "/%s", image_path) < 0)
		return log_oom();

	if (!wanted && !required && !alias && !also)
		goto no_install;
	for (int kind = 0; kind < 2; kind++)
		STRV_FOREACH(t, kind == 0 ? wanted : required) {
			_cleanup_free_ char *p = NULL;
			if (asprintf(&p, "etc/systemd/system/%s.%s/%s", *t,
				     kind == 0 ? "wants" : "requires", link_name) < 0)
				return log_oom();
			if ((r = gen_symlink(g, p, target)) < 0)
				return r;
		}
	STRV_FOREACH(a, alias) {
		_cleanup_free_ char *p = path_join("etc/systemd/system", *a);
		if (!p)
			return log_oom();
		if ((r = gen_symlink(g, p, target)) < 0)
			return r;
	}
	STRV_FOREACH(a, also)
		if ((r = enable_unit(g, m, *a, done)) < 0)
			return r;
	return 0;

no_install:
	return log_error("%s: [units] enable: %s has no [Install] section, so there is nothing "
			 "to enable (it is static or pulled in by another unit)",
			 m->path, unit),
	       -EINVAL;
}

static int gen_units(struct gen *g, const struct manifest *m, bool debug)
{
	_cleanup_strv_free_ char **done = NULL;
	int r;

	STRV_FOREACH(u, m->enable)
		if ((r = enable_unit(g, m, *u, &done)) < 0)
			return r;
	if (debug)
		STRV_FOREACH(u, m->debug_enable) {
			log_warning("units: DEBUG build: enabling %s; never ship this image", *u);
			if ((r = enable_unit(g, m, *u, &done)) < 0)
				return r;
		}
	STRV_FOREACH(u, m->mask) {
		_cleanup_free_ char *p = path_join("etc/systemd/system", *u);
		if (!p)
			return log_oom();
		if ((r = gen_symlink(g, p, "/dev/null")) < 0)
			return r;
	}
	return 0;
}

/* ---- CA certificates ------------------------------------------------------------------------ */

static int gen_ca_certificates(struct gen *g)
{
	_cleanup_free_ struct tree_node **nodes = NULL;
	_cleanup_free_ char *bundle = NULL, *conf = NULL;
	size_t n, bundle_size = 0, conf_size = 0, count = 0;
	FILE *fb, *fc;
	int r;

	if (!tree_get(g->t, "usr/share/ca-certificates"))
		return 0;
	r = tree_sorted(g->t, &nodes, &n);
	if (r < 0)
		return log_oom();
	fb = open_memstream(&bundle, &bundle_size);
	fc = open_memstream(&conf, &conf_size);
	if (!fb || !fc) {
		if (fb)
			fclose(fb);
		if (fc)
			fclose(fc);
		return log_oom();
	}
	fprintf(fc,
		"# Generated by airlock-build: every certificate the image ships is trusted.\n");
	for (size_t i = 0; i < n && r >= 0; i++) {
		const char *rel = startswith(nodes[i]->path, "usr/share/ca-certificates/");
		_cleanup_free_ char *pem = NULL, *base = NULL, *link = NULL, *target = NULL,
				    *hash_link = NULL;
		unsigned long hash;
		size_t size;

		if (!rel || nodes[i]->type != TREE_REG || !endswith(rel, ".crt"))
			continue;
		r = read_node(nodes[i], &pem, &size);
		if (r < 0)
			break;
		if (x509_pem_subject_hash(pem, size, &hash) < 0) {
			log_error("ca-certificates: /%s is not a PEM certificate", nodes[i]->path);
			r = -EBADMSG;
			break;
		}
		fprintf(fc, "%s\n", rel);
		fwrite(pem, 1, size, fb);
		if (size > 0 && pem[size - 1] != '\n')
			fputc('\n', fb);
		/* /etc/ssl/certs/NAME.pem -> the certificate, HASH.N -> NAME.pem */
		base = strndup(path_last(rel), strlen(path_last(rel)) - 4);
		if (!base || asprintf(&link, "etc/ssl/certs/%s.pem", base) < 0 ||
		    asprintf(&target, "/%s", nodes[i]->path) < 0) {
			r = -ENOMEM;
			break;
		}
		r = gen_symlink(g, link, target);
		if (r < 0)
			break;
		for (unsigned k = 0;; k++) {
			free(hash_link);
			if (asprintf(&hash_link, "etc/ssl/certs/%08lx.%u", hash, k) < 0) {
				r = -ENOMEM;
				break;
			}
			if (!tree_get(g->t, hash_link))
				break;
		}
		if (r < 0)
			break;
		free(target);
		if (asprintf(&target, "%s.pem", base) < 0) {
			r = -ENOMEM;
			break;
		}
		r = gen_symlink(g, hash_link, target);
		count++;
	}
	if ((fclose(fb) | fclose(fc)) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r == -ENOMEM ? log_oom() : r;
	if ((r = gen_file(g, "etc/ssl/certs/ca-certificates.crt", bundle, bundle_size, 0644, NULL,
			  NULL)) < 0 ||
	    (r = gen_file(g, "etc/ca-certificates.conf", conf, conf_size, 0644, NULL, NULL)) < 0)
		return r;
	progress_line("ca-certificates: %zu certificates in /etc/ssl/certs/ca-certificates.crt",
		      count);
	return 0;
}

/* ---- dpkg database -------------------------------------------------------------------------- */

static int gen_dpkg(struct gen *g, const struct lockfile *lf, const char *pool)
{
	_cleanup_free_ struct tree_node **nodes = NULL;
	_cleanup_free_ char *status = NULL;
	size_t n, status_size = 0;
	FILE *f;
	int r = 0;

	r = tree_sorted(g->t, &nodes, &n);
	if (r < 0)
		return log_oom();
	f = open_memstream(&status, &status_size);
	if (!f)
		return log_oom();
	for (size_t i = 0; i < lf->n_packages && r >= 0; i++) {
		const struct lock_package *pkg = &lf->packages[i];
		_cleanup_free_ char *name = NULL, *path = NULL, *control = NULL, *md5sums = NULL,
				    *error = NULL, *list = NULL, *info = NULL, *list_path = NULL,
				    *md5_path = NULL;
		size_t list_size = 0;
		FILE *fl;

		if (lock_package_pool_name(pkg, &name) < 0 || !(path = path_join(pool, name))) {
			r = -ENOMEM;
			break;
		}
		r = archive_deb_read_control(path, &control, &md5sums, &error);
		if (r < 0) {
			log_error("dpkg: package %s %s (%s): %s", pkg->name, pkg->version, path,
				  error ?: strerror(-r));
			break;
		}
		/* The control file as shipped, with Status: after Package:, as dpkg keeps it. */
		{
			char *end = control + strlen(control);
			while (end > control && (end[-1] == '\n' || end[-1] == ' '))
				*--end = '\0';
			char *nl = strchr(control, '\n');
			if (!startswith(control, "Package:") || !nl) {
				log_error(
					"dpkg: package %s: control file does not start with Package:",
					pkg->name);
				r = -EBADMSG;
				break;
			}
			fprintf(f, "%.*s\nStatus: install ok installed%s\n\n", (int)(nl - control),
				control, nl);
		}
		/* info/PACKAGE.list: what the package put in the image (after pruning). */
		fl = open_memstream(&list, &list_size);
		if (!fl) {
			r = -ENOMEM;
			break;
		}
		fputs("/.\n", fl);
		for (size_t k = 0; k < n; k++)
			if (streq(nodes[k]->origin, pkg->name) && tree_get(g->t, nodes[k]->path))
				fprintf(fl, "/%s\n", nodes[k]->path);
		if (fclose(fl) != 0) {
			r = -ENOMEM;
			break;
		}
		/* dpkg names the files of "Multi-Arch: same" packages NAME:ARCH. */
		if (strstr(control, "\nMulti-Arch: same\n") ||
		    endswith(control, "\nMulti-Arch: same"))
			r = asprintf(&info, "var/lib/dpkg/info/%s:%s", pkg->name,
				     pkg->architecture);
		else
			r = asprintf(&info, "var/lib/dpkg/info/%s", pkg->name);
		if (r < 0 || asprintf(&list_path, "%s.list", info) < 0 ||
		    asprintf(&md5_path, "%s.md5sums", info) < 0) {
			r = -ENOMEM;
			break;
		}
		r = gen_file(g, list_path, list, list_size, 0644, NULL, NULL);
		if (r >= 0 && md5sums)
			r = gen_file(g, md5_path, md5sums, strlen(md5sums), 0644, NULL, NULL);
	}
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r == -ENOMEM ? log_oom() : r;
	r = gen_file(g, "var/lib/dpkg/status", status, status_size, 0644, NULL, NULL);
	if (r < 0)
		return r;
	/* The multiarch-aware database layout (info files named NAME:ARCH). */
	r = gen_text(g, "var/lib/dpkg/info/format", "1\n", 0644);
	if (r < 0)
		return r;
	progress_line("dpkg: status of %zu packages in /var/lib/dpkg/status", lf->n_packages);
	return 0;
}

/* ---- interpreters --------------------------------------------------------------------------- */

struct missing_interpreter {
	char *path;
	const struct tree_node *first;
	size_t scripts;
};

/* Warns, once per interpreter, about scripts whose #! interpreter the image lacks. */
static int check_interpreters(struct gen *g)
{
	_cleanup_free_ struct tree_node **nodes = NULL;
	_cleanup_(hashmap_freep) struct hashmap *missing = hashmap_new();
	_cleanup_free_ struct missing_interpreter **list = NULL;
	size_t n, n_list = 0;
	int r = 0;

	if (!missing)
		return log_oom();
	if (tree_sorted(g->t, &nodes, &n) < 0)
		return log_oom();
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_close_ int fd = -EBADF;
		struct missing_interpreter *mi;
		char buf[256] = {};
		char *interp;
		ssize_t k;

		if (nodes[i]->type != TREE_REG || !(nodes[i]->mode & 0111) || nodes[i]->size < 3)
			continue;
		fd = open(nodes[i]->source, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = log_error_errno(errno, "interpreters: %s: %m", nodes[i]->source);
			break;
		}
		k = loop_read(fd, buf, sizeof(buf) - 1);
		if (k < 3 || buf[0] != '#' || buf[1] != '!')
			continue;
		interp = buf + 2 + strspn(buf + 2, " \t");
		interp[strcspn(interp, " \t\n")] = '\0';
		if (!path_is_absolute(interp) || tree_resolve(g->t, interp + 1))
			continue;
		log_debug("interpreters: /%s (from %s) needs %s, which is not in the image",
			  nodes[i]->path, nodes[i]->origin, interp);
		mi = hashmap_get(missing, interp);
		if (!mi) {
			struct missing_interpreter **nl;
			mi = new0(struct missing_interpreter, 1);
			nl = reallocarray(list, n_list + 1, sizeof(*list));
			if (!mi || !nl || !(mi->path = strdup(interp))) {
				if (mi)
					free(mi->path);
				free(mi);
				r = log_oom();
				break;
			}
			list = nl;
			list[n_list++] = mi;
			mi->first = nodes[i];
			if (hashmap_put(missing, mi->path, mi) < 0) {
				r = log_oom();
				break;
			}
		}
		mi->scripts++;
	}
	/* list[] is in path order of the first script, so the output is stable. */
	for (size_t i = 0; i < n_list; i++) {
		if (r >= 0)
			log_warning(
				"interpreters: %s is not in the image, yet %zu script(s) use it "
				"(the first: /%s from %s); they will fail if run. Add its "
				"package to the manifest or prune the scripts (--verbose lists "
				"them); continuing.",
				list[i]->path, list[i]->scripts, list[i]->first->path,
				list[i]->first->origin);
		free(list[i]->path);
		free(list[i]);
	}
	return r;
}

/* ---- the stage ------------------------------------------------------------------------------ */

int generate_image_files(struct tree *t, const struct manifest *m, const struct lockfile *lf,
			 const char *pool, const char *dir, bool debug, struct sysusers **ret_users)
{
	_cleanup_(sysusers_freep) struct sysusers *users = NULL;
	struct gen g = { .t = t, .dir = dir };
	int r;

	r = mkdir_p(dir, 0755);
	if (r < 0)
		return log_error_errno(r, "generate: %s: %m", dir);
	if ((r = gen_layout(&g)) < 0 || (r = gen_users(&g, m, lf->source_date_epoch, &users)) < 0 ||
	    (r = gen_os_release(&g, m, debug)) < 0 || (r = gen_identity(&g, m)) < 0 ||
	    (r = gen_alternatives(&g, m)) < 0 || (r = gen_units(&g, m, debug)) < 0 ||
	    (r = gen_ca_certificates(&g)) < 0 || (r = gen_dpkg(&g, lf, pool)) < 0 ||
	    (r = check_interpreters(&g)) < 0)
		return r;
	progress_line("generate: %u files and links made", g.files);
	*ret_users = TAKE_PTR(users);
	return 0;
}
