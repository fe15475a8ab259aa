/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /var: the data volume of an installed disk (partition "data", LUKS2 holding ext4),
 * opened with the key the TPM unseals for a signed UKI, or with the recovery key typed
 * on a console when the TPM refuses; a tmpfs on the installer medium, which has no
 * data partition. PCR 11 is capped once the TPM was asked, on every boot that has one.
 */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include "core/fd.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/strv.h"
#include "dataunlock.h"
#include "ext/luks.h"
#include "ext/tpm.h"
#include "init.h"
#include "osrelease.h"
#include "pcr.h"

#define TPM_DEVICE "/dev/tpmrm0"
/* The firmware's ACPI table that announces a TPM 2.0 (tpm_tis or tpm_crb binds to it). */
#define ACPI_TPM2_TABLE "/sys/firmware/acpi/tables/TPM2"
#define TPM_WAIT_SEC 5.0
/* Where systemd-stub 252 puts the UKI's .pcrsig and .pcrpkey in the initramfs. */
#define STUB_PCRSIG "/.extra/tpm2-pcr-signature.json"
#define STUB_PCRPKEY "/.extra/tpm2-pcr-public-key.pem"
#define PCR_FILE_MAX (1024U * 1024U)
#define POLL_NSEC (50 * 1000 * 1000)

static void say_line(const char *line, void *userdata)
{
	(void)userdata;
	init_console_line("airlock-init: %s", line);
}

/*
 * The running UKI's .pcrsig or .pcrpkey as systemd-stub passed it, also kept in
 * /run/airlock (the initramfs is freed at the switch; the installer and a later
 * re-seal read them there). NULL if the UKI has none.
 */
static char *take_stub_file(const char *path, const char *keep, size_t *ret_size)
{
	_cleanup_free_ char *data = NULL;
	size_t size = 0;
	int r;

	r = read_full_file(path, PCR_FILE_MAX, &data, &size);
	if (r == -ENOENT) {
		log_debug("%s: none (the UKI carries no such section)", path);
		*ret_size = 0;
		return NULL;
	}
	if (r < 0)
		init_fatal("cannot read %s: %s", path, strerror(-r));
	r = write_file_atomic(keep, data, size, 0444);
	if (r < 0)
		init_fatal("cannot copy %s to %s: %s", path, keep, strerror(-r));
	*ret_size = size;
	return TAKE_PTR(data);
}

/* The TPM's TCTI once its device is there, or NULL and *ret_reason. */
static const char *wait_for_tpm(const char **ret_reason)
{
	double start = init_now();

	if (access(TPM_DEVICE, F_OK) < 0 && access(ACPI_TPM2_TABLE, F_OK) < 0) {
		*ret_reason = "there is no TPM 2.0 (the firmware has no ACPI TPM2 table)";
		return NULL;
	}
	while (access(TPM_DEVICE, F_OK) < 0) {
		if (init_now() - start >= TPM_WAIT_SEC) {
			*ret_reason = "the firmware announces a TPM 2.0 but " TPM_DEVICE
				      " did not appear (no tpm_tis or tpm_crb driver for it?)";
			return NULL;
		}
		nanosleep(&(struct timespec){ .tv_nsec = POLL_NSEC }, NULL);
	}
	log_debug(TPM_DEVICE " there after %.2f s", init_now() - start);
	return "device:" TPM_DEVICE;
}

static void record_data(enum data_unlock_method m)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (asprintf(&text, "%s\n", data_unlock_method_to_string(m)) < 0)
		init_fatal("out of memory");
	r = write_file_atomic(DATA_METHOD_PATH, text, strlen(text), 0644);
	if (r < 0)
		init_fatal("cannot record how /var was provided in " DATA_METHOD_PATH ": %s",
			   strerror(-r));
}

/* No data partition: the installer medium. */
static void setup_var_tmpfs(const char *tcti)
{
	int r;

	/* The medium runs the same signed UKI as an installed disk: cap PCR 11 here too,
	 * or a process on the medium could unseal an installed data volume. */
	if (tcti) {
		_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;

		r = tpm_context_new(tcti, &t);
		if (r >= 0)
			r = pcr_cap_kernel_boot(t);
		if (r < 0)
			init_console_line("airlock-init: cannot cap PCR %d on %s: %s, continuing",
					  PCR_KERNEL_BOOT, TPM_DEVICE, strerror(-r));
	}
	if (mount("tmpfs", SYSROOT "/var", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME,
		  "mode=0755,size=50%") < 0)
		init_fatal("cannot mount a tmpfs on " SYSROOT "/var: %m (does the root image have "
			   "/var?)");
	r = write_file_atomic(INSTALLER_MEDIUM_PATH, "", 0, 0644);
	if (r < 0)
		init_fatal("cannot create " INSTALLER_MEDIUM_PATH ": %s", strerror(-r));
	record_data(DATA_UNLOCK_NONE);
}

/* The active consoles, opened for reading the recovery key; /dev/console if none opens. */
static size_t open_key_consoles(int fds[static 8])
{
	_cleanup_free_ char *active = NULL;
	_cleanup_strv_free_ char **names = NULL;
	size_t n = 0;

	if (read_full_file("/sys/class/tty/console/active", 4096, &active, NULL) >= 0 &&
	    strv_split(active, " \n", &names) >= 0)
		STRV_FOREACH(name, names) {
			_cleanup_free_ char *dev = NULL;
			int fd;

			if (n >= 8 || strchr(*name, '/') || asprintf(&dev, "/dev/%s", *name) < 0)
				continue;
			/* O_NONBLOCK: a serial port without CLOCAL must not wait for carrier
			 * here; secret_read_line() polls before it reads. */
			fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0)
				fds[n++] = fd;
		}
	if (n == 0) {
		int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

		fds[n++] = fd >= 0 ? fd : STDIN_FILENO;
	}
	return n;
}

