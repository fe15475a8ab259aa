/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "core/strv.h"
#include "deb822.h"

/* Every paragraph, copied, so that tests can look at them after the parse. */
struct collected {
	struct deb822_para *paras[8];
	size_t n;
	int stop_after; /* return -ECANCELED after this many paragraphs, 0: never */
};

static int collect_cb(const struct deb822_para *p, void *userdata)
{
	struct collected *c = userdata;

	assert_true(c->n < 8);
	assert_int_equal(deb822_para_copy(p, &c->paras[c->n]), 0);
	c->n++;
	if (c->stop_after && (int)c->n >= c->stop_after)
		return -ECANCELED;
	return 0;
}

static void collected_done(struct collected *c)
{
	for (size_t i = 0; i < c->n; i++)
		deb822_para_free(c->paras[i]);
	c->n = 0;
}

static int parse(const char *text, struct collected *c, unsigned *line)
{
	return deb822_parse(text, strlen(text), collect_cb, c, line);
}

static void test_paragraphs_and_fields(void **state)
{
	struct collected c = {};
	unsigned line = 0;
	(void)state;

	assert_int_equal(parse("Package: a\nVersion: 1\n\n\n\nPackage: b\n"
			       "version:   2  \nX-Empty:\n",
			       &c, &line),
			 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(deb822_get(c.paras[0], "Package"), "a");
	assert_int_equal(c.paras[0]->line, 1);
	assert_int_equal(c.paras[1]->line, 6);
	/* field names compare case-insensitively; values lose surrounding blanks */
	assert_string_equal(deb822_get(c.paras[1], "Version"), "2");
	assert_string_equal(deb822_get(c.paras[1], "x-empty"), "");
	assert_int_equal(deb822_get_field(c.paras[1], "VERSION")->line, 7);
	assert_null(deb822_get(c.paras[1], "Depends"));
	collected_done(&c);

	/* no trailing newline, and no paragraph at all */
	assert_int_equal(parse("A: 1", &c, &line), 0);
	assert_int_equal(c.n, 1);
	collected_done(&c);
	assert_int_equal(parse("", &c, &line), 0);
	assert_int_equal(parse("\n\n", &c, &line), 0);
	assert_int_equal(c.n, 0);
}

static void test_continuation(void **state)
{
	struct collected c = {};
	unsigned line = 0;
	(void)state;

	assert_int_equal(parse("Description: short\n"
			       " first line\n"
			       " .\n"
			       "   indented  \n"
			       "\tby a tab\n"
			       "Next: x\n",
			       &c, &line),
			 0);
	assert_int_equal(c.n, 1);
	/* one leading space goes, " ." is an empty line, trailing blanks go */
	assert_string_equal(deb822_get(c.paras[0], "Description"),
			    "short\nfirst line\n\n  indented\nby a tab");
	assert_string_equal(deb822_get(c.paras[0], "Next"), "x");
	collected_done(&c);

	/* a value that starts on the next line (as Release's SHA256) */
	assert_int_equal(parse("SHA256:\n abc 1 main/x\n def 2 main/y\n", &c, &line), 0);
	assert_string_equal(deb822_get(c.paras[0], "SHA256"), "\nabc 1 main/x\ndef 2 main/y");
	collected_done(&c);
}

static void test_comments_and_crlf(void **state)
{
	struct collected c = {};
	unsigned line = 0;
	(void)state;

	assert_int_equal(parse("# a comment\nA: 1\r\n# inside\r\nB: two words \r\n"
			       " more\r\n\r\nC: 3\r\n",
			       &c, &line),
			 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(deb822_get(c.paras[0], "A"), "1");
	assert_string_equal(deb822_get(c.paras[0], "B"), "two words\nmore");
	assert_int_equal(c.paras[0]->n_fields, 2);
	assert_int_equal(c.paras[0]->line, 2);
	assert_string_equal(deb822_get(c.paras[1], "C"), "3");
	assert_int_equal(c.paras[1]->line, 7);
	collected_done(&c);
}

static void test_errors(void **state)
{
	struct collected c = {};
	unsigned line = 0;
	(void)state;

	/* a line without a colon */
	assert_int_equal(parse("A: 1\nB: 2\nnot a field\n", &c, &line), -EBADMSG);
	assert_int_equal(line, 3);
	collected_done(&c);
	/* a continuation line with nothing to continue */
	line = 0;
	assert_int_equal(parse("A: 1\n\n continued\n", &c, &line), -EBADMSG);
	assert_int_equal(line, 3);
	collected_done(&c);
	/* an empty field name, and a name with a space */
	line = 0;
	assert_int_equal(parse(": value\n", &c, &line), -EBADMSG);
	assert_int_equal(line, 1);
	line = 0;
	assert_int_equal(parse("A: 1\r\nBad Name: 2\r\n", &c, &line), -EBADMSG);
	assert_int_equal(line, 2);
	collected_done(&c);
	/* the callback's error stops the parse and is returned */
	c.stop_after = 1;
	assert_int_equal(parse("A: 1\n\nB: 2\n", &c, &line), -ECANCELED);
	assert_int_equal(c.n, 1);
	collected_done(&c);
}

static void test_write_field(void **state)
{
	_cleanup_free_ char *buf = NULL;
	struct collected c = {};
	size_t size = 0;
	unsigned line = 0;
	FILE *f = open_memstream(&buf, &size);
	(void)state;

	assert_non_null(f);
	assert_int_equal(deb822_write_field(f, "Description", "short\nlong\n\nend"), 0);
	assert_int_equal(deb822_write_field(f, "Empty", ""), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "Description: short\n long\n .\n end\nEmpty:\n");
	/* and it reads back as written */
	assert_int_equal(deb822_parse(buf, size, collect_cb, &c, &line), 0);
	assert_string_equal(deb822_get(c.paras[0], "Description"), "short\nlong\n\nend");
	assert_string_equal(deb822_get(c.paras[0], "Empty"), "");
	collected_done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paragraphs_and_fields), cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_comments_and_crlf),     cmocka_unit_test(test_errors),
		cmocka_unit_test(test_write_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
