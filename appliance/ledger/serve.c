/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-ledger serve: the only writer of the ledger. Clients connect to a Unix
 * SOCK_SEQPACKET socket (from systemd, or bound here with --socket); the kernel tells
 * who they are (SO_PEERCRED, SO_PEERGROUPS, their cgroup); the policy says whether
 * they may append. Requests that arrive together are written together and made
 * durable with one fdatasync (group commit) before any of them is acknowledged.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/path.h"
#include "ext/crypto.h"
#include "ledger-client.h"
#include "ledger-policy.h"
#include "ledger-tool.h"
#include "ledger.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define CLIENTS_MAX 1024
#define PACKETS_PER_CLIENT_ROUND 64
#define MAX_BATCH_DEFAULT 256U
#define CHECKPOINT_INTERVAL_DEFAULT 60U
#define GROUPS_MAX 256

static const char *arg_socket = NULL; /* NULL: from systemd, else LEDGER_SOCKET_DEFAULT */
static const char *arg_ledger = NULL;
static const char *arg_policy = LEDGER_POLICY_DEFAULT;
static const char *arg_key = NULL;
static uint64_t arg_max_file_size = LEDGER_FILE_SIZE_DEFAULT;
static uint64_t arg_checkpoint_every = LEDGER_CHECKPOINT_EVERY_DEFAULT;
static unsigned arg_checkpoint_interval = CHECKPOINT_INTERVAL_DEFAULT;
static unsigned arg_max_batch = MAX_BATCH_DEFAULT;

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
	bool want_out; /* EPOLLOUT is armed */
};

struct pending {
	struct client *c;
	size_t index; /* of its placeholder in c->out */
	uint64_t seq;
	uint8_t hash[LEDGER_HASH_SIZE];
};

struct server {
	int listen_fd;
	char *bound_path; /* the socket we bound ourselves and remove on exit */
	int epoll_fd;
	int signal_fd;
	struct ledger_writer *w;
	struct ledger_policy *policy;
	struct client **clients;
	size_t n_clients;
	struct pending *pending;
	size_t n_pending, pending_cap;
	uint64_t n_appended, n_refused, n_commits;
	double last_checkpoint;
	bool stop;
	int fatal; /* the writer failed for good */
};

static char listen_tag, signal_tag;

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void help(void)
{
	printf("Usage: airlock-ledger serve [OPTIONS]\n"
	       "\n"
	       "Run the ledger daemon: the only process that appends to the ledger.\n"
	       "\n"
	       "  --socket PATH            listen on PATH (default: the socket passed by\n"
	       "                           systemd, else " LEDGER_SOCKET_DEFAULT ")\n"
	       "  --ledger DIR             the ledger (default: " LEDGER_DIR_DEFAULT "\n"
	       "                           if it exists, else " LEDGER_DIR_RUNTIME ")\n"
	       "  --policy FILE            who may append (default " LEDGER_POLICY_DEFAULT ")\n"
	       "  --key FILE               Ed25519 signing key (default: DIR/../ledger-key/"
	       "ledger.key;\n"
	       "                           created with the ledger if both are new)\n"
	       "  --max-file-size SIZE     start a new file at this size (default 64M)\n"
	       "  --checkpoint-every N     sign a checkpoint every N records (default %u)\n"
	       "  --checkpoint-interval S  and when records are S seconds unsigned (default %u, "
	       "0: never)\n"
	       "  --max-batch N            records per fdatasync at most (default %u; 1: one "
	       "per record)\n"
	       "  -h, --help               show this help\n",
	       LEDGER_CHECKPOINT_EVERY_DEFAULT, CHECKPOINT_INTERVAL_DEFAULT, MAX_BATCH_DEFAULT);
}

