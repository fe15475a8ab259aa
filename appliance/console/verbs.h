/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

int verb_run(int argc, char **argv);
int verb_hash_passphrase(int argc, char **argv);
