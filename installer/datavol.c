/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage 5: the data volume, LUKS2 (aes-xts-plain64, 4096-byte sectors, data at 16 MiB).
 *
 * libcryptsetup writes a header as soon as it formats one, and a header on the disk
 * claims a complete install. So the header is formatted into a memory file (memfd)
 * sized as the header area; the recovery keyslot (argon2id), the TPM keyslot and its
 * systemd-tpm2 token (lib/tpm2luks) go into it there; with device-mapper the volume is
 * mapped through that detached header over the data partition to make the ext4 inside
 * and move the ledger in; and only then is the header area written to the start of the
 * data partition, in an order that makes it appear whole or not at all
 * (luks_header_install()). The result is an ordinary LUKS2 volume.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "core/fd.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/path.h"
#include "core/run.h"
#include "ext/crypto.h"
#include "ext/tpm.h"
#include "installer.h"
#include "operator.h"
#include "pcr.h"
#include "core/fileio.h"
#include "core/secret.h"
#include "tpm2luks.h"
#include "tpmfloor.h"
#include "tpmnv.h"

#define DATAVOL_LABEL "airlock-data"
#define DATAVOL_SECTOR_SIZE 4096
#define DATAVOL_FS_LABEL "var"
/* The tuned recovery keyslot: 2 s of argon2id, at most 1 GiB and a quarter of the RAM. */
#define PBKDF_TUNE_TIME_MS 2000
#define PBKDF_MEMORY_BOUND_KIB (1024U * 1024U)
#define PBKDF_MEMORY_FLOOR_KIB (64U * 1024U)
#define PBKDF_PARALLEL_MAX 4U
#define MKFS_TIMEOUT_SEC 600
#define MIGRATE_TIMEOUT_SEC 300

struct datavol {
	int header_fd; /* memfd holding the header area until it is written */
	char header_path[64]; /* /proc/self/fd/N */
	struct luks_volume *luks;
	struct datavol_enrolment e;
	int data_loop_fd;
	char *data_loop_node;
	bool mapped;
	char *mnt;
	bool mounted;
	/* The NV counters' auths (secret memory) until they are written onto the volume. */
	uint8_t *floor_auth, *ledger_auth;
};

int datavol_new(struct datavol **ret)
{
	struct datavol *v = new0(struct datavol, 1);

	if (!v)
		return -ENOMEM;
	v->header_fd = -EBADF;
	v->data_loop_fd = -EBADF;
	v->e.recovery_keyslot = v->e.tpm_keyslot = v->e.tpm_token = -1;
	*ret = v;
	return 0;
}

static void unmap(struct datavol *v)
{
	int r;

	if (v->mounted) {
		if (umount2(v->mnt, 0) < 0)
			log_warning_errno(errno, "data: unmounting %s: %m, ignoring.", v->mnt);
		else
			v->mounted = false;
	}
	if (v->mnt && !v->mounted) {
		(void)rmdir(v->mnt);
		v->mnt = mfree(v->mnt);
	}
	if (v->mapped) {
		r = luks_deactivate(INSTALL_DM_NAME);
		if (r < 0)
			log_warning_errno(r, "data: removing /dev/mapper/%s: %m, ignoring.",
					  INSTALL_DM_NAME);
		else
			v->mapped = false;
	}
	v->data_loop_fd = safe_close(v->data_loop_fd);
	v->data_loop_node = mfree(v->data_loop_node);
}

struct datavol *datavol_free(struct datavol *v)
{
	if (!v)
		return NULL;
	unmap(v);
	luks_volume_free(v->luks);
	secret_free(v->floor_auth);
	secret_free(v->ledger_auth);
	safe_close(v->header_fd);
	free(v);
	return NULL;
}

void datavol_enrolment(struct datavol *v, struct datavol_enrolment *ret)
{
	*ret = v->e;
}