static int parse_args(int argc, char **argv)
{
	enum {
		ARG_SOCKET = 0x100,
		ARG_LEDGER,
		ARG_POLICY,
		ARG_KEY,
		ARG_MAX_FILE_SIZE,
		ARG_CHECKPOINT_EVERY,
		ARG_CHECKPOINT_INTERVAL,
		ARG_MAX_BATCH
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "socket", required_argument, NULL, ARG_SOCKET },
		{ "ledger", required_argument, NULL, ARG_LEDGER },
		{ "policy", required_argument, NULL, ARG_POLICY },
		{ "key", required_argument, NULL, ARG_KEY },
		{ "max-file-size", required_argument, NULL, ARG_MAX_FILE_SIZE },
		{ "checkpoint-every", required_argument, NULL, ARG_CHECKPOINT_EVERY },
		{ "checkpoint-interval", required_argument, NULL, ARG_CHECKPOINT_INTERVAL },
		{ "max-batch", required_argument, NULL, ARG_MAX_BATCH },
		{}
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case ARG_SOCKET:
			arg_socket = optarg;
			break;
		case ARG_LEDGER:
			arg_ledger = optarg;
			break;
		case ARG_POLICY:
			arg_policy = optarg;
			break;
		case ARG_KEY:
			arg_key = optarg;
			break;
		case ARG_MAX_FILE_SIZE:
			if (parse_size(optarg, &arg_max_file_size) < 0 || arg_max_file_size < 4096)
				return -usage_error("serve",
						    "--max-file-size %s: a size of 4K or "
						    "more expected",
						    optarg);
			break;
		case ARG_CHECKPOINT_EVERY:
			if (safe_atou64(optarg, &arg_checkpoint_every) < 0 ||
			    arg_checkpoint_every == 0)
				return -usage_error("serve",
						    "--checkpoint-every %s: a positive "
						    "number expected",
						    optarg);
			break;
		case ARG_CHECKPOINT_INTERVAL:
			if (safe_atou(optarg, &arg_checkpoint_interval) < 0)
				return -usage_error("serve",
						    "--checkpoint-interval %s: seconds "
						    "expected",
						    optarg);
			break;
		case ARG_MAX_BATCH:
			if (safe_atou(optarg, &arg_max_batch) < 0 || arg_max_batch == 0)
				return -usage_error("serve",
						    "--max-batch %s: a positive number "
						    "expected",
						    optarg);
			break;
		default:
			return -EXIT_USAGE;
		}
	}
	if (optind < argc)
		return -usage_error("serve", "unexpected argument '%s'", argv[optind]);
	return 1;
}

/* ---- the socket ------------------------------------------------------------------------- */

static int socket_from_systemd(int *ret)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	unsigned p, n;
	int type = 0, family = 0;
	socklen_t l = sizeof(type);
	struct sockaddr_un sa;
	socklen_t sl = sizeof(sa);

	if (!pid || !fds || safe_atou(pid, &p) < 0 || p != (unsigned)getpid())
		return 0;
	if (safe_atou(fds, &n) < 0 || n != 1)
		return log_error_errno(EINVAL, "systemd passed %s sockets; exactly one expected",
				       fds);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &l) < 0)
		return log_error_errno(errno, "the socket passed by systemd: %m");
	if (getsockname(3, (struct sockaddr *)&sa, &sl) < 0)
		return log_error_errno(errno, "the socket passed by systemd: %m");
	family = sa.sun_family;
	if (type != SOCK_SEQPACKET || family != AF_UNIX)
		return log_error_errno(EINVAL, "the socket passed by systemd is not a Unix "
					       "SOCK_SEQPACKET socket (ListenSequentialPacket=)");
	if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(3, F_SETFL, fcntl(3, F_GETFL) | O_NONBLOCK) < 0)
		return log_error_errno(errno, "the socket passed by systemd: %m");
	*ret = 3;
	return 1;
}

