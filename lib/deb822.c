/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <strings.h>

#include "deb822.h"

static void para_clear(struct deb822_para *p)
{
	for (size_t i = 0; i < p->n_fields; i++) {
		free(p->fields[i].name);
		free(p->fields[i].value);
	}
	free(p->fields);
	*p = (struct deb822_para){};
}

struct deb822_para *deb822_para_free(struct deb822_para *p)
{
	if (!p)
		return NULL;
	para_clear(p);
	free(p);
	return NULL;
}

static int para_add(struct deb822_para *p, size_t *cap, const char *name, size_t name_len,
		    const char *value, size_t value_len, unsigned line)
{
	struct deb822_field *f;

	if (p->n_fields == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		f = reallocarray(p->fields, ncap, sizeof(*f));
		if (!f)
			return -ENOMEM;
		p->fields = f;
		*cap = ncap;
	}
	f = &p->fields[p->n_fields];
	f->name = strndup(name, name_len);
	f->value = strndup(value, value_len);
	f->line = line;
	if (!f->name || !f->value) {
		free(f->name);
		free(f->value);
		return -ENOMEM;
	}
	if (p->n_fields == 0)
		p->line = line;
	p->n_fields++;
	return 0;
}

static int append_continuation(struct deb822_field *f, const char *s, size_t n)
{
	size_t old = strlen(f->value);
	char *v;

	/* " ." is an empty line. */
	if (n == 1 && s[0] == '.')
		n = 0;
	v = realloc(f->value, old + 1 + n + 1);
	if (!v)
		return -ENOMEM;
	v[old] = '\n';
	memcpy(v + old + 1, s, n);
	v[old + 1 + n] = '\0';
	f->value = v;
	return 0;
}

int deb822_parse(const char *text, size_t size, deb822_cb cb, void *userdata,
		 unsigned *ret_error_line)
{
	struct deb822_para p = {};
	size_t cap = 0;
	const char *s = text, *end = text + size;
	unsigned line = 0;
	int r = 0;

	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		const char *le = eol ? eol : end;
		size_t len;

		line++;
		/* Tolerate CRLF. */
		len = (size_t)(le - s);
		if (len > 0 && s[len - 1] == '\r')
			len--;

		if (len == 0) {
			/* paragraph separator */
			if (p.n_fields > 0) {
				r = cb(&p, userdata);
				para_clear(&p);
				cap = 0;
				if (r < 0)
					goto out;
			}
		} else if (s[0] == ' ' || s[0] == '\t') {
			const char *v = s + 1;
			size_t vl = len - 1;

			if (strspn(s, " \t") >= len) {
				/* a white-space-only line also ends a paragraph */
				if (p.n_fields > 0) {
					r = cb(&p, userdata);
					para_clear(&p);
					cap = 0;
					if (r < 0)
						goto out;
				}
			} else {
				if (p.n_fields == 0) {
					r = -EBADMSG;
					goto fail;
				}
				/* trailing white space is not part of the value */
				while (vl > 0 && isspace((unsigned char)v[vl - 1]))
					vl--;
				r = append_continuation(&p.fields[p.n_fields - 1], v, vl);
				if (r < 0)
					goto out;
			}
		} else if (s[0] == '#') {
			/* comment line */
		} else {
			const char *colon = memchr(s, ':', len);
			const char *v;
			size_t vl;

			if (!colon || colon == s) {
				r = -EBADMSG;
				goto fail;
			}
			for (const char *c = s; c < colon; c++)
				if (!isgraph((unsigned char)*c)) {
					r = -EBADMSG;
					goto fail;
				}
			v = colon + 1;
			while (v < s + len && (*v == ' ' || *v == '\t'))
				v++;
			vl = (size_t)(s + len - v);
			while (vl > 0 && isspace((unsigned char)v[vl - 1]))
				vl--;
			r = para_add(&p, &cap, s, (size_t)(colon - s), v, vl, line);
			if (r < 0)
				goto out;
		}
		s = eol ? eol + 1 : end;
	}
	if (p.n_fields > 0)
		r = cb(&p, userdata);
	goto out;

fail:
	if (ret_error_line)
		*ret_error_line = line;
out:
	para_clear(&p);
	return r < 0 ? r : 0;
}

const struct deb822_field *deb822_get_field(const struct deb822_para *p, const char *name)
{
	for (size_t i = 0; i < p->n_fields; i++)
		if (strcasecmp(p->fields[i].name, name) == 0)
			return &p->fields[i];
	return NULL;
}

const char *deb822_get(const struct deb822_para *p, const char *name)
{
	const struct deb822_field *f = deb822_get_field(p, name);
	return f ? f->value : NULL;
}

int deb822_write_field(FILE *f, const char *name, const char *value)
{
	const char *s = value;
	bool first = true;

	if (fprintf(f, "%s:", name) < 0)
		return -EIO;
	for (;;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		if (first) {
			if (n > 0 && fprintf(f, " %.*s", (int)n, s) < 0)
				return -EIO;
			first = false;
		} else if (fprintf(f, "\n %.*s", (int)(n ?: 1), n ? s : ".") < 0)
			return -EIO;
		if (!nl)
			break;
		s = nl + 1;
	}
	return fputc('\n', f) == EOF ? -EIO : 0;
}

int deb822_para_copy(const struct deb822_para *p, struct deb822_para **ret)
{
	_cleanup_(deb822_para_freep) struct deb822_para *c = new0(struct deb822_para, 1);
	size_t cap = 0;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_fields; i++) {
		const struct deb822_field *f = &p->fields[i];
		int r = para_add(c, &cap, f->name, strlen(f->name), f->value, strlen(f->value),
				 f->line);
		if (r < 0)
			return r;
	}
	c->line = p->line;
	*ret = TAKE_PTR(c);
	return 0;
}