/* The recovery keyslot's KDF: the given parameters, or argon2id tuned for this machine. */
static struct luks_pbkdf recovery_pbkdf(const struct install_settings *s)
{
	struct luks_pbkdf p = s->recovery_pbkdf;
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE), cpus;
	uint64_t quarter_kib;

	if (p.iterations > 0)
		return p; /* pinned (tests, or an operator's choice) */
	p.type = LUKS_PBKDF_ARGON2ID;
	p.time_ms = PBKDF_TUNE_TIME_MS;
	if (p.memory_kib == 0) {
		quarter_kib = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 4096 : 0;
		p.memory_kib = (uint32_t)MAX((uint64_t)PBKDF_MEMORY_FLOOR_KIB,
					     MIN((uint64_t)PBKDF_MEMORY_BOUND_KIB, quarter_kib));
	}
	if (p.parallel == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		p.parallel = (uint32_t)MIN((long)PBKDF_PARALLEL_MAX, MAX(cpus, 1L));
	}
	return p;
}

int datavol_format(struct datavol *v, const struct install_settings *s, const char *recovery_key,
		   char **ret_error)
{
	struct luks_pbkdf pbkdf = recovery_pbkdf(s);
	const struct luks_format_params params = {
		.label = DATAVOL_LABEL,
		.sector_size = DATAVOL_SECTOR_SIZE,
		.pbkdf = &pbkdf,
		.data_offset_bytes = PLAN_LUKS_HEADER_BYTES,
	};
	int r;

	v->header_fd = memfd_create("airlock-data-header", MFD_CLOEXEC);
	if (v->header_fd < 0)
		return error_replace(ret_error, -errno, "data: memfd_create: %m");
	if (ftruncate(v->header_fd, (off_t)PLAN_LUKS_HEADER_BYTES) < 0)
		return error_replace(ret_error, -errno, "data: sizing the header file: %m");
	snprintf(v->header_path, sizeof(v->header_path), "/proc/self/fd/%d", v->header_fd);

	r = luks_format(v->header_path, &params, &v->luks);
	if (r < 0)
		return error_replace(ret_error, r, "data: formatting the LUKS2 header: %s",
				     strerror(-r));
	if (luks_volume_data_offset(v->luks) != PLAN_LUKS_HEADER_BYTES)
		return error_replace(ret_error, -EPROTO,
				     "data: libcryptsetup put the data at %" PRIu64
				     ", not at %" PRIu64,
				     luks_volume_data_offset(v->luks), PLAN_LUKS_HEADER_BYTES);
	r = luks_keyslot_add(v->luks, NULL, 0, recovery_key, strlen(recovery_key), &pbkdf,
			     &v->e.recovery_keyslot);
	if (r < 0)
		return error_replace(ret_error, r, "data: adding the recovery keyslot: %s",
				     strerror(-r));
	snprintf(v->e.luks_uuid, sizeof(v->e.luks_uuid), "%s", strempty(luks_volume_uuid(v->luks)));
	log_debug("data: LUKS2 %s, recovery keyslot %d (%s, %" PRIu32 " KiB, %" PRIu32
		  " iterations, %" PRIu32 " threads)",
		  v->e.luks_uuid, v->e.recovery_keyslot,
		  pbkdf.type == LUKS_PBKDF_ARGON2ID ? "argon2id" : "pbkdf2", pbkdf.memory_kib,
		  pbkdf.iterations, pbkdf.parallel);
	return 0;
}