static int socket_bind(const char *path, int *ret, char **ret_bound)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *p = strdup(path);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int r;

	if (!p)
		return log_oom();
	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(ENAMETOOLONG, "socket '%s': the path is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	if (lstat(path, &st) == 0) {
		/* A socket left by a daemon that died: remove it, unless someone answers. */
		_cleanup_close_ int probe = -EBADF;
		if (!S_ISSOCK(st.st_mode))
			return log_error_errno(EEXIST, "socket '%s' exists and is not a socket",
					       path);
		probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return log_error_errno(errno, "socket: %m");
		if (connect(probe, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
			return log_error_errno(EADDRINUSE,
					       "socket '%s': another daemon is "
					       "already listening on it",
					       path);
		if (unlink(path) < 0)
			return log_error_errno(
				errno, "socket '%s': cannot remove the stale socket: %m", path);
		log_notice("socket '%s': removed a stale socket", path);
	}

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(errno, "socket: %m");
	/* Anyone may connect; the policy decides who may append. */
	old = umask(0111);
	r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return log_error_errno(errno, "socket '%s': %m", path);
	if (listen(fd, SOMAXCONN) < 0)
		return log_error_errno(errno, "socket '%s': %m", path);
	*ret = TAKE_FD(fd);
	*ret_bound = TAKE_PTR(p);
	return 0;
}

/* Tells systemd (Type=notify) that we are ready or stopping; nothing without it. */
static void notify(const char *state)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;
	socklen_t sl;

	if (isempty(e) || strlen(e) >= sizeof(sa.sun_path) || (e[0] != '/' && e[0] != '@'))
		return;
	memcpy(sa.sun_path, e, strlen(e));
	if (e[0] == '@')
		sa.sun_path[0] = '\0';
	sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(e));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, sl) < 0)
		log_debug_errno(errno, "sd_notify: %m, ignoring");
}

/* ---- clients ---------------------------------------------------------------------------- */

static void client_free(struct server *s, struct client *c)
{
	if (!c)
		return;
	if (c->fd >= 0) {
		(void)epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
		safe_close(c->fd);
	}
	for (size_t i = c->out_head; i < c->n_out; i++)
		free(c->out[i].data);
	free(c->out);
	ledger_actor_done(&c->actor);
	free(c);
}

/*
 * The systemd unit of the client. With a pidfd of the peer (Linux 6.5+), the process
 * is checked to be alive after its cgroup was read, so a recycled pid cannot lend its
 * unit; without one, the uid of /proc/PID must at least be the peer's.
 */
static char *client_unit(int fd, const struct ucred *cred)
{
	_cleanup_close_ int pidfd = -EBADF;
	_cleanup_free_ char *unit = NULL;
	socklen_t l = sizeof(pidfd);
	int k;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &l) < 0)
		pidfd = -EBADF;
	if (ledger_unit_of_pid(cred->pid, &unit) < 0)
		return NULL;
	if (pidfd >= 0) {
		k = (int)syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0);
		if (k < 0 && errno == ESRCH)
			return NULL;
	} else {
		_cleanup_free_ char *status = NULL;
		char path[64];
		const char *u;
		unsigned uid;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)cred->pid);
		if (read_full_file(path, 64 * 1024, &status, NULL) < 0)
			return NULL;
		u = strstr(status, "\nUid:\t");
		if (!u || sscanf(u + 6, "%u", &uid) != 1 || uid != (unsigned)cred->uid)
			return NULL;
	}
	return TAKE_PTR(unit);
}

static int client_add(struct server *s, int fd)
{
	struct client *c = new0(struct client, 1);
	struct client **nc;
	struct ucred cred;
	socklen_t l = sizeof(cred);
	gid_t groups[GROUPS_MAX];
	socklen_t gl = sizeof(groups);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };

	if (!c) {
		safe_close(fd);
		return log_oom();
	}
	c->fd = fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0) {
		log_warning_errno(errno, "client: SO_PEERCRED: %m, dropping the client");
		client_free(s, c);
		return 0;
	}
	c->actor.uid = (uint32_t)cred.uid;
	c->actor.gid = (uint32_t)cred.gid;
	c->actor.pid = (uint32_t)cred.pid;
	c->actor.unit = client_unit(fd, &cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &gl) == 0) {
		c->n_groups = MIN((size_t)gl / sizeof(gid_t), (size_t)GROUPS_MAX);
		for (size_t i = 0; i < c->n_groups; i++)
			c->groups[i] = (uint32_t)groups[i];
	} /* else: more than GROUPS_MAX groups, or an old kernel: primary group only */

	nc = realloc(s->clients, (s->n_clients + 1) * sizeof(*nc));
	if (!nc) {
		client_free(s, c);
		return log_oom();
	}
	s->clients = nc;
	ev.data.ptr = c;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;
		c->fd = safe_close(c->fd);
		client_free(s, c);
		return log_error_errno(r, "epoll: %m");
	}
	s->clients[s->n_clients++] = c;
	log_debug("client uid=%u pid=%u unit=%s connected", c->actor.uid, c->actor.pid,
		  c->actor.unit ?: "-");
	return 0;
}

