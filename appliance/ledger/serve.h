/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * airlock-ledger serve, inside: the server and its clients (serve.c runs the loop and
 * the writer; serve-clients.c admits, reads, answers, throttles and expires clients).
 */

#include <stdbool.h>
#include <stdint.h>

#include "ledger-peer.h"
#include "ledger-policy.h"
#include "ledger.h"

/* Connections at once, and how many of them clients that no policy rule names may hold:
 * the rest are kept for root and the appliance's services, whatever others do. */
#define CLIENTS_MAX 1024
#define CLIENTS_UNNAMED_MAX 768
#define CLIENTS_PER_UID_DEFAULT 16U
/* Replies a client may leave unread before the daemon stops reading its requests. */
#define REPLIES_QUEUED_MAX 64
#define IDLE_TIMEOUT_DEFAULT 30U
/* A warning about one client (or one kind of refusal) is said at most once per interval;
 * what was held back is counted in the next one, and when the client goes. */
#define WARN_INTERVAL_SEC 10.0
#define PACKETS_PER_CLIENT_ROUND 64
#define MAX_BATCH_DEFAULT 256U
#define CHECKPOINT_INTERVAL_DEFAULT 60U
#define GROUPS_MAX 256

struct serve_limits {
	unsigned max_batch; /* records per commit at most */
	unsigned clients_per_uid; /* connections at once per uid that no rule names */
	unsigned idle_timeout; /* seconds */
	enum ledger_peer_method peer_method; /* _INVALID: the best the kernel has */
};

struct ratelimit {
	double until;
	unsigned suppressed;
};

struct reply {
	char *data;
	size_t size;
	bool pending; /* a placeholder until the batch holding its record is durable */
};

struct client {
	int fd;
	struct ledger_actor actor;
	uint32_t groups[GROUPS_MAX];
	size_t n_groups;
	struct reply *out; /* replies in request order, from out_head on */
	size_t out_head, n_out, out_cap;
	bool eof;
	bool dead;
	bool named; /* a policy rule names it (or root): it has a reserved slot, no idle limit */
	bool unnamed_counted; /* counted in server.n_unnamed */
	bool want_out; /* EPOLLOUT is armed */
	bool throttled; /* EPOLLIN is not armed: too many of its replies are unread */
	double last_active; /* its last request, or when it connected */
	double stalled_since; /* its unread replies fill the queue and it reads none (or 0) */
	struct ratelimit warn;
};

struct pending {
	struct client *c;
	size_t index; /* of its placeholder in c->out */
	uint64_t seq;
	uint8_t hash[LEDGER_HASH_SIZE];
};

/* The high-water mark in a TPM counter (serve-mark.c). */
struct mark_state {
	bool enabled;
	uint32_t index;
	char index_hex[11]; /* "0x01a1a701" */
	const char *auth_file, *tcti;
	unsigned interval; /* seconds between marks at most once */
	char *auth; /* secret memory */
	size_t auth_size;
	uint64_t value; /* the counter as last read or incremented */
	double last_write;
	bool rolled_back; /* appends refused until acknowledged */
	bool force_next; /* a mark after this round (the acknowledgment) */
	char *refusal; /* the reply to appends while rolled back */
	const struct ledger_actor *self;
};
#define MARK_INTERVAL_DEFAULT 3600U

struct server {
	int listen_fd;
	char *bound_path; /* the socket we bound ourselves and remove on exit */
	int epoll_fd;
	int signal_fd;
	struct ledger_writer *w;
	struct ledger_policy *policy;
	struct client **clients;
	size_t n_clients, n_unnamed;
	struct ratelimit warn_refused, warn_closed;
	struct pending *pending;
	size_t n_pending, pending_cap;
	uint64_t n_appended, n_refused, n_commits;
	double last_checkpoint;
	bool stop;
	int fatal; /* the writer failed for good */
	struct serve_limits limits;
	struct mark_state mark;
};

/* Appends one of the daemon's own records (takes payload; NULL: out of memory) and
 * makes it durable at once. */
int server_record(struct server *s, const char *type, const struct ledger_actor *actor,
		  struct json_object *payload);
/* At start, after the writer opened: compare the ledger's last mark with the counter. */
int mark_start(struct server *s, const char *dir);
/* A mark when --tpm-interval has passed since the last (or always, with force). */
int mark_maybe(struct server *s, bool force);
void mark_done(struct server *s);

double now_mono(void);
/* Whether a warning may be said now; *ret_held how many were held back before it. */
bool ratelimit_pass(struct ratelimit *rl, double now, unsigned *ret_held);

void client_free(struct server *s, struct client *c);
/* Tells a connection it is refused, closes it, and says so (rate-limited). */
void refuse_connection(struct server *s, int fd, const char *why, const struct ledger_actor *a);
/* Admits the connection fd accepted at accepted_ticks, or refuses it; <0 only on failure. */
int client_add(struct server *s, int fd, uint64_t accepted_ticks);
/* Reads and handles the client's requests within the round's budget. */
void client_read(struct server *s, struct client *c, char *buf, size_t *budget);
/* Sends what replies are ready; throttles a client that leaves them unread. */
void client_flush(struct server *s, struct client *c);
/* Turns the pending replies of records after last_seq, which were dropped, into errors. */
void fail_pending_after(struct server *s, uint64_t last_seq, int error);
/* Closes connections idle or stalled for the idle timeout. */
void expire_clients(struct server *s, double now);
/* Seconds until expire_clients() has something to do, or -1. */
double expire_due(const struct server *s, double now);
