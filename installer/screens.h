/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Drawing the installer's screens (lib/ext/tui) from the flow's state and what the
 * installer knows. 80x24 is the design size; wider terminals get the same layout.
 */

#include "flow.h"
#include "installer.h"

struct step_view {
	uint64_t done;
	uint64_t total;
	double started; /* progress_now() when the step began, 0 if not yet */
	double finished; /* when it ended, 0 if not yet */
};

struct screen_view {
	const struct flow *flow;
	const struct install_source *source;
	const struct install_disk *disks;
	const struct install_plan *const *plans; /* per disk; NULL for refused ones */
	size_t n_disks;
	const struct tpm_facts *tpm;
	struct step_view steps[_STEP_MAX];
	const char *error; /* FAILED: what went wrong */
};

void screens_draw(const struct screen_view *v);
