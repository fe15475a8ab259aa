/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Appending to the ledger through the daemon (airlock-ledger(8), PROTOCOL).
 *
 * The daemon listens on a Unix SOCK_SEQPACKET socket. Each packet a client sends is one
 * request, a JSON object:
 *
 *   {"type":"update.installed","payload":{...}}
 *
 * and each packet it gets back is the reply to its oldest unanswered request:
 *
 *   {"ok":true,"seq":42,"hash":"<hex>"}                    durable when sent
 *   {"ok":false,"errno":13,"error":"why, in words"}         nothing was recorded
 *
 * A client may send several requests before reading replies (pipelining). Who the
 * client is comes from the kernel (SO_PEERCRED and the client's cgroup), never from
 * the request: a request with any other field is refused.
 *
 * Other programs append with one call:
 *
 *   r = ledger_client_append(NULL, "update.installed", payload, &seq, &error);
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/json.h"
#include "ledger.h"

#define LEDGER_SOCKET_DEFAULT "/run/airlock/ledger.sock"
#define LEDGER_PACKET_MAX (LEDGER_PAYLOAD_MAX + 4096U)
#define LEDGER_CLIENT_TIMEOUT_SEC 60

int ledger_request_format(const char *type, struct json_object *payload, char **ret,
			  size_t *ret_size);
/*
 * Parses a request from an untrusted client. -EBADMSG (or -E2BIG, -EPERM for a
 * reserved type) and a reason in *ret_error when it is not acceptable.
 */
int ledger_request_parse(const char *buf, size_t n, char **ret_type,
			 struct json_object **ret_payload, char **ret_error);

/* error 0: success (seq, hash); otherwise a negative errno and a message. */
int ledger_reply_format(int error, const char *message, uint64_t seq,
			const uint8_t hash[LEDGER_HASH_SIZE], char **ret, size_t *ret_size);
/*
 * 0 and the sequence number for a success; the negative errno of a refusal and its
 * message in *ret_message; -EBADMSG for a reply that makes no sense.
 */
int ledger_reply_parse(const char *buf, size_t n, uint64_t *ret_seq, char **ret_message);

struct ledger_client;
/* NULL: LEDGER_SOCKET_DEFAULT. */
int ledger_client_connect(const char *socket_path, struct ledger_client **ret);
int ledger_client_send(struct ledger_client *c, const char *type, struct json_object *payload);
/* The reply to the oldest request sent and not yet answered, as ledger_reply_parse(). */
int ledger_client_receive(struct ledger_client *c, uint64_t *ret_seq, char **ret_error);
struct ledger_client *ledger_client_free(struct ledger_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ledger_client *, ledger_client_free);

/*
 * Whether a ledger daemon listens at socket_path (NULL: LEDGER_SOCKET_DEFAULT), for tools
 * that record their steps: 1 if its socket is there; 0 if there is none (a build host, a
 * --disk run), after logging once "no ledger daemon here (no socket at PATH): UNRECORDED";
 * a negative errno, logged, if the path cannot be checked or is not a socket. *ret_path
 * (optional) is the path used.
 */
int ledger_client_probe(const char *socket_path, const char *unrecorded, const char **ret_path);

/*
 * Connects, appends one record, waits until it is durable. On refusal, the negative
 * errno and the daemon's reason in *ret_error (optional).
 */
int ledger_client_append(const char *socket_path, const char *type, struct json_object *payload,
			 uint64_t *ret_seq, char **ret_error);

/*
 * A tool's records (airlock-update, airlock-tpm): where no ledger daemon runs (a build
 * host, a --disk or --device run), that is said once at open and each record is logged
 * instead; where one runs, a record it does not take is an error (logged and returned).
 */
struct ledger_recorder {
	const char *socket;
	bool up;
};
int ledger_recorder_open(struct ledger_recorder *r, const char *socket_path,
			 const char *unrecorded);
/* Takes payload (NULL: out of memory). */
int ledger_recorder_append(struct ledger_recorder *r, const char *type,
			   struct json_object *payload);
