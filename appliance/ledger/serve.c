/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-ledger serve: the only writer of the ledger. Clients connect to a Unix
 * SOCK_SEQPACKET socket (from systemd, or bound here with --socket); the kernel tells
 * who they are (SO_PEERCRED, SO_PEERGROUPS, their cgroup); the policy says whether
 * they may append. Requests that arrive together are written together and made
 * durable with one fdatasync (group commit) before any of them is acknowledged.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
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
#include "ext/tpm.h"
#include "ledger-client.h"
#include "ledger-peer.h"
#include "ledger-policy.h"
#include "ledger-tool.h"
#include "ledger.h"
#include "serve.h"

static const char *arg_socket = NULL; /* NULL: from systemd, else LEDGER_SOCKET_DEFAULT */
static const char *arg_ledger = NULL;
static const char *arg_policy = LEDGER_POLICY_DEFAULT;
static const char *arg_key = NULL;
static uint64_t arg_max_file_size = LEDGER_FILE_SIZE_DEFAULT;
static uint64_t arg_checkpoint_every = LEDGER_CHECKPOINT_EVERY_DEFAULT;
static unsigned arg_checkpoint_interval = CHECKPOINT_INTERVAL_DEFAULT;
static unsigned arg_max_batch = MAX_BATCH_DEFAULT;
static unsigned arg_clients_per_uid = CLIENTS_PER_UID_DEFAULT;
static unsigned arg_idle_timeout = IDLE_TIMEOUT_DEFAULT;
static enum ledger_peer_method arg_peer_method = _LEDGER_PEER_METHOD_INVALID;
static const char *arg_tpm_counter = NULL, *arg_tpm_auth = NULL, *arg_tcti = NULL;
static uint32_t arg_tpm_index;
static unsigned arg_tpm_interval = MARK_INTERVAL_DEFAULT;

static char listen_tag, signal_tag;

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
	       "  --max-clients-per-uid N  connections at once per uid that no policy rule\n"
	       "                           names (default %u; root and named clients: no limit)\n"
	       "  --idle-timeout S         close such a connection after S seconds without a\n"
	       "                           request, and any that leaves %d replies unread for\n"
	       "                           as long (default %u)\n"
	       "  --peer-check METHOD      how a client's unit is tied to its pid: pidfd\n"
	       "                           (Linux 6.5+) or starttime (default: the best the\n"
	       "                           kernel has; for tests)\n"
	       "  --tpm-counter INDEX      keep the ledger's high-water mark in this TPM NV\n"
	       "                           counter (e.g. 0x01a1a701); a rolled-back ledger is\n"
	       "                           detected at start and appends are refused\n"
	       "  --tpm-auth FILE          the counter's authorization (a secret file)\n"
	       "  --tpm-interval S         a mark at most every S seconds, at a checkpoint, and\n"
	       "                           one at a clean stop (default %u)\n"
	       "  --tcti SPEC              the TPM (default " TPM_DEFAULT_TCTI ")\n"
	       "  -h, --help               show this help\n",
	       LEDGER_CHECKPOINT_EVERY_DEFAULT, CHECKPOINT_INTERVAL_DEFAULT, MAX_BATCH_DEFAULT,
	       CLIENTS_PER_UID_DEFAULT, REPLIES_QUEUED_MAX, IDLE_TIMEOUT_DEFAULT,
	       MARK_INTERVAL_DEFAULT);
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
		ARG_MAX_BATCH,
		ARG_CLIENTS_PER_UID,
		ARG_IDLE_TIMEOUT,
		ARG_PEER_CHECK,
		ARG_TPM_COUNTER,
		ARG_TPM_AUTH,
		ARG_TPM_INTERVAL,
		ARG_TCTI,
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
		{ "max-clients-per-uid", required_argument, NULL, ARG_CLIENTS_PER_UID },
		{ "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
		{ "peer-check", required_argument, NULL, ARG_PEER_CHECK },
		{ "tpm-counter", required_argument, NULL, ARG_TPM_COUNTER },
		{ "tpm-auth", required_argument, NULL, ARG_TPM_AUTH },
		{ "tpm-interval", required_argument, NULL, ARG_TPM_INTERVAL },
		{ "tcti", required_argument, NULL, ARG_TCTI },
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
		case ARG_CLIENTS_PER_UID:
			if (safe_atou(optarg, &arg_clients_per_uid) < 0 || arg_clients_per_uid == 0)
				return -usage_error("serve",
						    "--max-clients-per-uid %s: a positive "
						    "number expected",
						    optarg);
			break;
		case ARG_IDLE_TIMEOUT:
			if (safe_atou(optarg, &arg_idle_timeout) < 0 || arg_idle_timeout == 0)
				return -usage_error("serve",
						    "--idle-timeout %s: a positive number of "
						    "seconds expected",
						    optarg);
			break;
		case ARG_PEER_CHECK:
			if (streq(optarg, "pidfd"))
				arg_peer_method = LEDGER_PEER_PIDFD;
			else if (streq(optarg, "starttime"))
				arg_peer_method = LEDGER_PEER_STARTTIME;
			else
				return -usage_error("serve",
						    "--peer-check %s: pidfd or starttime "
						    "expected",
						    optarg);
			break;
		case ARG_TPM_COUNTER:
			if (tpm_nv_index_parse(optarg, &arg_tpm_index) < 0)
				return -usage_error("serve",
						    "--tpm-counter %s: an NV index (0x01xxxxxx) "
						    "expected",
						    optarg);
			arg_tpm_counter = optarg;
			break;
		case ARG_TPM_AUTH:
			arg_tpm_auth = optarg;
			break;
		case ARG_TPM_INTERVAL:
			if (safe_atou(optarg, &arg_tpm_interval) < 0)
				return -usage_error("serve", "--tpm-interval %s: seconds expected",
						    optarg);
			break;
		case ARG_TCTI:
			arg_tcti = optarg;
			break;
		default:
			return -EXIT_USAGE;
		}
	}
	if (optind < argc)
		return -usage_error("serve", "unexpected argument '%s'", argv[optind]);
	if (!!arg_tpm_counter != !!arg_tpm_auth)
		return -usage_error("serve", "--tpm-counter and --tpm-auth go together");
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
			unsigned held = 0;

			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
			    ratelimit_pass(&s->warn_refused, now_mono(), &held))
				log_warning_errno(errno, "accept: %m, ignoring (%u more held back)",
						  held);
			return;
		}
		if (s->n_clients >= CLIENTS_MAX) {
			refuse_connection(s, fd, "too many clients at once; try again", NULL);
			safe_close(fd);
			continue;
		}
		(void)client_add(s, fd, ledger_boottime_ticks());
	}
}

