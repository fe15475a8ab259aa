/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-install [OPTIONS]: options, then the same preparation for both ways (the
 * medium, the disks and their plans, the TPM), then either the screens or the answer
 * file. Only arg_* state lives here.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/run.h"
#include "core/secret.h"
#include "core/strv.h"
#include "core/version.h"
#include "ext/crypto.h"
#include "ext/tpm.h"
#include "fat.h"
#include "gpt.h"
#include "installer.h"
#include "tpmnv.h"
#include "ledger-client.h"
#include "ledger.h"
#include "recovery.h"

#define ESP_ANSWER_FILE "airlock-install.conf"

/* --console: the install lock, held until exit; the other consoles read the result
 * from it. */
static int console_lock_fd = -EBADF;
static bool console_reported;

static char **arg_disks;
static const char *arg_answers;
static struct source_options arg_source = {
	.proc_cmdline = "/proc/cmdline",
	.efivars = "/sys/firmware/efi/efivars",
	.sysfs = "/sys",
};
static const char *arg_ledger_socket;
static const char *arg_ledger_dir = LEDGER_DIR_RUNTIME;
static bool arg_dry_run;
static bool arg_console;
static bool arg_no_filesystem;

static void help(void)
{
	printf("Usage: airlock-install [OPTIONS]\n"
	       "\n"
	       "Installs the Airlock image of the installer medium onto a disk: interactively\n"
	       "on the console, or unattended from an answer file. See airlock-install(8).\n"
	       "\n"
	       "  --answers FILE        unattended: the answer file (default: %s on the\n"
	       "                        medium's ESP if there is one, else interactive)\n"
	       "  --disk PATH           a candidate target: a disk or a disk image file (may be\n"
	       "                        given more than once; default: every disk)\n"
	       "  --source PATH         the installer medium (default: the disk systemd-boot\n"
	       "                        was started from)\n"
	       "  --manifest FILE       the image's manifest.json (default: the medium's ESP)\n"
	       "  --root-hash HEX       the root hash to install (default: airlock.roothash= of\n"
	       "                        /proc/cmdline)\n"
	       "  --tcti SPEC           the TPM (default: %s)\n"
	       "  --pcr-public-key FILE the image's PCR-signing public key (PEM)\n"
	       "  --tpm required|allow-missing\n"
	       "  --pbkdf argon2id|pbkdf2 --pbkdf-memory SIZE --pbkdf-time-cost N\n"
	       "  --pbkdf-parallel N    the recovery keyslot's KDF (default: argon2id tuned for\n"
	       "                        this machine, at most 1 GiB)\n"
	       "  --ledger-socket PATH  the ledger daemon (default: %s)\n"
	       "  --ledger-dir DIR      the ledger moved onto the data volume (default: %s)\n"
	       "  --dry-run             probe, plan and print; write nothing\n"
	       "  --console             started on one of several consoles (airlock-install@.service):\n"
	       "                        interactively, wait for Enter here; install only if no other\n"
	       "                        console's installer runs\n"
	       "  --no-filesystem       TEST-ONLY: no device-mapper here; leave the data volume\n"
	       "                        without a file system\n"
	       "  --version, -h --help\n",
	       ESP_ANSWER_FILE, TPM_DEFAULT_TCTI, LEDGER_SOCKET_DEFAULT, LEDGER_DIR_RUNTIME);
}

static void on_signal(int sig)
{
	(void)sig;
	install_interrupted = 1;
}

