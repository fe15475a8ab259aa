/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The version of Airlock's own programs (not of an image they build). */
#define AIRLOCK_VERSION "0.1.0"