static struct reply *client_push(struct client *c)
{
	if (c->out_head == c->n_out)
		c->out_head = c->n_out = 0; /* empty: start over (no placeholder is pending) */
	if (c->n_out == c->out_cap) {
		size_t cap = MAX(c->out_cap * 2, (size_t)16);
		struct reply *o = realloc(c->out, cap * sizeof(*o));
		if (!o)
			return NULL;
		c->out = o;
		c->out_cap = cap;
	}
	c->out[c->n_out] = (struct reply){};
	return &c->out[c->n_out++];
}

static int client_reply_error(struct client *c, int error, const char *message)
{
	struct reply *rp = client_push(c);

	if (!rp)
		return -ENOMEM;
	return ledger_reply_format(error, message, 0, NULL, &rp->data, &rp->size);
}

static int server_pending_add(struct server *s, struct client *c, uint64_t seq,
			      const uint8_t hash[LEDGER_HASH_SIZE])
{
	struct reply *rp;

	if (s->n_pending == s->pending_cap) {
		size_t cap = MAX(s->pending_cap * 2, (size_t)64);
		struct pending *p = realloc(s->pending, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->pending = p;
		s->pending_cap = cap;
	}
	rp = client_push(c);
	if (!rp)
		return -ENOMEM;
	rp->pending = true;
	s->pending[s->n_pending] = (struct pending){ .c = c, .index = c->n_out - 1, .seq = seq };
	memcpy(s->pending[s->n_pending].hash, hash, LEDGER_HASH_SIZE);
	s->n_pending++;
	return 0;
}

/* Turns the pending replies of records after last_seq, which were dropped, into errors. */
static void fail_pending_after(struct server *s, uint64_t last_seq, int error)
{
	char msg[256];
	size_t j = 0;

	snprintf(msg, sizeof(msg), "the ledger could not be written (%s); nothing was recorded",
		 strerror(error < 0 ? -error : error));
	for (size_t i = 0; i < s->n_pending; i++) {
		struct pending *p = &s->pending[i];
		struct reply *rp = &p->c->out[p->index];

		if (p->seq <= last_seq) {
			s->pending[j++] = *p;
			continue;
		}
		rp->pending = false;
		if (ledger_reply_format(error, msg, 0, NULL, &rp->data, &rp->size) < 0)
			p->c->dead = true;
	}
	s->n_pending = j;
}

static int handle_request(struct server *s, struct client *c, const char *buf, size_t n)
{
	_cleanup_free_ char *type = NULL, *why = NULL, *msg = NULL;
	_cleanup_json_ struct json_object *payload = NULL;
	uint8_t hash[LEDGER_HASH_SIZE];
	uint64_t seq = 0, last;
	int r;

	r = ledger_request_parse(buf, n, &type, &payload, &why);
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0) {
		s->n_refused++;
		log_warning("refused a request from uid=%u pid=%u unit=%s: %s", c->actor.uid,
			    c->actor.pid, c->actor.unit ?: "-", strna(why));
		return client_reply_error(c, r, why);
	}
	r = ledger_policy_check(s->policy, &c->actor, c->groups, c->n_groups, type, NULL);
	if (r < 0) {
		s->n_refused++;
		if (asprintf(&msg,
			     "uid %u (pid %u, unit %s) may not append '%s': no rule in %s allows "
			     "it",
			     c->actor.uid, c->actor.pid, c->actor.unit ?: "-", type,
			     s->policy->path) < 0)
			return log_oom();
		log_warning("refused: %s", msg);
		return client_reply_error(c, -EACCES, msg);
	}
	last = ledger_writer_last_seq(s->w);
	r = ledger_writer_add(s->w, type, &c->actor, payload, &seq, hash);
	if (r < 0 && ledger_writer_last_seq(s->w) < last)
		/* A full file could not be closed: the batch so far was dropped with it. */
		fail_pending_after(s, ledger_writer_last_seq(s->w), r);
	if (r < 0) {
		if (asprintf(&msg, "could not record: %s; nothing was recorded", strerror(-r)) < 0)
			return log_oom();
		log_error_errno(r, "appending a '%s' record from uid=%u: %m", type, c->actor.uid);
		if (r == -EIO)
			s->fatal = r;
		return client_reply_error(c, r, msg);
	}
	return server_pending_add(s, c, seq, hash);
}

