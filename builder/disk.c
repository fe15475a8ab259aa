/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boot and disk stages: UKI (uki.c) -> Secure Boot signatures (sign.c) -> ESP
 * (esp.c) -> the raw GPT disk image <name>-<version>.img holding esp, root-a and
 * verity-a, which `dd` writes to a USB stick as it is.
 *
 * Every GUID comes from content, so two builds agree byte for byte:
 *  - root-a's partition GUID is the first 128 bits of the root hash and verity-a's
 *    the last 128 bits (the Discoverable Partitions Specification's convention);
 *  - the disk GUID and the ESP's partition GUID are HMAC-SHA256(sha256(esp image) ||
 *    root hash, "airlock-disk" / "airlock-esp"), marked as v4 UUIDs.
 *
 * The `disk` verb runs these stages from explicit inputs; `build` calls
 * disk_build() after the root and verity stages.
 */
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "builder.h"
#include "core/fd.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/run.h"
#include "ext/crypto.h"
#include "gpt.h"
#include "manifest.h"
#include "slot.h"

#define ROOT_HASH_SIZE 32

void disk_result_done(struct disk_result *r)
{
	r->boot_efi_path = mfree(r->boot_efi_path);
	if (!r)
		return;
	r->uki_path = mfree(r->uki_path);
	r->image_path = mfree(r->image_path);
	r->uki_esp_name = mfree(r->uki_esp_name);
	r->cmdline = mfree(r->cmdline);
}

static int file_size(const char *path, uint64_t *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*ret = (uint64_t)st.st_size;
	return 0;
}

/* Copies a whole file to offset of fd; -EFBIG if it is longer than max_bytes. */
static int copy_at(int fd, uint64_t offset, const char *path, uint64_t max_bytes)
{
	_cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);

	if (in < 0)
		return -errno;
	if (lseek(fd, (off_t)offset, SEEK_SET) < 0)
		return -errno;
	return copy_bytes(in, fd, max_bytes, NULL);
}

static int sign_and_verify(const struct disk_params *p, const char *in, const char *out,
			   char **ret_error)
{
	int r = sign_pe(&p->key, p->source_date_epoch, in, out, ret_error);
	if (r < 0)
		return r;
	return sign_verify(p->key.cert_path, out, ret_error);
}

int disk_link_stable_name(const char *out_dir, const char *name, const char *target)
{
	_cleanup_free_ char *link = NULL, *tmp = NULL;

	if (asprintf(&link, "%s/%s.img", out_dir, name) < 0 ||
	    asprintf(&tmp, "%s/.#%s.img.link", out_dir, name) < 0)
		return -ENOMEM;
	if (streq(path_last(target), path_last(link)))
		return 0;
	(void)unlink(tmp);
	if (symlink(path_last(target), tmp) < 0)
		return -errno;
	if (rename(tmp, link) < 0) {
		int r = -errno;
		(void)unlink(tmp);
		return r;
	}
	return 0;
}

static bool word_is_safe(const char *s)
{
	if (isempty(s) || strlen(s) > 64)
		return false;
	for (const char *c = s; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    *c))
			return false;
	return true;
}

