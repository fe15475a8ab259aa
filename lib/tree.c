/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdio.h>

#include "core/fd.h"
#include "core/hashmap.h"
#include "core/path.h"
#include "core/strv.h"
#include "tree.h"

struct tree {
	struct hashmap *nodes;
};

static const char *const merged_dirs[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };

struct tree_node *tree_node_new(const char *path, enum tree_node_type type, unsigned mode,
				const char *origin)
{
	struct tree_node *n = new0(struct tree_node, 1);

	if (!n)
		return NULL;
	n->path = strdup(path);
	n->origin = strdup(origin ?: "");
	if (!n->path || !n->origin)
		return tree_node_free(n);
	n->type = type;
	n->mode = mode & 07777;
	return n;
}

struct tree_node *tree_node_free(struct tree_node *n)
{
	if (!n)
		return NULL;
	free(n->path);
	free(n->user);
	free(n->group);
	free(n->source);
	free(n->target);
	free(n->hardlink);
	free(n->origin);
	free(n);
	return NULL;
}

int tree_new(struct tree **ret)
{
	_cleanup_(tree_freep) struct tree *t = new0(struct tree, 1);
	struct tree_node *root;
	int r;

	if (!t)
		return -ENOMEM;
	t->nodes = hashmap_new();
	if (!t->nodes)
		return -ENOMEM;
	root = tree_node_new("", TREE_DIR, 0755, "root");
	if (!root)
		return -ENOMEM;
	r = hashmap_put(t->nodes, root->path, root);
	if (r < 0) {
		tree_node_free(root);
		return r;
	}
	*ret = TAKE_PTR(t);
	return 0;
}

struct tree *tree_free(struct tree *t)
{
	const char *k;
	void *v;
	size_t i = 0;

	if (!t)
		return NULL;
	while (t->nodes && hashmap_iterate(t->nodes, &i, &k, &v))
		tree_node_free(v);
	hashmap_free(t->nodes);
	free(t);
	return NULL;
}

int tree_path_canonicalize(const char *member, char **ret, const char **ret_reason)
{
	_cleanup_free_ char *p = NULL;
	const char *first_end;
	size_t first_len;

	if (path_is_absolute(member)) {
		*ret_reason = "is an absolute path";
		return -EINVAL;
	}
	if (path_has_dotdot(member)) {
		*ret_reason = "contains a '..' component";
		return -EINVAL;
	}
	p = strdup(member);
	if (!p)
		return -ENOMEM;
	path_simplify(p);
	if (path_is_absolute(p)) {
		/* "./" followed by "/x" collapses to "/x": as absolute as it gets */
		*ret_reason = "is an absolute path";
		return -EINVAL;
	}

	first_end = strchrnul(p, '/');
	first_len = (size_t)(first_end - p);
	for (size_t i = 0; i < ELEMENTSOF(merged_dirs); i++)
		if (strlen(merged_dirs[i]) == first_len &&
		    strncmp(p, merged_dirs[i], first_len) == 0) {
			char *u = NULL;
			if (asprintf(&u, "usr/%s", p) < 0)
				return -ENOMEM;
			free_and_replace(p, u);
			break;
		}
	*ret = TAKE_PTR(p);
	return 0;
}

struct tree_node *tree_get(const struct tree *t, const char *path)
{
	return hashmap_get(t->nodes, path);
}

size_t tree_size(const struct tree *t)
{
	return hashmap_size(t->nodes);
}

int tree_remove(struct tree *t, const char *path)
{
	struct tree_node *n;

	if (isempty(path))
		return -EPERM;
	n = hashmap_remove(t->nodes, path);
	if (!n)
		return -ENOENT;
	tree_node_free(n);
	return 0;
}

static const char *type_name(enum tree_node_type type)
{
	static const char *const names[] = {
		[TREE_DIR] = "directory",    [TREE_REG] = "file",
		[TREE_SYMLINK] = "symlink",  [TREE_CHR] = "character device",
		[TREE_BLK] = "block device", [TREE_FIFO] = "fifo",
	};
	return type >= 0 && type < _TREE_TYPE_MAX ? names[type] : "node";
}

static int files_equal(const char *a, const char *b, uint64_t size)
{
	_cleanup_close_ int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
	uint8_t ba[64 * 1024], bb[64 * 1024];
	uint64_t done = 0;

	if (fa < 0 || fb < 0)
		return -errno;
	while (done < size) {
		size_t want = (size_t)MIN((uint64_t)sizeof(ba), size - done);
		if (loop_read_exact(fa, ba, want) < 0 || loop_read_exact(fb, bb, want) < 0)
			return -EIO;
		if (memcmp(ba, bb, want) != 0)
			return 0;
		done += want;
	}
	return 1;
}

static int same_node(const struct tree_node *a, const struct tree_node *b)
{
	if (a->type != b->type || a->mode != b->mode || !streq_ptr(a->user, b->user) ||
	    !streq_ptr(a->group, b->group))
		return 0;
	switch (a->type) {
	case TREE_SYMLINK:
		return streq(a->target, b->target);
	case TREE_REG:
		if (a->size != b->size)
			return 0;
		return files_equal(a->source, b->source, a->size);
	case TREE_CHR:
	case TREE_BLK:
		return a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
	default:
		return 1;
	}
}