static void client_read(struct server *s, struct client *c, char *buf, size_t *budget)
{
	for (unsigned i = 0; i<PACKETS_PER_CLIENT_ROUND && * budget> 0 && !c->eof; i++) {
		ssize_t k = recv(c->fd, buf, LEDGER_PACKET_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);

		if (k < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			log_debug_errno(errno, "client pid=%u: %m", c->actor.pid);
			c->eof = c->dead = true;
			return;
		}
		if (k == 0) {
			c->eof = true;
			return;
		}
		if ((size_t)k > LEDGER_PACKET_MAX) {
			char why[128];
			snprintf(why, sizeof(why), "request of %zd bytes is larger than %u", k,
				 LEDGER_PACKET_MAX);
			s->n_refused++;
			if (client_reply_error(c, -E2BIG, why) < 0)
				c->dead = true;
			continue;
		}
		if (handle_request(s, c, buf, (size_t)k) < 0)
			c->dead = true;
		if (s->n_pending >= arg_max_batch || s->fatal)
			*budget = 0;
		else
			*budget = arg_max_batch - s->n_pending;
	}
}

static void client_flush(struct server *s, struct client *c)
{
	bool want;

	while (c->out_head < c->n_out && !c->out[c->out_head].pending && !c->dead) {
		struct reply *rp = &c->out[c->out_head];
		ssize_t k = send(c->fd, rp->data, rp->size, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (k < 0) {
			if (errno == EAGAIN)
				break;
			/* The client went away: its records are in the ledger all the same. */
			c->dead = true;
			break;
		}
		rp->data = mfree(rp->data);
		c->out_head++;
	}
	want = !c->dead && c->out_head < c->n_out && !c->out[c->out_head].pending;
	if (want != c->want_out) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0),
					  .data.ptr = c };
		if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			c->dead = true;
		c->want_out = want;
	}
}

/* ---- the loop --------------------------------------------------------------------------- */

static void commit_round(struct server *s)
{
	int r = ledger_writer_commit(s->w);
	uint64_t durable = ledger_writer_head_seq(s->w);

	/* After a failure, what was made durable earlier in the round (when a full file was
	 * closed) stays acknowledged; the rest was cut back. */
	if (r < 0) {
		log_error_errno(r, "writing records to the ledger: %m; cut back to record %" PRIu64,
				durable);
		fail_pending_after(s, durable, r);
		if (r == -EIO)
			s->fatal = r;
	}
	for (size_t i = 0; i < s->n_pending; i++) {
		struct pending *p = &s->pending[i];
		struct reply *rp = &p->c->out[p->index];

		rp->pending = false;
		if (ledger_reply_format(0, NULL, p->seq, p->hash, &rp->data, &rp->size) < 0)
			p->c->dead = true;
	}
	if (s->n_pending > 0) {
		s->n_appended += s->n_pending;
		s->n_commits++;
	}
	s->n_pending = 0;
}