static int parse_argv(int argc, char *argv[], struct install_answers *opts)
{
	enum {
		ARG_ANSWERS = 0x100,
		ARG_DISK,
		ARG_SOURCE,
		ARG_MANIFEST,
		ARG_ROOT_HASH,
		ARG_LEDGER_SOCKET,
		ARG_LEDGER_DIR,
		ARG_DRY_RUN,
		ARG_NO_FILESYSTEM,
		ARG_CONSOLE,
		ARG_VERSION,
		ARG_KEY, /* options named as answer-file keys */
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{ "answers", required_argument, NULL, ARG_ANSWERS },
		{ "disk", required_argument, NULL, ARG_DISK },
		{ "source", required_argument, NULL, ARG_SOURCE },
		{ "manifest", required_argument, NULL, ARG_MANIFEST },
		{ "root-hash", required_argument, NULL, ARG_ROOT_HASH },
		{ "ledger-socket", required_argument, NULL, ARG_LEDGER_SOCKET },
		{ "ledger-dir", required_argument, NULL, ARG_LEDGER_DIR },
		{ "dry-run", no_argument, NULL, ARG_DRY_RUN },
		{ "no-filesystem", no_argument, NULL, ARG_NO_FILESYSTEM },
		{ "console", no_argument, NULL, ARG_CONSOLE },
		{ "tcti", required_argument, NULL, ARG_KEY },
		{ "pcr-public-key", required_argument, NULL, ARG_KEY },
		{ "tpm", required_argument, NULL, ARG_KEY },
		{ "pbkdf", required_argument, NULL, ARG_KEY },
		{ "pbkdf-memory", required_argument, NULL, ARG_KEY },
		{ "pbkdf-time-cost", required_argument, NULL, ARG_KEY },
		{ "pbkdf-parallel", required_argument, NULL, ARG_KEY },
		{},
	};
	int c, idx = 0, r;

	while ((c = getopt_long(argc, argv, "h", options, &idx)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			printf("airlock-install %s\n", AIRLOCK_VERSION);
			return 0;
		case ARG_ANSWERS:
			arg_answers = optarg;
			break;
		case ARG_DISK: {
			char *p = realpath(optarg, NULL);
			if (!p)
				return log_error_errno(errno, "--disk '%s': %m", optarg);
			if ((r = strv_push(&arg_disks, p)) < 0)
				return log_oom();
			break;
		}
		case ARG_SOURCE:
			arg_source.path = optarg;
			break;
		case ARG_MANIFEST:
			arg_source.manifest = optarg;
			break;
		case ARG_ROOT_HASH:
			arg_source.root_hash_hex = optarg;
			break;
		case ARG_LEDGER_SOCKET:
			arg_ledger_socket = optarg;
			break;
		case ARG_LEDGER_DIR:
			arg_ledger_dir = optarg;
			break;
		case ARG_CONSOLE:
			arg_console = true;
			break;
		case ARG_DRY_RUN:
			arg_dry_run = true;
			break;
		case ARG_NO_FILESYSTEM:
			arg_no_filesystem = true;
			break;
		case ARG_KEY: {
			_cleanup_free_ char *error = NULL;
			r = answers_set(opts, options[idx].name, optarg, ANSWER_LINE_OPTION,
					&error);
			if (r < 0)
				return log_error("%s", strna(error)), r;
			break;
		}
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(EINVAL, "unexpected argument '%s'; see --help",
				       argv[optind]);
	return 1;
}

/* Options win over the answer file for the keys both may set (tcti, pbkdf, ...). */
static int replace_string(char **field, const char *value)
{
	char *c;

	if (!value)
		return 0;
	c = strdup(value);
	if (!c)
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

static int merge_options(struct install_answers *file, const struct install_answers *opts)
{
	if (replace_string(&file->tcti, opts->tcti) < 0 ||
	    replace_string(&file->pcr_public_key, opts->pcr_public_key) < 0)
		return -ENOMEM;
	if (opts->line[ANSWER_TPM])
		file->tpm = opts->tpm;
	if (opts->line[ANSWER_PBKDF])
		file->pbkdf.type = opts->pbkdf.type;
	if (opts->line[ANSWER_PBKDF_MEMORY])
		file->pbkdf.memory_kib = opts->pbkdf.memory_kib;
	if (opts->line[ANSWER_PBKDF_TIME_COST])
		file->pbkdf.iterations = opts->pbkdf.iterations;
	if (opts->line[ANSWER_PBKDF_PARALLEL])
		file->pbkdf.parallel = opts->pbkdf.parallel;
	return 0;
}

static void random_uuid(char ret[GPT_UUID_STRING_MAX])
{
	uint8_t b[16];

	if (crypto_random_bytes(b, sizeof(b)) < 0)
		abort(); /* getrandom never fails once the pool is up */
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	gpt_uuid_from_bytes(b, ret);
}

static void ctx_done(struct install_ctx *c)
{
	for (size_t i = 0; c->plans && i < c->n_disks; i++)
		plan_free(c->plans[i]);
	free(c->plans);
	install_disks_free(c->disks, c->n_disks);
	install_source_done(&c->source);
	tpm_facts_done(&c->tpm);
	answers_free(c->answers);
	secret_free(c->recovery_key);
	*c = (struct install_ctx){};
}

/* The disks, what may not be touched, and a plan for every disk that may be. */
static int prepare_disks(struct install_ctx *c)
{
	const struct install_source *s = &c->source;
	struct boot_facts f = {
		.boot_part_uuid = s->boot_part_uuid,
		.source_devnum = s->id.is_file ? 0 : s->id.devnum,
		.source_file_dev = s->id.file_dev,
		.source_file_ino = s->id.is_file ? s->id.file_ino : 0,
		.source_backing = s->backing,
		.n_source_backing = s->n_backing,
	};
	int r;

	r = plan_min_disk_bytes(&s->sizes, &f.min_disk_bytes);
	if (r < 0)
		return log_error_errno(r, "the image's disk sizes (%s) are invalid",
				       s->manifest_origin);
	if (arg_disks) {
		c->disks = new0(struct install_disk, strv_length(arg_disks));
		if (!c->disks)
			return log_oom();
		STRV_FOREACH(p, arg_disks) {
			r = disk_probe(*p, &c->disks[c->n_disks]);
			if (r < 0)
				return log_error_errno(r, "--disk '%s': %m", *p);
			c->n_disks++;
		}
	} else {
		r = disks_probe_all(arg_source.sysfs, &c->disks, &c->n_disks);
		if (r < 0)
			return log_error_errno(r, "listing the disks in %s/class/block: %m",
					       arg_source.sysfs);
	}
	r = disks_decide(c->disks, c->n_disks, &f);
	if (r < 0)
		return log_oom();

	c->plans = new0(struct install_plan *, c->n_disks ?: 1);
	if (!c->plans)
		return log_oom();
	for (size_t i = 0; i < c->n_disks; i++) {
		struct install_disk *d = &c->disks[i];
		_cleanup_free_ char *error = NULL;
		struct plan_input in = {
			.disk_size_bytes = d->size_bytes,
			.sector_size = d->sector_size,
			.sizes = s->sizes,
			.root_content_bytes = s->root->size_bytes,
			.verity_content_bytes = s->verity->size_bytes,
		};

		if (d->refusal)
			continue;
		memcpy(in.root_hash, s->root_hash, 32);
		random_uuid(in.disk_uuid);
		random_uuid(in.data_uuid);
		r = plan_build(&in, &c->plans[i], &error);
		if (r == -EFBIG || (r < 0 && r != -ENOSPC && r != -EINVAL))
			return log_error_errno(r, "plan: %s", error ?: strerror(-r));
		if (r < 0 && asprintf(&d->refusal, "%s", strna(error)) < 0)
			return log_oom();
	}
	return 0;
}

static void print_plan(const struct install_ctx *c, size_t i)
{
	const struct install_disk *d = &c->disks[i];
	const struct install_plan *p = c->plans[i];
	_cleanup_strv_free_ char **lines = NULL;
	char a[FORMAT_BYTES_MAX], b[FORMAT_BYTES_MAX];

	printf("target: %s (%s%s%s)\n", d->node, format_bytes(a, sizeof(a), d->size_bytes),
	       d->model ? ", " : "", strempty(d->model));
	if (disk_describe_contents(d, &lines) >= 0)
		STRV_FOREACH(l, lines)
			printf("  erases: %s\n", *l);
	printf("  disk GUID %s (random for this install)\n", p->layout->uuid);
	for (size_t k = 0; k < p->layout->n_parts; k++) {
		const struct disklabel_part *part = &p->layout->parts[k];
		printf("  %zu %-9s start %10s size %10s  %s%s\n", k + 1, part->name,
		       format_bytes(a, sizeof(a), part->start_bytes),
		       format_bytes(b, sizeof(b), part->size_bytes), part->uuid,
		       k == PLAN_DATA ? " (random)" : "");
	}
	printf("  TPM: %s%s%s\n", c->tpm.usable ? "usable" : "NOT usable",
	       c->tpm.reason ? ": " : "", strempty(c->tpm.reason));
	if (!c->tpm.usable)
		return;
	for (unsigned k = 0; k < 2; k++) {
		bool defined = k == 0 ? c->tpm.floor_defined : c->tpm.ledger_defined;

		printf("  TPM NV index 0x%08" PRIx32 " (%s counter): %s\n",
		       k == 0 ? TPMNV_FLOOR : TPMNV_LEDGER,
		       k == 0 ? "version floor" : "ledger high-water",
		       defined ? "defined by an earlier install: undefined and defined again" :
				 "defined");
	}
}

static void progress_lines(void *userdata, enum install_step step, uint64_t done, uint64_t total)
{
	static struct progress *bar;
	static enum install_step bar_step = _STEP_INVALID;
	static double started;
	char a[FORMAT_BYTES_MAX], b[FORMAT_BYTES_MAX];

	(void)userdata;
	if (step == STEP_ROOT || step == STEP_VERITY) {
		if (bar_step != step) {
			bar = progress_begin(install_step_title(step), total, PROGRESS_BYTES, NULL);
			bar_step = step;
			started = progress_now();
		}
		progress_update(bar, done);
		if (done >= total) {
			double t = progress_now() - started;
			/* bench/install.sh reads this line */
			progress_end(bar, "%s copied and synced, %s/s",
				     format_bytes(a, sizeof(a), total),
				     format_bytes(b, sizeof(b),
						  t > 0 ? (uint64_t)((double)total / t) : 0));
			bar = NULL;
			bar_step = _STEP_INVALID;
		}
		return;
	}
	if (done >= total)
		progress_line("install: %s: done", install_step_title(step));
}

static int run_unattended(struct install_ctx *c)
{
	_cleanup_free_ char *error = NULL, *criteria = NULL;
	struct install_job job = {
		.settings = &c->settings,
		.source = &c->source,
		.tpm = &c->tpm,
		.progress = { .update = progress_lines },
	};
	size_t i;
	int r;

	r = disks_select(c->disks, c->n_disks, &c->answers->disk, &i, &error);
	if (r < 0) {
		log_error("%s: %s", strna(c->answers->path), strna(error));
		return EXIT_INSTALL_REFUSED;
	}
	if (!c->plans[i]) {
		log_error("%s: cannot be the target: %s", c->disks[i].node,
			  strna(c->disks[i].refusal));
		return EXIT_INSTALL_REFUSED;
	}
	if (!c->tpm.usable && c->answers->tpm != TPM_MODE_ALLOW_MISSING) {
		log_error("TPM: %s. Nothing was changed. To install with the recovery key only "
			  "(typed at every boot), set tpm = allow-missing in %s",
			  strna(c->tpm.reason), strna(c->answers->path));
		return EXIT_INSTALL_REFUSED;
	}
	if (!c->tpm.usable)
		log_warning("TPM: %s; installing with the recovery key only (tpm = allow-missing)",
			    strna(c->tpm.reason));

	print_plan(c, i);
	if (arg_dry_run) {
		printf("dry run: nothing was written.\n");
		return 0;
	}

	job.target = &c->disks[i];
	job.plan = c->plans[i];
	job.recovery_key = c->recovery_key;
	if (install_interrupted) {
		log_error("interrupted before anything was written: nothing was changed.");
		return EXIT_INSTALL_CANCELLED;
	}
	r = install_write(&job, &error);
	if (r >= 0)
		r = keydest_deliver(c->answers, job.target, &c->source, c->recovery_key, &error);
	if (r >= 0) {
		install_crash_point("key-delivered");
		r = install_commit(&job, &error);
	}
	if (r < 0) {
		const char *why = error ?: strerror(-r);
		bool wrote = install_job_wrote(&job);

		log_error("%s", why);
		install_record_failure(&job, why);
		install_job_done(&job);
		if (r == -EINTR && !wrote) {
			log_error("interrupted before anything was written: nothing was changed.");
			return EXIT_INSTALL_CANCELLED;
		}
		log_error("%s is not installed: its data volume has no header%s.", job.target->node,
			  r == -EINTR ? " (interrupted)" : "");
		return r == -EINTR ? EXIT_INSTALL_INTERRUPTED : EXIT_INSTALL_FAILED;
	}
	install_job_done(&job);
	printf("installed: %s %s on %s%s\n", c->source.name, c->source.version, job.target->node,
	       c->tpm.usable ? " (TPM-sealed data volume)" : " (recovery key only)");
	if (c->answers->reboot)
		return install_reboot() < 0 ? EXIT_INSTALL_FAILED : 0;
	return 0;
}

int install_reboot(void)
{
	_cleanup_free_ char *error = NULL;
	const char *argv[] = { "systemctl", "reboot", NULL };
	const struct run_opts o = { .timeout_sec = 60 };
	int r;

	/* Before the reboot, which stops the consoles that follow this one. */
	if (console_lock_fd >= 0) {
		console_report(console_lock_fd, "installed; the machine reboots now");
		console_reported = true;
	}
	r = run_argv(argv, &o, NULL, &error);

	if (r < 0)
		return log_error_errno(r, "reboot: %s", strna(error));
	return 0;
}

/* The answer file: --answers, else airlock-install.conf on the medium's ESP, else none. */
static int load_answers(struct install_ctx *c, const struct install_answers *opts,
			bool *ret_unattended)
{
	_cleanup_free_ char *error = NULL, *tmp = NULL, *copy = NULL, *origin = NULL;
	_cleanup_strv_free_ char **files = NULL;
	const struct fat_volume esp = { .path = c->source.path,
					.offset_bytes = c->source.esp->start_bytes };
	int r;

	if (arg_answers)
		r = answers_load(arg_answers, &c->answers, &error);
	else {
		r = fat_list(&esp, &files, &error);
		if (r < 0)
			return log_error_errno(r, "the medium's ESP: %s", strna(error));
		if (!strv_contains(files, ESP_ANSWER_FILE)) {
			*ret_unattended = false;
			return answers_new(&c->answers) < 0 ?
				       log_oom() :
				       (merge_options(c->answers, opts) < 0 ? log_oom() : 0);
		}
		r = mkdtemp_in(NULL, "airlock-answers.", &tmp);
		if (r < 0)
			return log_error_errno(r, "temporary directory: %m");
		copy = path_join(tmp, ESP_ANSWER_FILE);
		if (!copy || asprintf(&origin, "%s (ESP) %s", c->source.path, ESP_ANSWER_FILE) < 0)
			return log_oom();
		r = fat_copy_out(&esp, ESP_ANSWER_FILE, copy, &error);
		if (r >= 0) {
			r = answers_load(copy, &c->answers, &error);
			if (r >= 0) {
				free(c->answers->path);
				c->answers->path = TAKE_PTR(origin);
			}
		}
		(void)rm_rf(tmp);
		log_info("answer file: %s", c->answers ? c->answers->path : ESP_ANSWER_FILE);
	}
	if (r < 0) {
		log_error("%s", error ?: strerror(-r));
		return -EINVAL;
	}
	r = merge_options(c->answers, opts);
	if (r < 0)
		return log_oom();
	r = answers_check_unattended(c->answers, &error);
	if (r < 0) {
		log_error("%s", strna(error));
		return r;
	}
	if (c->answers->disk.path) {
		char *p = realpath(c->answers->disk.path, NULL);
		if (!p)
			return log_error_errno(errno, "%s:%u: key 'disk': '%s': %m",
					       c->answers->path, c->answers->line[ANSWER_DISK],
					       c->answers->disk.path),
			       -EPERM;
		free(c->answers->disk.path);
		c->answers->disk.path = p;
	}
	*ret_unattended = true;
	return 0;
}

/* One line for the other consoles (console_follow()); the details are on this console
 * and in the journal. */
static const char *result_text(int status)
{
	switch (status) {
	case 0:
		return "installed; the details are on that console and in the journal";
	case EXIT_INSTALL_REFUSED:
		return "refused, nothing was changed; why is on that console and in the journal";
	case EXIT_INSTALL_CANCELLED:
		return "cancelled before the confirmation, nothing was changed";
	case EXIT_INSTALL_INTERRUPTED:
		return "interrupted after writing began: the disk is not installed";
	default:
		return "FAILED: the disk is not installed; why is on that console and in the "
		       "journal";
	}
}

int main(int argc, char *argv[])
{
	_cleanup_(answers_freep) struct install_answers *opts = NULL;
	struct install_ctx c = {};
	bool unattended = false;
	int r, status;

	log_set_program_name("airlock-install");
	log_parse_environment();
	if (answers_new(&opts) < 0)
		return log_oom(), EXIT_INSTALL_FAILED;
	r = parse_argv(argc, argv, opts);
	if (r <= 0) {
		strv_free(arg_disks);
		return r < 0 ? EXIT_INSTALL_USAGE : 0;
	}

	arg_source.pcr_public_key = opts->pcr_public_key;
	r = source_load(&arg_source, &c.source);
	if (r < 0) {
		status = EXIT_INSTALL_REFUSED;
		goto out;
	}
	r = load_answers(&c, opts, &unattended);
	if (r < 0) {
		status = r == -EPERM ? EXIT_INSTALL_REFUSED : EXIT_INSTALL_USAGE;
		goto out;
	}
	/* Before the signal handlers: Ctrl-C while waiting for Enter just ends it. */
	if (arg_console && !arg_dry_run) {
		r = console_claim(NULL, unattended, stdin, &console_lock_fd);
		if (r == -EBUSY) {
			/* Another console installs: its result is shown here too. */
			(void)console_follow(console_lock_fd, stdout);
			close(console_lock_fd);
			console_lock_fd = -EBADF;
			status = 0;
			goto out;
		}
		if (r == -ECANCELED) {
			status = 0;
			goto out;
		}
		if (r < 0) {
			status = EXIT_INSTALL_FAILED;
			goto out;
		}
	}
	(void)signal(SIGINT, on_signal);
	(void)signal(SIGTERM, on_signal);
	(void)signal(SIGHUP, on_signal);
	c.settings = (struct install_settings){
		.tpm_mode = c.answers->tpm,
		.tcti = c.answers->tcti,
		.recovery_pbkdf = c.answers->pbkdf,
		.ledger_socket = arg_ledger_socket,
		.ledger_socket_given = arg_ledger_socket != NULL,
		.ledger_dir = arg_ledger_dir,
		.no_filesystem = arg_no_filesystem,
		.dry_run = arg_dry_run,
		.operator_hash = c.answers->operator_hash,
	};
	if (c.answers->pcr_public_key && !opts->pcr_public_key) {
		/* The answer file names the key. */
		r = source_set_pcr_key_file(&c.source, c.answers->pcr_public_key);
		if (r < 0) {
			status = EXIT_INSTALL_REFUSED;
			goto out;
		}
	}

	r = prepare_disks(&c);
	if (r < 0) {
		status = EXIT_INSTALL_FAILED;
		goto out;
	}
	r = tpm_check(c.settings.tcti, &c.source, &c.tpm);
	if (r < 0) {
		log_oom();
		status = EXIT_INSTALL_FAILED;
		goto out;
	}
	if (!arg_dry_run) {
		r = recovery_key_generate(&c.recovery_key);
		if (r < 0) {
			log_error_errno(r, "generating the recovery key: %m");
			status = EXIT_INSTALL_FAILED;
			goto out;
		}
	}

	if (!arg_dry_run && record_open(&c.settings) < 0) {
		status = EXIT_INSTALL_REFUSED;
		goto out;
	}
	if (unattended)
		status = run_unattended(&c);
	else if (arg_dry_run) {
		for (size_t i = 0; i < c.n_disks; i++)
			if (c.plans[i])
				print_plan(&c, i);
			else
				printf("refused: %s: %s\n", c.disks[i].node,
				       strna(c.disks[i].refusal));
		printf("dry run: nothing was written.\n");
		status = 0;
	} else
		status = interactive_run(&c);
out:
	if (console_lock_fd >= 0 && !console_reported)
		console_report(console_lock_fd, result_text(status));
	ctx_done(&c);
	strv_free(arg_disks);
	return status;
}
