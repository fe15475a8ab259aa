/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console's screens, in menu order: each is a file of its own defining one struct
 * console_screen; a later service adds its screen here and nowhere else. The first is
 * the one an unlock opens.
 */
#include "console.h"

const struct console_screen *const console_screens[] = {
	&screen_dashboard, &screen_slots,      &screen_tpm,
	&screen_ledger,	   &screen_passphrase, &screen_power,
};

const size_t console_screens_n = ELEMENTSOF(console_screens);