static void reap_clients(struct server *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->n_clients; i++) {
		struct client *c = s->clients[i];
		bool done = c->dead || (c->eof && c->out_head == c->n_out);
		if (done)
			client_free(s, c);
		else
			s->clients[j++] = c;
	}
	s->n_clients = j;
}

static void accept_clients(struct server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warning_errno(errno, "accept: %m, ignoring");
			return;
		}
		if (s->n_clients >= CLIENTS_MAX) {
			_cleanup_free_ char *data = NULL;
			size_t n = 0;
			if (ledger_reply_format(-EUSERS, "too many clients at once; try again", 0,
						NULL, &data, &n) >= 0)
				(void)send(fd, data, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			log_warning("refused a client: %d clients already connected", CLIENTS_MAX);
			safe_close(fd);
			continue;
		}
		(void)client_add(s, fd);
	}
}

static int checkpoint(struct server *s, const char *reason)
{
	int r = ledger_writer_checkpoint(s->w, reason);

	if (r >= 0)
		r = ledger_writer_commit(s->w);
	s->last_checkpoint = now_mono(); /* after a failure too: no retrying in a tight loop */
	if (r < 0)
		return log_error_errno(r, "writing a checkpoint (%s): %m", reason);
	return 0;
}

static int run(struct server *s)
{
	struct epoll_event events[64];
	_cleanup_free_ char *buf = malloc(LEDGER_PACKET_MAX + 1);

	if (!buf)
		return log_oom();
	while (!s->stop && !s->fatal) {
		int timeout = -1, n;
		size_t budget = arg_max_batch;

		if (arg_checkpoint_interval > 0 && ledger_writer_unsigned(s->w) > 0) {
			double due = s->last_checkpoint + arg_checkpoint_interval - now_mono();
			timeout = due <= 0 ? 0 : (int)(due * 1000) + 1;
		}
		n = epoll_wait(s->epoll_fd, events, (int)ELEMENTSOF(events), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(errno, "epoll_wait: %m");
		}
		for (int i = 0; i < n; i++) {
			void *tag = events[i].data.ptr;

			if (tag == &listen_tag) {
				accept_clients(s);
			} else if (tag == &signal_tag) {
				struct signalfd_siginfo si;
				while (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						log_notice("SIGHUP ignored: restart the service to "
							   "load a new policy");
						continue;
					}
					log_info("signal %u: stopping", si.ssi_signo);
					s->stop = true;
				}
			} else {
				struct client *c = tag;
				if (events[i].events & EPOLLIN && budget > 0)
					client_read(s, c, buf, &budget);
				else if (events[i].events & (EPOLLHUP | EPOLLERR))
					c->eof = true;
			}
		}
		/* The requests of this round, and any checkpoint they brought, in one go. */
		commit_round(s);
		for (size_t i = 0; i < s->n_clients; i++)
			client_flush(s, s->clients[i]);
		reap_clients(s);

		if (!s->fatal && arg_checkpoint_interval > 0 && ledger_writer_unsigned(s->w) > 0 &&
		    now_mono() >= s->last_checkpoint + arg_checkpoint_interval &&
		    checkpoint(s, "interval") == -EIO)
			s->fatal = -EIO; /* the writer could not undo a failed write */
	}
	return s->fatal;
}

/* ---- start and stop --------------------------------------------------------------------- */