int disk_build_uki(const struct disk_params *p, struct disk_result *ret, char **ret_error)
{
	_cleanup_free_ char *cmdline = NULL, *uki_unsigned = NULL, *uki_out = NULL,
			    *boot_signed = NULL, *boot_efi = NULL;
	_cleanup_rsa_key_ struct rsa_key *pcr_key = NULL;
	char root_hex[2 * ROOT_HASH_SIZE + 1];
	bool sign = p->key.key_path || p->key.cert_path;
	int r;

	if (!word_is_safe(p->name) || !word_is_safe(p->version) || !p->slot || !p->root_hash ||
	    !p->root_path || !p->verity_path || !p->systemd_boot_path || !p->work_dir ||
	    !p->out_dir)
		return error_replace(ret_error, -EINVAL, "disk: missing or unsafe parameters");
	if (sign && (isempty(p->key.key_path) || isempty(p->key.cert_path)))
		return error_replace(
			ret_error, -EINVAL,
			"disk: Secure Boot signing needs both a key and a certificate");
	if (!sign && !p->allow_unsigned)
		return error_replace(ret_error, -EPERM,
				     "disk: no Secure Boot key and certificate given; an unsigned "
				     "image must be asked for explicitly");
	if ((r = mkdir_p(p->work_dir, 0755)) < 0 || (r = mkdir_p(p->out_dir, 0755)) < 0)
		return error_replace(ret_error, r, "disk: creating directories: %s", strerror(-r));
	run_set_source_date_epoch(p->source_date_epoch);
	if (p->pcr_key_path) {
		r = rsa_key_load_private(p->pcr_key_path, &pcr_key);
		if (r < 0)
			return error_replace(ret_error, r, "disk: PCR key '%s': %s",
					     p->pcr_key_path,
					     r == -EKEYREJECTED || r == -EBADMSG ?
						     "not an RSA private key in PEM" :
					     r == -ENOKEY ? "encrypted with a passphrase; give an "
							    "unencrypted key" :
							    strerror(-r));
	}

	/* 1. The UKI. */
	hex_to_buf(p->root_hash, ROOT_HASH_SIZE, root_hex);
	r = uki_cmdline(p->slot, root_hex, p->kernel_cmdline, &cmdline);
	if (r < 0)
		return error_replace(ret_error, r,
				     "disk: bad slot '%s' or kernel-cmdline '%s' (it must not set "
				     "airlock.slot, airlock.roothash, roothash or usrhash)",
				     p->slot, strempty(p->kernel_cmdline));
	uki_unsigned = path_join(p->work_dir, "uki.unsigned.efi");
	uki_out = path_join(p->out_dir, "uki.efi");
	if (!uki_unsigned || !uki_out)
		return -ENOMEM;
	const struct uki_params up = {
		.stub_path = p->stub_path,
		.kernel_path = p->kernel_path,
		.initrd_path = p->initrd_path,
		.os_release_path = p->os_release_path,
		.cmdline = cmdline,
		.uname = p->uname,
		.pcr_key = pcr_key,
	};
	r = uki_build(&up, uki_unsigned, ret_error);
	if (r < 0)
		return r;

	/* 2. Secure Boot: the UKI and systemd-boot. */
	if (sign) {
		r = sign_and_verify(p, uki_unsigned, uki_out, ret_error);
		if (r < 0)
			return r;
		boot_signed = path_join(p->work_dir, "systemd-bootx64.signed.efi");
		if (!boot_signed)
			return -ENOMEM;
		r = sign_and_verify(p, p->systemd_boot_path, boot_signed, ret_error);
		if (r < 0)
			return r;
		boot_efi = TAKE_PTR(boot_signed);
	} else {
		r = copy_file_atomic(uki_unsigned, uki_out, 0644);
		if (r < 0)
			return error_replace(ret_error, r, "disk: '%s': %s", uki_out, strerror(-r));
		boot_efi = strdup(p->systemd_boot_path);
		if (!boot_efi)
			return -ENOMEM;
	}

	*ret = (struct disk_result){
		.uki_path = TAKE_PTR(uki_out),
		.boot_efi_path = TAKE_PTR(boot_efi),
		.cmdline = TAKE_PTR(cmdline),
	};
	return 0;
}