static int checkpoint(struct server *s, const char *reason)
{
	int r;

	/* A high-water mark first, so that the checkpoint signs it. */
	(void)mark_maybe(s, streq(reason, "shutdown"));
	r = ledger_writer_checkpoint(s->w, reason);

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
		size_t budget = s->limits.max_batch;

		double expire = expire_due(s, now_mono());

		if (arg_checkpoint_interval > 0 && ledger_writer_unsigned(s->w) > 0) {
			double due = s->last_checkpoint + arg_checkpoint_interval - now_mono();
			timeout = due <= 0 ? 0 : (int)(due * 1000) + 1;
		}
		if (expire >= 0 && (timeout < 0 || (int)(expire * 1000) + 1 < timeout))
			timeout = (int)(expire * 1000) + 1;
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
		if (s->mark.force_next && !s->fatal) {
			s->mark.force_next = false;
			(void)mark_maybe(s, true);
		}
		for (size_t i = 0; i < s->n_clients; i++)
			client_flush(s, s->clients[i]);
		expire_clients(s, now_mono());
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

int server_record(struct server *s, const char *type, const struct ledger_actor *actor,
		  struct json_object *payload)
{
	_cleanup_json_ struct json_object *p = payload;
	int r;

	if (!p)
		return log_oom();
	r = ledger_writer_add(s->w, type, actor, p, NULL, NULL);
	if (r >= 0)
		r = ledger_writer_commit(s->w);
	if (r < 0)
		return log_error_errno(r, "writing a %s record: %m", type);
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
	return server_record(s, LEDGER_TYPE_START, self, TAKE_PTR(p));
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
	s.limits = (struct serve_limits){
		.max_batch = arg_max_batch,
		.clients_per_uid = arg_clients_per_uid,
		.idle_timeout = arg_idle_timeout,
		.peer_method = arg_peer_method,
	};
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
	if (arg_tpm_counter) {
		s.mark = (struct mark_state){
			.enabled = true,
			.index = arg_tpm_index,
			.auth_file = arg_tpm_auth,
			.tcti = arg_tcti,
			.interval = arg_tpm_interval,
			.self = &self,
		};
		(void)snprintf(s.mark.index_hex, sizeof(s.mark.index_hex), "0x%08" PRIx32,
			       arg_tpm_index);
		r = mark_start(&s, dir);
		if (r < 0)
			goto finish;
	}

	/* Room for every client it admits: at the file limit, accept() would fail on a
	 * connection that stays queued, again and again. */
	{
		struct rlimit rl;
		rlim_t want = CLIENTS_MAX + 64;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
			rl.rlim_cur = MIN(want, rl.rlim_max);
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
				log_warning("file limit %llu: fewer than the %d clients it admits "
					    "can connect at once (LimitNOFILE=), continuing",
					    (unsigned long long)rl.rlim_cur, CLIENTS_MAX);
		}
	}
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
	mark_done(&s);
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