static int new_auth(uint8_t **ret)
{
	uint8_t *a = secret_alloc(TPMNV_AUTH_SIZE);
	int r;

	if (!a)
		return -ENOMEM;
	r = crypto_random_bytes(a, TPMNV_AUTH_SIZE);
	if (r < 0) {
		secret_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

/*
 * Defines Airlock's NV counters (lib/tpmnv.h) with fresh auths: the version floor
 * (defined and incremented: its base) and the ledger's high-water counter. An index an
 * earlier install left is undefined first (its auth went with that install's data
 * volume); the TPM starts a counter so made at the highest value any counter held.
 */
static int define_counters(struct datavol *v, struct tpm_context *t, struct tpm_floor_bind *floor,
			   char **ret_error)
{
	int r;

	r = new_auth(&v->floor_auth);
	if (r >= 0)
		r = new_auth(&v->ledger_auth);
	if (r < 0)
		return error_replace(ret_error, r, "tpm: random bytes: %s", strerror(-r));
	for (unsigned i = 0; i < 2; i++) {
		uint32_t index = i == 0 ? TPMNV_FLOOR : TPMNV_LEDGER;
		const char *what = i == 0 ? "version floor" : "ledger high-water";

		for (unsigned again = 0;; again++) {
			r = i == 0 ? tpm_floor_define(t, v->floor_auth, TPMNV_AUTH_SIZE, floor) :
				     tpm_nv_counter_define(t, index, v->ledger_auth,
							   TPMNV_AUTH_SIZE);
			if (r != -EEXIST || again > 0)
				break;
			log_notice("tpm: NV index 0x%08" PRIx32 " (%s) is defined already, by an "
				   "earlier install on this TPM: defining it again",
				   index, what);
			r = tpm_nv_undefine(t, index);
			if (r < 0)
				break;
		}
		if (r < 0)
			return error_replace(ret_error, r,
					     "tpm: defining NV index 0x%08" PRIx32
					     " (%s counter): %s",
					     index, what, strerror(-r));
		log_info("tpm: NV index 0x%08" PRIx32 " defined (%s counter)%s", index, what,
			 i == 0 ? "" : "; the ledger daemon starts it");
	}
	v->e.floor = true;
	v->e.floor_index = floor->index;
	v->e.floor_base = floor->base;
	v->e.ledger_counter = true;
	return 0;
}

int datavol_enroll_tpm(struct datavol *v, const struct install_settings *s,
		       const struct install_source *src, char **ret_error)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	struct tpm_floor_bind floor = {};
	struct tpm2luks_enroll_params p = {
		.primary_alg = TPM_PRIMARY_ECC,
		.pubkey_pem = src->pcr_pubkey,
		.pubkey_pem_size = src->pcr_pubkey_size,
		.pubkey_pcr_mask = UINT32_C(1) << PCR_KERNEL_BOOT,
		.hash_pcr_mask = UINT32_C(1) << PCR_SECURE_BOOT_POLICY,
	};
	struct tpm2luks_enrolment e = {};
	int r;

	if (!src->pcr_pubkey)
		return error_replace(ret_error, -ENOKEY, "tpm: no PCR-signing key");
	r = tpm_context_new(s->tcti, &t);
	if (r < 0)
		return error_replace(ret_error, r, "tpm: %s at '%s': %s",
				     tpm_refusal_to_string(TPM_REFUSAL_NO_TPM),
				     isempty(s->tcti) ? TPM_DEFAULT_TCTI : s->tcti, strerror(-r));
	/* Without a file system there is nowhere to keep the counters' auths. */
	if (!s->no_filesystem) {
		r = define_counters(v, t, &floor, ret_error);
		if (r < 0)
			return r;
		p.floor = &floor;
	}
	/* Unlocked with the volume key held since the format: no passphrase needed. */
	r = tpm2luks_enroll(v->luks, t, NULL, 0, &p, &e);
	/* tss2 keeps a copy of the sealed secret in its context: drop it now. */
	t = tpm_context_free(t);
	if (r < 0)
		return error_replace(ret_error, r, "tpm: sealing the data volume's key: %s",
				     strerror(-r));
	v->e.tpm = true;
	v->e.tpm_keyslot = e.keyslot;
	v->e.tpm_token = e.token;
	memcpy(v->e.policy_hash, e.policy_hash, sizeof(v->e.policy_hash));
	v->e.unset_pcr_mask = e.unset_pcr_mask;
	return 0;
}

/* The NV counters' auths, TPMNV_AUTH_DIR on the volume (root, 0700; files 0600). */
static int write_counter_auths(struct datavol *v, char **ret_error)
{
	const char *files[] = { TPMNV_FLOOR_AUTH, TPMNV_LEDGER_AUTH };
	const uint8_t *auths[] = { v->floor_auth, v->ledger_auth };
	_cleanup_free_ char *dir = path_join(v->mnt, TPMNV_AUTH_DIR + strlen("/var"));
	int r;

	if (!dir)
		return -ENOMEM;
	r = mkdir_p(dir, 0700);
	if (r >= 0 && chmod(dir, 0700) < 0)
		r = -errno;
	if (r < 0)
		return error_replace(ret_error, r, "data: creating %s: %s", TPMNV_AUTH_DIR,
				     strerror(-r));
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_free_ char *path = path_join(v->mnt, files[i] + strlen("/var"));

		if (!path)
			return -ENOMEM;
		r = write_file_atomic(path, auths[i], TPMNV_AUTH_SIZE, 0600);
		if (r < 0)
			return error_replace(ret_error, r, "data: writing %s: %s", files[i],
					     strerror(-r));
	}
	v->floor_auth = secret_free(v->floor_auth);
	v->ledger_auth = secret_free(v->ledger_auth);
	return 0;
}