int disk_build_image(const struct disk_params *p, struct disk_result *res, char **ret_error)
{
	_cleanup_free_ char *esp_path = NULL, *image_path = NULL, *esp_name = NULL,
			    *esp_uki_path = NULL, *loader_conf = NULL, *pattern = NULL;
	_cleanup_free_ struct esp_file *files = NULL;
	_cleanup_(disklabel_freep) struct disklabel *layout = NULL;
	_cleanup_atomic_file_ struct atomic_file img = ATOMIC_FILE_INIT;
	char root_uuid[GPT_UUID_STRING_MAX], verity_uuid[GPT_UUID_STRING_MAX],
		disk_uuid[GPT_UUID_STRING_MAX], esp_uuid[GPT_UUID_STRING_MAX];
	uint8_t guid_key[SHA256_DIGEST_SIZE + ROOT_HASH_SIZE];
	uint64_t esp_size, root_size = 0, verity_size = 0;
	size_t n_files;
	int r;

	if (!res->uki_path || !res->boot_efi_path)
		return error_replace(ret_error, -EINVAL, "disk: the UKI was not built");

	/* 3. The ESP. */
	r = slot_entry_format(p->name, p->version, p->slot[0], p->boot_tries ?: SLOT_ENTRY_TRIES, 0,
			      &esp_name);
	if (r == -EINVAL)
		return error_replace(ret_error, r, "disk: '%s' %s slot %s is not a boot entry name",
				     p->name, p->version, p->slot);
	if (r < 0 || asprintf(&esp_uki_path, SLOT_ENTRY_DIR "/%s", esp_name) < 0 ||
	    asprintf(&pattern, "%s-*", p->name) < 0)
		return -ENOMEM;
	r = esp_loader_conf(pattern, &loader_conf);
	if (r < 0)
		return r;
	n_files = 4 + p->n_extra_esp_files;
	files = new0(struct esp_file, n_files);
	if (!files)
		return -ENOMEM;
	files[0] = (struct esp_file){ "EFI/BOOT/BOOTX64.EFI", res->boot_efi_path, NULL };
	files[1] = (struct esp_file){ "EFI/systemd/systemd-bootx64.efi", res->boot_efi_path, NULL };
	files[2] = (struct esp_file){ esp_uki_path, res->uki_path, NULL };
	files[3] = (struct esp_file){ "loader/loader.conf", NULL, loader_conf };
	for (size_t i = 0; i < p->n_extra_esp_files; i++)
		files[4 + i] = p->extra_esp_files[i];
	esp_size = p->esp_size_bytes;
	if (esp_size == 0) {
		r = esp_size_for(files, n_files, &esp_size);
		if (r < 0)
			return error_replace(ret_error, r, "disk: sizing the ESP: %s",
					     strerror(-r));
	}
	esp_path = path_join(p->work_dir, "esp.img");
	if (!esp_path)
		return -ENOMEM;
	r = esp_build(files, n_files, esp_size, p->source_date_epoch, esp_path, ret_error);
	if (r < 0)
		return r;

	/* 4. GUIDs from content. */
	gpt_uuid_from_bytes(p->root_hash, root_uuid);
	gpt_uuid_from_bytes(p->root_hash + 16, verity_uuid);
	r = sha256_file(esp_path, guid_key, NULL);
	if (r < 0)
		return error_replace(ret_error, r, "disk: hashing '%s': %s", esp_path,
				     strerror(-r));
	memcpy(guid_key + SHA256_DIGEST_SIZE, p->root_hash, ROOT_HASH_SIZE);
	if ((r = gpt_uuid_derive(guid_key, sizeof(guid_key), "airlock-disk", disk_uuid)) < 0 ||
	    (r = gpt_uuid_derive(guid_key, sizeof(guid_key), "airlock-esp", esp_uuid)) < 0)
		return r;

	/* 5. The partition table and the disk image. */
	if ((r = file_size(p->root_path, &root_size)) < 0 ||
	    (r = file_size(p->verity_path, &verity_size)) < 0)
		return error_replace(ret_error, r, "disk: root or verity image: %s", strerror(-r));
	char root_name[16], verity_name[16];
	snprintf(root_name, sizeof(root_name), "root-%s", p->slot);
	snprintf(verity_name, sizeof(verity_name), "verity-%s", p->slot);
	const struct gpt_spec specs[] = {
		{ "esp", GPT_TYPE_ESP, esp_uuid, esp_size, 0 },
		{ root_name, GPT_TYPE_ROOT_X86_64, root_uuid, root_size, GPT_ATTR_READ_ONLY },
		{ verity_name, GPT_TYPE_ROOT_X86_64_VERITY, verity_uuid, verity_size,
		  GPT_ATTR_READ_ONLY },
	};
	r = gpt_plan(disk_uuid, specs, ELEMENTSOF(specs), 0, &layout);
	if (r < 0)
		return error_replace(ret_error, r, "disk: partition layout: %s", strerror(-r));

	if (asprintf(&image_path, "%s/%s-%s.img", p->out_dir, p->name, p->version) < 0)
		return -ENOMEM;
	r = atomic_file_open(&img, image_path, 0644);
	if (r < 0)
		return error_replace(ret_error, r, "disk: '%s': %s", image_path, strerror(-r));
	if (ftruncate(img.fd, (off_t)layout->size_bytes) < 0)
		return error_replace(ret_error, -errno, "disk: '%s': %m", img.tmp_path);
	r = gpt_write(img.tmp_path, layout);
	if (r < 0)
		return error_replace(ret_error, r, "disk: writing the GPT: %s", strerror(-r));
	const char *payloads[] = { esp_path, p->root_path, p->verity_path };
	for (size_t i = 0; i < ELEMENTSOF(payloads); i++) {
		r = copy_at(img.fd, layout->parts[i].start_bytes, payloads[i],
			    layout->parts[i].size_bytes);
		if (r < 0)
			return error_replace(ret_error, r,
					     "disk: copying '%s' into partition %s: %s",
					     payloads[i], layout->parts[i].name, strerror(-r));
	}
	r = atomic_file_commit(&img);
	if (r < 0)
		return error_replace(ret_error, r, "disk: '%s': %s", image_path, strerror(-r));
	if (p->link_stable_name) {
		r = disk_link_stable_name(p->out_dir, p->name, image_path);
		if (r < 0)
			return error_replace(ret_error, r, "disk: linking %s.img: %s", p->name,
					     strerror(-r));
	}

	res->image_path = TAKE_PTR(image_path);
	res->uki_esp_name = TAKE_PTR(esp_name);
	res->image_size_bytes = layout->size_bytes;
	return 0;
}