static int load_or_create_key(const char *key_path, const char *dir, struct ed25519_key **ret)
{
	_cleanup_(ed25519_key_freep) struct ed25519_key *k = NULL;
	_cleanup_free_ char *pub = NULL, *parent = NULL;
	struct ledger_file *files = NULL;
	size_t n_files = 0;
	char fp[LEDGER_HASH_HEX_SIZE];
	int r = ed25519_key_load_private(key_path, &k);

	if (r >= 0) {
		*ret = TAKE_PTR(k);
		return 0;
	}
	if (r == -EPERM)
		return log_error_errno(r,
				       "key '%s' is readable or writable by others; chmod "
				       "600 it",
				       key_path);
	if (r == -EKEYREJECTED)
		return log_error_errno(r, "key '%s' is not an Ed25519 private key (PKCS#8 PEM)",
				       key_path);
	if (r != -ENOENT)
		return log_error_errno(r, "key '%s': %m", key_path);

	/* No key: only a ledger that does not exist yet gets a new one. */
	r = ledger_dir_list(dir, &files, &n_files);
	ledger_files_free(files, n_files);
	if (r >= 0 && n_files > 0)
		return log_error_errno(ENOKEY,
				       "key '%s' is missing, but the ledger in '%s' exists and "
				       "is signed with its key: restore the key (its fingerprint "
				       "is in the ledger's first record); refusing to start",
				       key_path, dir);
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "ledger '%s': %m", dir);

	r = path_parent(key_path, &parent);
	if (r < 0)
		return log_oom();
	if (!isempty(parent) && mkdir(parent, 0700) < 0 && errno != EEXIST)
		return log_error_errno(errno, "key directory '%s': %m", parent);
	r = ed25519_key_generate(&k);
	if (r < 0)
		return log_error_errno(r, "generating a key: %m");
	r = ledger_pubkey_path(key_path, &pub);
	if (r < 0)
		return log_oom();
	r = ed25519_key_save_private(k, key_path);
	if (r < 0)
		return log_error_errno(r, "key '%s': %m", key_path);
	r = ed25519_key_save_public(k, pub);
	if (r < 0)
		return log_error_errno(r, "public key '%s': %m", pub);
	r = ledger_key_fingerprint(k, fp);
	if (r < 0)
		return log_error_errno(r, "key fingerprint: %m");
	log_notice("created the ledger key '%s' (public key '%s', fingerprint %s)", key_path, pub,
		   fp);
	*ret = TAKE_PTR(k);
	return 0;
}

static int add_start_record(struct server *s, const struct ledger_open_info *info,
			    const struct ledger_actor *self)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	int r;

	if (!p)
		return log_oom();
	r = sha256_file(s->policy->path, d, NULL);
	if (r < 0)
		return log_error_errno(r, "policy '%s': %m", s->policy->path);
	sha256_hex(d, hex);
	if (json_add_string(p, "previous",
			    info->created ? "none" :
			    info->clean	  ? "clean" :
					    "unclean") < 0 ||
	    json_add_string(p, "policy", s->policy->path) < 0 ||
	    json_add_string(p, "policy_sha256", hex) < 0 ||
	    json_add_int(p, "policy_rules", (int64_t)s->policy->n_rules) < 0)
		return log_oom();
	r = ledger_writer_add(s->w, LEDGER_TYPE_START, self, p, NULL, NULL);
	if (r >= 0)
		r = ledger_writer_commit(s->w);
	if (r < 0)
		return log_error_errno(r, "writing the start record: %m");
	return 0;
}

static int setup_signals(struct server *s)
{
	sigset_t mask;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &signal_tag };

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return log_error_errno(errno, "sigprocmask: %m");
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit must fail the write (EFBIG), which is undone, not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	s->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->signal_fd < 0)
		return log_error_errno(errno, "signalfd: %m");
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->signal_fd, &ev) < 0)
		return log_error_errno(errno, "epoll: %m");
	return 0;
}