int datavol_make_filesystem(struct datavol *v, const struct install_disk *target,
			    const struct install_plan *plan, char **ret_error)
{
	const struct disklabel_part *data = plan_partition(plan, PLAN_DATA);
	_cleanup_free_ char *error = NULL, *dm = NULL;
	int r;

	if (access("/dev/mapper/control", F_OK) < 0)
		return error_replace(ret_error, -ENODEV,
				     "data: device-mapper is not available (/dev/mapper/control), "
				     "so the file system inside the data volume cannot be made");
	r = loop_device_attach(target->node, data->start_bytes, data->size_bytes, false,
			       &v->data_loop_fd, &v->data_loop_node);
	if (r < 0)
		return error_replace(ret_error, r, "data: a loop device over %s: %s", target->node,
				     strerror(-r));
	r = luks_set_data_device(v->luks, v->data_loop_node);
	if (r < 0)
		return error_replace(ret_error, r, "data: %s as the data device: %s",
				     v->data_loop_node, strerror(-r));
	r = luks_activate_volume_key(v->luks, INSTALL_DM_NAME);
	if (r < 0)
		return error_replace(ret_error, r, "data: mapping /dev/mapper/%s: %s",
				     INSTALL_DM_NAME, strerror(-r));
	v->mapped = true;
	dm = path_join("/dev/mapper", INSTALL_DM_NAME);
	if (!dm)
		return -ENOMEM;

	{
		const char *argv[] = { "mkfs.ext4", "-q",	 "-F", "-L", DATAVOL_FS_LABEL,
				       "-E",	    "nodiscard", dm,   NULL };
		const struct run_opts o = { .timeout_sec = MKFS_TIMEOUT_SEC };
		r = run_argv(argv, &o, NULL, &error);
		if (r < 0)
			return error_replace(ret_error, r, "data: mkfs.ext4 %s: %s", dm,
					     r == -ENOENT ? "not installed (e2fsprogs)" :
							    strna(error));
	}
	r = mkdtemp_in("/run", "airlock-install-var.", &v->mnt);
	if (r < 0)
		r = mkdtemp_in(NULL, "airlock-install-var.", &v->mnt);
	if (r < 0)
		return error_replace(ret_error, r, "data: a mount point: %s", strerror(-r));
	if (mount(dm, v->mnt, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0)
		return error_replace(ret_error, -errno, "data: mounting %s on %s: %m", dm, v->mnt);
	v->mounted = true;
	{
		_cleanup_free_ char *dir = path_join(v->mnt, "lib/airlock");
		if (!dir)
			return -ENOMEM;
		r = mkdir_p(dir, 0755);
		if (r < 0)
			return error_replace(ret_error, r, "data: creating /var/lib/airlock: %s",
					     strerror(-r));
	}
	if (v->floor_auth) {
		r = write_counter_auths(v, ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Moves the ledger in /run onto the volume (airlock-ledger(8), INSTALLATION). */
static int migrate_ledger(struct datavol *v, const struct install_settings *s, char **ret_error)
{
	_cleanup_free_ char *to = NULL, *error = NULL;
	const struct run_opts o = { .timeout_sec = MIGRATE_TIMEOUT_SEC };
	struct stat st;
	int r;

	if (!s->ledger_dir || stat(s->ledger_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_notice("data: no ledger in %s to move onto the data volume",
			   strna(s->ledger_dir));
		return 0;
	}
	if (!s->ledger_socket_given) {
		/* migrate refuses while the daemon holds the ledger. */
		const char *argv[] = { "systemctl", "stop", "airlock-ledger.socket",
				       "airlock-ledger.service", NULL };
		r = run_argv(argv, &o, NULL, &error);
		if (r < 0)
			return error_replace(ret_error, r, "data: stopping the ledger daemon: %s",
					     strna(error));
	}
	to = path_join(v->mnt, "lib/airlock/ledger");
	if (!to)
		return -ENOMEM;
	const char *argv[] = { "airlock-ledger", "migrate", "--from", s->ledger_dir,
			       "--to",		 to,	    NULL };
	error = mfree(error);
	r = run_argv(argv, &o, NULL, &error);
	if (r < 0)
		return error_replace(ret_error, r, "data: airlock-ledger migrate %s: %s",
				     s->ledger_dir, strna(error));
	return 0;
}

int datavol_finish_filesystem(struct datavol *v, const struct install_settings *s, char **ret_error)
{
	_cleanup_close_ int mfd = -EBADF;
	int r;

	if (!v->mounted)
		return error_replace(ret_error, -EINVAL, "data: the file system is not mounted");
	if (s->operator_hash) {
		/* The console's passphrase hash, from the answer file or the screen (0600). */
		_cleanup_free_ char *path = path_join(v->mnt, OPERATOR_HASH_FILE + strlen("/var"));

		if (!path)
			return -ENOMEM;
		r = operator_hash_save(path, s->operator_hash);
		if (r < 0)
			return error_replace(ret_error, r, "data: writing %s: %s",
					     OPERATOR_HASH_FILE, strerror(-r));
	}
	r = migrate_ledger(v, s, ret_error);
	if (r < 0)
		return r;
	mfd = open(v->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0 || syncfs(mfd) < 0)
		return error_replace(ret_error, -errno, "data: syncing %s: %m", v->mnt);
	mfd = safe_close(mfd);
	if (umount2(v->mnt, 0) < 0)
		return error_replace(ret_error, -errno, "data: unmounting %s: %m", v->mnt);
	v->mounted = false;
	r = luks_deactivate(INSTALL_DM_NAME);
	if (r < 0)
		return error_replace(ret_error, r, "data: removing /dev/mapper/%s: %s",
				     INSTALL_DM_NAME, strerror(-r));
	v->mapped = false;
	unmap(v);
	return 0;
}

static void header_step(const char *stage, void *userdata)
{
	char name[32];

	(void)userdata;
	snprintf(name, sizeof(name), "header-%s", stage);
	install_crash_point(name);
}

int datavol_commit(struct datavol *v, int fd, const struct install_disk *target,
		   const struct install_plan *plan, const char *recovery_key, char **ret_error)
{
	const struct disklabel_part *data = plan_partition(plan, PLAN_DATA);
	_cleanup_(luks_volume_freep) struct luks_volume *back = NULL;
	_cleanup_close_ int back_fd = -EBADF;
	_cleanup_free_ uint8_t *area = NULL;
	char back_path[64];
	int r;

	/* Closed first: libcryptsetup must not write the memory copy behind our back. */
	v->luks = luks_volume_free(v->luks);
	r = luks_header_install(v->header_path, fd, data->start_bytes, target->sector_size,
				header_step, NULL);
	if (r < 0)
		return error_replace(ret_error, r, "header: writing the LUKS2 header to %s: %s",
				     target->node, strerror(-r));

	/* Read it back from the disk and open it with the recovery key. */
	(void)posix_fadvise(fd, (off_t)data->start_bytes, (off_t)PLAN_LUKS_HEADER_BYTES,
			    POSIX_FADV_DONTNEED);
	area = malloc(PLAN_LUKS_HEADER_BYTES);
	back_fd = memfd_create("airlock-data-header-check", MFD_CLOEXEC);
	if (!area || back_fd < 0)
		return -ENOMEM;
	if (pread(fd, area, PLAN_LUKS_HEADER_BYTES, (off_t)data->start_bytes) !=
		    (ssize_t)PLAN_LUKS_HEADER_BYTES ||
	    loop_write(back_fd, area, PLAN_LUKS_HEADER_BYTES) < 0)
		return error_replace(ret_error, -EIO, "header: reading it back from %s",
				     target->node);
	snprintf(back_path, sizeof(back_path), "/proc/self/fd/%d", back_fd);
	r = luks_open(back_path, &back);
	if (r < 0)
		return error_replace(ret_error, r, "header: %s does not read back as LUKS2: %s",
				     target->node, strerror(-r));
	if (!streq_ptr(luks_volume_uuid(back), v->e.luks_uuid))
		return error_replace(ret_error, -EIO, "header: %s reads back another volume",
				     target->node);
	r = luks_activate(back, NULL, v->e.recovery_keyslot, recovery_key, strlen(recovery_key));
	if (r < 0)
		return error_replace(ret_error, r,
				     "header: the recovery key does not open the header read "
				     "back from %s: %s",
				     target->node, strerror(-r));
	return 0;
}