int disk_build(const struct disk_params *p, struct disk_result *ret, char **ret_error)
{
	struct disk_result res = {};
	int r = disk_build_uki(p, &res, ret_error);

	if (r >= 0)
		r = disk_build_image(p, &res, ret_error);
	if (r < 0) {
		disk_result_done(&res);
		return r;
	}
	*ret = res;
	return 0;
}

/* ---- the disk verb ------------------------------------------------------------------------ */

static void disk_help(void)
{
	printf("Usage: airlock-build disk [OPTIONS]\n"
	       "\n"
	       "Builds the UKI, signs it and systemd-boot for Secure Boot, builds the ESP and\n"
	       "writes the raw GPT disk image OUT/<name>-<version>.img (and OUT/<name>.img\n"
	       "linking to it) from a root image, its verity hash tree and an initramfs.\n"
	       "\n"
	       "  --manifest FILE      take name, version and kernel-cmdline from this manifest\n"
	       "  --name NAME --version VERSION --kernel-cmdline WORDS   (instead, or to override)\n"
	       "  --tree DIR           image tree: stub, systemd-boot, os-release and the kernel\n"
	       "                       (boot/vmlinuz-*) are taken from it unless given below\n"
	       "  --stub FILE --systemd-boot FILE --os-release FILE --kernel FILE\n"
	       "  --initrd FILE        the initramfs\n"
	       "  --root FILE          root.squashfs\n"
	       "  --verity FILE        root.verity (its hash tree)\n"
	       "  --roothash HEX       the root hash of --root\n"
	       "  --key FILE --cert FILE   Secure Boot signing key (PEM) and certificate\n"
	       "  --unsigned           build without Secure Boot signatures (development only)\n"
	       "  --pcr-key FILE       sign the UKI's PCR 11 value with this RSA key (PEM): the\n"
	       "                       UKI carries .pcrpkey and .pcrsig (default: neither, and\n"
	       "                       the TPM releases no data volume key to this UKI)\n"
	       "  --slot a|b           slot of the UKI (default a)\n"
	       "  --esp-size SIZE      ESP size (default: sized to fit, at least 64M)\n"
	       "  --source-date-epoch N   default: $SOURCE_DATE_EPOCH\n"
	       "  --manifest-json FILE the release's manifest.json, put on the ESP as\n"
	       "                       airlock/manifest.json for airlock-install\n"
	       "  --out DIR            output directory (default: out)\n");
}

/* Exactly one boot/vmlinuz-* in the tree. */
static int find_kernel(const char *tree, char **ret)
{
	_cleanup_free_ char *pattern = path_join(tree, "boot/vmlinuz-*");
	glob_t g = {};
	int r;

	if (!pattern)
		return -ENOMEM;
	r = glob(pattern, 0, NULL, &g);
	if (r != 0 || g.gl_pathc != 1) {
		r = r == GLOB_NOMATCH || r == 0 ? (g.gl_pathc > 1 ? -ENOTUNIQ : -ENOENT) : -EIO;
		globfree(&g);
		return r;
	}
	*ret = strdup(g.gl_pathv[0]);
	globfree(&g);
	return *ret ? 0 : -ENOMEM;
}