static int add_parents(struct tree *t, const struct tree_node *n, char **ret_error)
{
	_cleanup_free_ char *p = strdup(n->path);

	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
		struct tree_node *e;

		*s = '\0';
		e = tree_get(t, p);
		if (!e) {
			struct tree_node *d = tree_node_new(p, TREE_DIR, 0755, n->origin);
			int r;
			if (!d)
				return -ENOMEM;
			r = hashmap_put(t->nodes, d->path, d);
			if (r < 0) {
				tree_node_free(d);
				return r;
			}
		} else if (e->type == TREE_SYMLINK) {
			if (asprintf(ret_error,
				     "'%s' would be written through the symlink '/%s' -> '%s' "
				     "(from %s)",
				     n->path, p, e->target, e->origin) < 0)
				*ret_error = NULL;
			return -ELOOP;
		} else if (e->type != TREE_DIR) {
			if (asprintf(ret_error, "'%s' would be placed below the %s '/%s' (from %s)",
				     n->path, type_name(e->type), p, e->origin) < 0)
				*ret_error = NULL;
			return -ENOTDIR;
		}
		*s = '/';
	}
	return 0;
}

int tree_add(struct tree *t, struct tree_node *n, enum tree_add_flags flags, char **ret_error)
{
	_cleanup_(tree_node_freep) struct tree_node *node = n;
	struct tree_node *old;
	int r;

	if (isempty(node->path)) {
		/* The root directory itself: packages ship "./"; keep ours. */
		return 0;
	}
	r = add_parents(t, node, ret_error);
	if (r < 0)
		return r;

	if (node->type == TREE_REG && node->hardlink) {
		struct tree_node *target = tree_get(t, node->hardlink);
		if (!target || target->type != TREE_REG) {
			if (asprintf(ret_error,
				     "'%s' is a hard link to '%s', which is not an earlier regular "
				     "file of the image",
				     node->path, node->hardlink) < 0)
				*ret_error = NULL;
			return -EINVAL;
		}
	}

	old = tree_get(t, node->path);
	if (!old) {
		r = hashmap_put(t->nodes, node->path, node);
		if (r < 0)
			return r;
		TAKE_PTR(node);
		return 0;
	}

	if (old->type == TREE_DIR && node->type == TREE_DIR)
		return 0; /* directories merge; the first owner and mode stay */

	if (old->type != TREE_DIR && node->type != TREE_DIR) {
		r = same_node(old, node);
		if (r < 0)
			return r;
		if (r > 0)
			return 0;
		if (flags & TREE_ADD_REPLACE) {
			void *prev = NULL;
			r = hashmap_replace(t->nodes, node->path, node, &prev);
			if (r < 0)
				return r;
			tree_node_free(prev);
			TAKE_PTR(node);
			return 0;
		}
	}
	if (asprintf(ret_error, "'/%s' (%s from %s) conflicts with the %s from %s", node->path,
		     type_name(node->type), node->origin, type_name(old->type), old->origin) < 0)
		*ret_error = NULL;
	return -EEXIST;
}

static int cmp_node_path(const void *a, const void *b)
{
	const struct tree_node *x = *(const struct tree_node *const *)a;
	const struct tree_node *y = *(const struct tree_node *const *)b;
	return strcmp(x->path, y->path);
}

int tree_sorted(const struct tree *t, struct tree_node ***ret, size_t *ret_n)
{
	size_t n = hashmap_size(t->nodes), i = 0, k = 0;
	struct tree_node **a = reallocarray(NULL, n ?: 1, sizeof(*a));
	void *v;

	if (!a)
		return -ENOMEM;
	while (hashmap_iterate(t->nodes, &i, NULL, &v))
		a[k++] = v;
	qsort(a, k, sizeof(*a), cmp_node_path);
	*ret = a;
	*ret_n = k;
	return 0;
}

struct tree_node *tree_resolve(const struct tree *t, const char *path)
{
	_cleanup_free_ char *cur = strdup(path);
	unsigned links = 0;

	if (!cur)
		return NULL;
	path_simplify(cur);
	for (;;) {
		/* Walk components; on the first symlink, splice its target in and restart. */
		_cleanup_free_ char *done = NULL;
		const char *s = cur[0] == '/' ? cur + 1 : cur;
		bool restarted = false;

		done = strdup("");
		if (!done)
			return NULL;
		while (*s) {
			const char *e = strchrnul(s, '/');
			_cleanup_free_ char *next = NULL;
			struct tree_node *node;

			if (e - s == 2 && s[0] == '.' && s[1] == '.') {
				char *slash = strrchr(done, '/');
				if (slash)
					*slash = '\0';
				else
					done[0] = '\0';
				s = *e ? e + 1 : e;
				continue;
			}
			if (asprintf(&next, "%s%s%.*s", done, *done ? "/" : "", (int)(e - s), s) <
			    0)
				return NULL;
			node = tree_get(t, next);
			if (!node)
				return NULL;
			if (node->type == TREE_SYMLINK) {
				_cleanup_free_ char *parent = NULL, *rest = NULL;
				if (++links > 40)
					return NULL;
				if (node->target[0] == '/')
					rest = strdup(node->target + 1);
				else if (asprintf(&rest, "%s%s%s", done, *done ? "/" : "",
						  node->target) < 0)
					rest = NULL;
				if (!rest)
					return NULL;
				if (*e) {
					char *joined = path_join(rest, e + 1);
					if (!joined)
						return NULL;
					free_and_replace(rest, joined);
				}
				path_simplify(rest);
				free_and_replace(cur, rest);
				restarted = true;
				break;
			}
			free_and_replace(done, next);
			s = *e ? e + 1 : e;
		}
		if (!restarted)
			return tree_get(t, done);
	}
}