int verb_serve(int argc, char **argv)
{
	_cleanup_(ed25519_key_freep) struct ed25519_key *key = NULL;
	_cleanup_(ledger_open_info_done) struct ledger_open_info info = {};
	_cleanup_free_ char *default_key = NULL, *err = NULL;
	struct ledger_actor self = {};
	struct ledger_writer_opts wo;
	struct server s = { .listen_fd = -EBADF, .epoll_fd = -EBADF, .signal_fd = -EBADF };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listen_tag };
	const char *dir;
	int r = parse_args(argc, argv);

	if (r <= 0)
		return r == 0 ? EXIT_SUCCESS : -r;
	dir = arg_ledger ?: ledger_dir_default();
	if (!arg_key) {
		r = ledger_key_path_default(dir, &default_key);
		if (r < 0) {
			log_error_errno(r, "ledger '%s': %m", dir);
			return EXIT_FAILURE;
		}
		arg_key = default_key;
	}

	r = ledger_policy_load(arg_policy, &s.policy, &err);
	if (r < 0) {
		if (err)
			log_error("policy: %s", err);
		else
			log_error_errno(r, "policy '%s': %m", arg_policy);
		goto finish;
	}

	/* The socket first: nothing is written to the ledger if we cannot serve. */
	if (!arg_socket) {
		r = socket_from_systemd(&s.listen_fd);
		if (r < 0)
			goto finish;
	}
	if (s.listen_fd < 0) {
		r = socket_bind(arg_socket ?: LEDGER_SOCKET_DEFAULT, &s.listen_fd, &s.bound_path);
		if (r < 0)
			goto finish;
	}

	r = load_or_create_key(arg_key, dir, &key);
	if (r < 0)
		goto finish;
	r = ledger_actor_self(&self);
	if (r < 0) {
		log_oom();
		goto finish;
	}
	wo = (struct ledger_writer_opts){ .max_file_size = arg_max_file_size,
					  .checkpoint_every = arg_checkpoint_every };
	r = ledger_writer_open(dir, key, &wo, &self, &s.w, &info, &err);
	if (r < 0) {
		if (err)
			log_error("ledger '%s': %s; refusing to start", dir, err);
		else
			log_error_errno(r, "ledger '%s': %m; refusing to start", dir);
		goto finish;
	}
	if (info.created)
		log_notice("ledger '%s': created", dir);
	if (info.repaired)
		log_warning("ledger '%s': dropped an incomplete final record (%" PRIu64
			    " bytes at offset %" PRIu64 " of %s, left by a crash); the bytes are "
			    "kept in %s and the repair is recorded in the ledger",
			    dir, info.repair_bytes, info.repair_offset, info.repair_file,
			    info.repair_saved);
	else if (!info.created && !info.clean)
		log_warning("ledger '%s': the previous run did not end cleanly (no shutdown "
			    "checkpoint after record %" PRIu64 "); recorded",
			    dir, info.head_seq);
	r = add_start_record(&s, &info, &self);
	if (r < 0)
		goto finish;

	s.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s.epoll_fd < 0) {
		r = log_error_errno(errno, "epoll: %m");
		goto finish;
	}
	if (epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.listen_fd, &ev) < 0) {
		r = log_error_errno(errno, "epoll: %m");
		goto finish;
	}
	r = setup_signals(&s);
	if (r < 0)
		goto finish;
	s.last_checkpoint = now_mono();

	log_info("ledger '%s': serving at record %" PRIu64 "; policy '%s' (%zu rules)", dir,
		 ledger_writer_head_seq(s.w), arg_policy, s.policy->n_rules);
	notify("READY=1");
	r = run(&s);
	notify("STOPPING=1");

	if (s.fatal) {
		log_error("ledger '%s': a write failed and could not be undone; stopping, a "
			  "restart repairs the ledger",
			  dir);
		r = s.fatal;
	} else {
		r = checkpoint(&s, "shutdown");
		if (r >= 0)
			log_info("ledger '%s': stopped after %" PRIu64 " records in %" PRIu64
				 " synced writes (%" PRIu64 " refused); closed with a signed "
				 "checkpoint at record %" PRIu64,
				 dir, s.n_appended, s.n_commits, s.n_refused,
				 ledger_writer_head_seq(s.w));
	}
finish:
	while (s.n_clients > 0)
		client_free(&s, s.clients[--s.n_clients]);
	free(s.clients);
	free(s.pending);
	ledger_writer_free(s.w);
	ledger_policy_free(s.policy);
	ledger_actor_done(&self);
	safe_close(s.signal_fd);
	safe_close(s.epoll_fd);
	safe_close(s.listen_fd);
	if (s.bound_path) {
		(void)unlink(s.bound_path);
		free(s.bound_path);
	}
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