/* The data partition's node, once it exists. */
static const char *wait_for_node(const struct partition_info *part, const char *disk,
				 unsigned timeout_sec)
{
	double start = init_now();

	if (!part->node)
		init_fatal("the data partition (partition %u of %s) has no device node in sysfs",
			   part->number, disk);
	while (access(part->node, F_OK) < 0) {
		if (init_now() - start >= timeout_sec)
			init_fatal("the data partition %s did not appear after %u s "
				   "(airlock.device_timeout=)",
				   part->node, timeout_sec);
		nanosleep(&(struct timespec){ .tv_nsec = POLL_NSEC }, NULL);
	}
	return part->node;
}

/* The mounted root's security version (lib/tpmfloor.h), from its os-release. */
static uint64_t read_security_version(void)
{
	_cleanup_free_ char *text = NULL;
	uint64_t v;
	int r;

	r = read_full_file(SYSROOT "/usr/lib/os-release", READ_FULL_MAX_DEFAULT, &text, NULL);
	if (r < 0)
		init_fatal("cannot read " SYSROOT "/usr/lib/os-release: %s", strerror(-r));
	r = osrelease_security_version(text, &v);
	if (r < 0)
		init_fatal(SYSROOT "/usr/lib/os-release: %s is not a whole number",
			   OSRELEASE_SECURITY_VERSION);
	return v;
}

void init_setup_var(const struct boot_args *a, const struct init_root *root)
{
	const char *dm = "/dev/mapper/" DATA_DM_NAME;
	_cleanup_(disk_info_freep) struct disk_info *disk = NULL;
	_cleanup_free_ char *pcrsig = NULL, *pcrpkey = NULL, *error = NULL;
	struct data_unlock_result res = {};
	size_t pcrsig_size, pcrpkey_size, idx, n_fds;
	const char *tcti, *no_tpm = NULL, *node;
	uint64_t security_version;
	int fds[8], r;
	double start;

	r = mkdir_p("/run/airlock", 0755);
	if (r < 0)
		init_fatal("cannot create /run/airlock: %s", strerror(-r));
	pcrsig = take_stub_file(STUB_PCRSIG, RUN_PCRSIG_PATH, &pcrsig_size);
	pcrpkey = take_stub_file(STUB_PCRPKEY, RUN_PCRPKEY_PATH, &pcrpkey_size);

	r = disk_info_probe(root->disk_node, &disk);
	if (r < 0)
		init_fatal("cannot read the partition table of %s (the disk of root-%c): %s",
			   root->disk_node, root->slot, strerror(-r));
	r = data_partition_find(disk, &idx, &error);
	if (r == -ENOENT) {
		log_info("%s has no data partition (the installer medium): /var is a tmpfs",
			 root->disk_node);
		setup_var_tmpfs(wait_for_tpm(&no_tpm));
		return;
	}
	if (r < 0)
		init_fatal("%s", strna(error));
	node = wait_for_node(&disk->partitions[idx], root->disk_node, a->device_timeout_sec);
	tcti = wait_for_tpm(&no_tpm);

	security_version = read_security_version();
	n_fds = open_key_consoles(fds);
	start = init_now();
	r = data_unlock(
		&(struct data_unlock_params){
			.node = node,
			.name = DATA_DM_NAME,
			.tcti = tcti,
			.no_tpm_reason = no_tpm,
			.pcrsig = pcrsig,
			.pcrsig_size = pcrsig_size,
			.pcrpkey = pcrpkey,
			.pcrpkey_size = pcrpkey_size,
			.cap_pcr = true,
			.security_version = security_version,
			.key_fds = fds,
			.n_key_fds = n_fds,
			.tries = DATA_KEY_TRIES,
			.say = say_line,
		},
		&res, &error);
	for (size_t i = 0; i < n_fds; i++)
		if (fds[i] > STDERR_FILENO)
			close(fds[i]);
	if (r < 0)
		init_fatal("%s", error ?: "cannot open the data volume");
	if (access(dm, F_OK) < 0)
		init_fatal("the data volume %s was opened but %s did not appear: %m", node, dm);

	/* No fsck here: ext4 replays its journal itself. A volume that opens but does not
	 * mount stops the boot: never a system whose /var silently is not the volume. */
	if (mount(dm, SYSROOT "/var", "ext4", MS_NOSUID | MS_NODEV, NULL) < 0) {
		int e = errno;

		(void)luks_deactivate(DATA_DM_NAME);
		errno = e;
		init_fatal("the data volume %s opened (%s) but its ext4 file system cannot be "
			   "mounted on " SYSROOT "/var: %m",
			   node, data_unlock_method_to_string(res.method));
	}
	record_data(res.method);
	/* For airlock-tpm boot-report, which records a policy mismatch in the ledger. */
	r = data_unlock_report_write(DATA_UNLOCK_REPORT_PATH, &res);
	if (r < 0)
		init_fatal("cannot write " DATA_UNLOCK_REPORT_PATH ": %s", strerror(-r));
	/* With the TPM, the time is the unseal at boot and the activation; with the recovery
	 * key it includes the typing. */
	log_info("data volume %s opened by %s (keyslot %d) in %.2f s and mounted on /var%s", node,
		 res.method == DATA_UNLOCK_TPM ? "the TPM" : "the recovery key", res.keyslot,
		 init_now() - start, res.capped ? "; PCR 11 capped" : "");
}
