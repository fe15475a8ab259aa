/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A whole ledger file, as `airlock-ledger verify` reads it: the reader, the chain and
 * sequence checks, the genesis key and checkpoint signatures, on whatever the file
 * holds. The input is written to a directory on tmpfs (or $TMPDIR) once per run.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/fd.h"
#include "core/fs.h"
#include "core/path.h"
#include "ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir, *file;

static void setup(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;

	if (mkdtemp_in(base, "airlock-fuzz-verify-", &dir) < 0)
		abort();
	file = path_join(dir, "ledger-0000000000000001.jsonl");
	if (!file)
		abort();
}

static void cleanup(void)
{
	(void)rm_rf(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ledger_verify_result res;
	struct ledger_verify_opts o = {};
	int fd, r;

	if (!dir) {
		setup();
		atexit(cleanup);
	}
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || loop_write(fd, data, size) < 0)
		abort();
	close(fd);

	/* Every other run checks everything, including each record's canonical form. */
	o.deep = size % 2;
	r = ledger_verify(dir, &o, &res);
	if (r == 0 && (res.n_records == 0 || res.first_seq != 1 || !res.key_from_ledger))
		abort();
	if (r == -EBADMSG && !res.error)
		abort();
	ledger_verify_result_done(&res);
	return 0;
}