int verb_disk(int argc, char *argv[])
{
	enum {
		ARG_MANIFEST = 0x100,
		ARG_NAME,
		ARG_VERSION,
		ARG_CMDLINE,
		ARG_TREE,
		ARG_STUB,
		ARG_BOOT,
		ARG_OSREL,
		ARG_KERNEL,
		ARG_INITRD,
		ARG_ROOT,
		ARG_VERITY,
		ARG_ROOTHASH,
		ARG_KEY,
		ARG_CERT,
		ARG_UNSIGNED,
		ARG_PCR_KEY,
		ARG_SLOT,
		ARG_ESP_SIZE,
		ARG_SDE,
		ARG_OUT,
		ARG_MANIFEST_JSON,
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "manifest", required_argument, NULL, ARG_MANIFEST },
		{ "name", required_argument, NULL, ARG_NAME },
		{ "version", required_argument, NULL, ARG_VERSION },
		{ "kernel-cmdline", required_argument, NULL, ARG_CMDLINE },
		{ "tree", required_argument, NULL, ARG_TREE },
		{ "stub", required_argument, NULL, ARG_STUB },
		{ "systemd-boot", required_argument, NULL, ARG_BOOT },
		{ "os-release", required_argument, NULL, ARG_OSREL },
		{ "kernel", required_argument, NULL, ARG_KERNEL },
		{ "initrd", required_argument, NULL, ARG_INITRD },
		{ "root", required_argument, NULL, ARG_ROOT },
		{ "verity", required_argument, NULL, ARG_VERITY },
		{ "roothash", required_argument, NULL, ARG_ROOTHASH },
		{ "key", required_argument, NULL, ARG_KEY },
		{ "cert", required_argument, NULL, ARG_CERT },
		{ "unsigned", no_argument, NULL, ARG_UNSIGNED },
		{ "pcr-key", required_argument, NULL, ARG_PCR_KEY },
		{ "slot", required_argument, NULL, ARG_SLOT },
		{ "esp-size", required_argument, NULL, ARG_ESP_SIZE },
		{ "source-date-epoch", required_argument, NULL, ARG_SDE },
		{ "out", required_argument, NULL, ARG_OUT },
		{ "manifest-json", required_argument, NULL, ARG_MANIFEST_JSON },
		{},
	};
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_free_ char *error = NULL, *stub = NULL, *boot = NULL, *osrel = NULL,
			    *kernel = NULL, *work = NULL;
	_cleanup_free_ uint8_t *root_hash = NULL;
	_cleanup_(disk_result_done) struct disk_result res = {};
	const char *manifest = NULL, *name = NULL, *version = NULL, *cmdline = NULL, *tree = NULL,
		   *roothash = NULL, *sde = getenv("SOURCE_DATE_EPOCH");
	struct disk_params p = {
		.slot = "a", .boot_tries = 3, .out_dir = "out", .link_stable_name = true
	};
	/* --manifest-json: where airlock-install reads the name, version and sizes */
	struct esp_file manifest_json = { "airlock/manifest.json", NULL, NULL };
	size_t hash_size = 0;
	uint64_t v;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			disk_help();
			return 0;
		case ARG_MANIFEST:
			manifest = optarg;
			break;
		case ARG_NAME:
			name = optarg;
			break;
		case ARG_VERSION:
			version = optarg;
			break;
		case ARG_CMDLINE:
			cmdline = optarg;
			break;
		case ARG_TREE:
			tree = optarg;
			break;
		case ARG_STUB:
			p.stub_path = optarg;
			break;
		case ARG_BOOT:
			p.systemd_boot_path = optarg;
			break;
		case ARG_OSREL:
			p.os_release_path = optarg;
			break;
		case ARG_KERNEL:
			p.kernel_path = optarg;
			break;
		case ARG_INITRD:
			p.initrd_path = optarg;
			break;
		case ARG_ROOT:
			p.root_path = optarg;
			break;
		case ARG_VERITY:
			p.verity_path = optarg;
			break;
		case ARG_ROOTHASH:
			roothash = optarg;
			break;
		case ARG_KEY:
			p.key.key_path = optarg;
			break;
		case ARG_CERT:
			p.key.cert_path = optarg;
			break;
		case ARG_UNSIGNED:
			p.allow_unsigned = true;
			break;
		case ARG_PCR_KEY:
			p.pcr_key_path = optarg;
			break;
		case ARG_SLOT:
			p.slot = optarg;
			break;
		case ARG_ESP_SIZE:
			if (parse_size(optarg, &p.esp_size_bytes) < 0 ||
			    p.esp_size_bytes % (1024 * 1024) != 0) {
				log_error("disk: --esp-size '%s' is not a whole number of MiB",
					  optarg);
				return 2;
			}
			break;
		case ARG_SDE:
			sde = optarg;
			break;
		case ARG_OUT:
			p.out_dir = optarg;
			break;
		case ARG_MANIFEST_JSON:
			manifest_json.source = optarg;
			p.extra_esp_files = &manifest_json;
			p.n_extra_esp_files = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc) {
		log_error("disk: unexpected argument '%s'; see 'airlock-build disk --help'",
			  argv[optind]);
		return 2;
	}
	if (manifest) {
		r = manifest_load(manifest, &m, &error);
		if (r < 0)
			return log_error("%s", error ?: strerror(-r)), 1;
		name = name ?: m->name;
		version = version ?: m->version;
		cmdline = cmdline ?: m->kernel_cmdline;
	}
	p.name = name;
	p.version = version;
	p.kernel_cmdline = cmdline;
	if (tree) {
		if (!p.stub_path &&
		    (p.stub_path = stub = path_join(tree, "usr/lib/systemd/boot/"
							  "efi/linuxx64.efi.stub")) == NULL)
			return log_oom();
		if (!p.systemd_boot_path &&
		    (p.systemd_boot_path = boot = path_join(
			     tree, "usr/lib/systemd/boot/efi/systemd-bootx64.efi")) == NULL)
			return log_oom();
		if (!p.os_release_path &&
		    (p.os_release_path = osrel = path_join(tree, "usr/lib/os-release")) == NULL)
			return log_oom();
		if (!p.kernel_path) {
			r = find_kernel(tree, &kernel);
			if (r < 0)
				return log_error_errno(r, "disk: %s/boot/vmlinuz-*: %s", tree,
						       r == -ENOTUNIQ ? "more than one kernel" :
									"no kernel"),
				       1;
			p.kernel_path = kernel;
		}
	}
	if (!name || !version || !p.stub_path || !p.systemd_boot_path || !p.os_release_path ||
	    !p.kernel_path || !p.initrd_path || !p.root_path || !p.verity_path || !roothash) {
		log_error("disk: need a name and version (--manifest or --name/--version), the "
			  "stub, systemd-boot, os-release and kernel (--tree or each), --initrd, "
			  "--root, --verity and --roothash");
		return 2;
	}
	if (unhexmem(roothash, strlen(roothash), &root_hash, &hash_size) < 0 ||
	    hash_size != ROOT_HASH_SIZE) {
		log_error("disk: --roothash must be %d hex digits", 2 * ROOT_HASH_SIZE);
		return 2;
	}
	p.root_hash = root_hash;
	if (isempty(sde) || safe_atou64(sde, &v) < 0 || v > INT64_MAX) {
		log_error("disk: give --source-date-epoch or SOURCE_DATE_EPOCH (reproducible "
			  "timestamps need one)");
		return 2;
	}
	p.source_date_epoch = (int64_t)v;
	if (p.allow_unsigned && !p.key.key_path)
		log_warning("disk: building WITHOUT Secure Boot signatures (--unsigned): "
			    "for development only");

	r = mkdir_p(p.out_dir, 0755);
	if (r < 0)
		return log_error_errno(r, "disk: '%s': %m", p.out_dir), 1;
	r = mkdtemp_in(p.out_dir, ".disk-work.", &work);
	if (r < 0)
		return log_error_errno(r, "disk: work directory in '%s': %m", p.out_dir), 1;
	p.work_dir = work;

	r = disk_build(&p, &res, &error);
	(void)rm_rf(work);
	if (r < 0)
		return log_error("%s", error ?: strerror(-r)), 1;
	{
		char sz[FORMAT_BYTES_MAX];
		progress_line("disk: %s (%s), UKI %s, command line: %s", res.image_path,
			      format_bytes(sz, sizeof(sz), res.image_size_bytes), res.uki_esp_name,
			      res.cmdline);
	}
	return 0;
}
