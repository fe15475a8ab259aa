/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-tpm boot-report (airlock-tpm-report.service, once per boot, after the ledger
 * daemon's socket): what airlock-init left in /run/airlock/tpm-unlock.json. When the
 * recovery key opened the data volume because the TPM's policy no longer matches
 * (PCR 7 changed, or the image is not signed for the enrolled key), it records
 * tpm.policy-mismatch with the PCRs that differ and their values, and says on the console
 * what to do; another refusal (lockout, no TPM, a cleared TPM) is tpm.unseal-refused.
 * A boot the TPM opened records nothing here.
 */
#include <getopt.h>
#include <stdio.h>

#include "core/log.h"
#include "pcr.h"
#include "tpm-tool.h"

static void help(void)
{
	printf("Usage: airlock-tpm boot-report [OPTIONS]\n"
	       "\n"
	       "Record in the ledger why this boot needed the recovery key (run at boot).\n"
	       "\n"
	       "  -h --help               this text\n"
	       "      --report FILE       what airlock-init wrote (default " DATA_UNLOCK_REPORT_PATH
	       ")\n" TPM_COMMON_HELP);
}

/* The first token's PCR facts, when the TPM and the header can be read. */
static void add_token_facts(struct json_object *p, const struct tpm_options *o, const char *device,
			    uint32_t *ret_changed)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	_cleanup_(tpm2luks_state_freep) struct tpm2luks_state *s = NULL;
	struct tpm_image_keys keys = {};
	int r;

	*ret_changed = 0;
	if (luks_open(device, &v) < 0 || tpm_context_new(o->tcti, &t) < 0 ||
	    tpm_image_keys_read(o, &keys) < 0)
		return;
	r = tpm2luks_state_read(v, t,
				&(struct tpm2luks_unlock_params){
					.pcrsig = keys.pcrsig,
					.pcrsig_size = keys.pcrsig_size,
					.pcrpkey = keys.pcrpkey,
					.pcrpkey_size = keys.pcrpkey_size,
				},
				&s);
	tpm_image_keys_done(&keys);
	if (r < 0 || s->n_tokens == 0 || s->tokens[0].error)
		return;
	*ret_changed = s->tokens[0].changed_pcr_mask;
	(void)json_add(p, "pcrs_now", tpm2_pcr_values_json(&s->tokens[0].now));
	if (s->tokens[0].sealed.mask)
		(void)json_add(p, "pcrs_sealed", tpm2_pcr_values_json(&s->tokens[0].sealed));
	(void)json_add_int(p, "signatures", s->tokens[0].n_signatures);
}

int verb_boot_report(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "report", required_argument, NULL, ARG_VERB_FIRST },
		TPM_COMMON_OPTIONS,
		{},
	};
	struct tpm_options o = TPM_OPTIONS_INIT;
	const char *report = DATA_UNLOCK_REPORT_PATH;
	_cleanup_free_ char *error = NULL, *device = NULL, *pcrs = NULL;
	_cleanup_json_ struct json_object *p = NULL;
	struct ledger_recorder recorder;
	struct data_unlock_result res;
	uint32_t changed, mask;
	bool mismatch;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (tpm_options_take(&o, c, optarg))
			continue;
		if (c == 'h') {
			help();
			return EXIT_SUCCESS;
		}
		if (c == ARG_VERB_FIRST) {
			report = optarg;
			continue;
		}
		return EXIT_USAGE;
	}
	if (optind != argc)
		return usage_error("boot-report", "unexpected argument '%s'", argv[optind]);

	r = data_unlock_report_read(report, &res, &error);
	if (r == -ENOENT) {
		log_info("%s: none (this boot has no data volume, or airlock-init did not open "
			 "it): nothing to report",
			 report);
		return EXIT_SUCCESS;
	}
	if (r < 0) {
		log_error("%s", strna(error));
		return EXIT_FAILURE;
	}
	if (res.method != DATA_UNLOCK_RECOVERY) {
		log_debug("the data volume was opened by %s: nothing to report",
			  data_unlock_method_to_string(res.method));
		return EXIT_SUCCESS;
	}

	r = ledger_recorder_open(&recorder, o.ledger,
				 "this report is NOT recorded in an audit ledger");
	if (r < 0)
		return EXIT_FAILURE;
	p = json_object_new_object();
	if (!p)
		return log_oom();
	mismatch = data_unlock_policy_mismatch(res.refusal);
	r = json_add_string(p, "refusal", tpm_refusal_to_name(res.refusal));
	if (r >= 0)
		r = json_add_string(p, "reason", res.reason);
	if (r < 0)
		return log_oom();
	if (tpm_volume_node(&o, &device) >= 0) {
		(void)json_add_string(p, "device", device);
		add_token_facts(p, &o, device, &changed);
	} else
		changed = 0;
	mask = changed ?:
			 data_unlock_refusal_pcrs(res.refusal, UINT32_C(1) << 7,
						  UINT32_C(1) << PCR_KERNEL_BOOT);
	if (mismatch && json_add(p, "differ", tpm2_pcr_mask_json(mask)) < 0)
		return log_oom();
	pcrs = tpm_pcr_mask_string(mask);

	if (mismatch)
		printf("airlock-tpm: this boot needed the recovery key: the TPM's policy no longer "
		       "matches (PCR %s differs: %s). Re-seal with `airlock-tpm reseal` and the "
		       "recovery key, and the next boot opens /var by itself.\n",
		       strna(pcrs), res.reason);
	else
		printf("airlock-tpm: this boot needed the recovery key: %s (%s)\n",
		       tpm_refusal_to_string(res.refusal) ?: "the TPM did not open the volume",
		       res.reason);
	fflush(stdout);
	r = ledger_recorder_append(
		&recorder, mismatch ? "tpm.policy-mismatch" : "tpm.unseal-refused", TAKE_PTR(p));
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
