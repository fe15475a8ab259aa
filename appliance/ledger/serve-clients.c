/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-ledger serve: its clients. Each is admitted by who the kernel says it is (a
 * client that no policy rule names has a share of the slots and a per-uid limit; root and
 * named clients always find one), read no further than its unread replies allow, answered
 * in request order once its records are durable, and closed when it idles or stops
 * reading. Warnings about a client are rate-limited.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "core/fd.h"
#include "core/log.h"
#include "ledger-client.h"
#include "serve.h"

bool ratelimit_pass(struct ratelimit *rl, double now, unsigned *ret_held)
{
	if (now < rl->until) {
		rl->suppressed++;
		return false;
	}
	*ret_held = rl->suppressed;
	rl->suppressed = 0;
	rl->until = now + WARN_INTERVAL_SEC;
	return true;
}

double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void client_free(struct server *s, struct client *c)
{
	if (!c)
		return;
	if (c->warn.suppressed > 0)
		log_warning("client uid=%u pid=%u unit=%s: %u more warnings about it were held "
			    "back; it has gone",
			    c->actor.uid, c->actor.pid, c->actor.unit ?: "-", c->warn.suppressed);
	if (c->unnamed_counted)
		s->n_unnamed--;
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

/* Tells a connection it is refused, closes it, and says so (rate-limited). */
void refuse_connection(struct server *s, int fd, const char *why, const struct ledger_actor *a)
{
	_cleanup_free_ char *data = NULL;
	unsigned held = 0;
	size_t n = 0;

	if (ledger_reply_format(-EUSERS, why, 0, NULL, &data, &n) >= 0)
		(void)send(fd, data, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	s->n_refused++;
	if (ratelimit_pass(&s->warn_refused, now_mono(), &held)) {
		if (a)
			log_warning("refused a connection from uid=%u pid=%u unit=%s: %s (%zu "
				    "connections, %zu of clients no rule names; %u more refusals "
				    "held back before this one)",
				    a->uid, a->pid, a->unit ?: "-", why, s->n_clients, s->n_unnamed,
				    held);
		else
			log_warning("refused a connection: %s (%zu connections; %u more refusals "
				    "held back before this one)",
				    why, s->n_clients, held);
	}
}

int client_add(struct server *s, int fd, uint64_t accepted_ticks)
{
	enum ledger_peer_method method;
	int r;
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
	r = ledger_peer_unit(fd, &cred, accepted_ticks, s->limits.peer_method, &c->actor.unit,
			     &method);
	if (r == -ENOMEM) {
		client_free(s, c);
		return log_oom();
	}
	if (r == -ESRCH)
		log_debug("client uid=%u pid=%u: its pid is no longer its own (%s): no unit",
			  c->actor.uid, c->actor.pid, ledger_peer_method_to_string(method));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &gl) == 0) {
		c->n_groups = MIN((size_t)gl / sizeof(gid_t), (size_t)GROUPS_MAX);
		for (size_t i = 0; i < c->n_groups; i++)
			c->groups[i] = (uint32_t)groups[i];
	} /* else: more than GROUPS_MAX groups, or an old kernel: primary group only */
	c->named = c->actor.uid == 0 || ledger_policy_check(s->policy, &c->actor, c->groups,
							    c->n_groups, NULL, NULL) >= 0;
	c->last_active = now_mono();

	if (!c->named) {
		size_t same = 0;

		for (size_t i = 0; i < s->n_clients; i++)
			same += !s->clients[i]->named && s->clients[i]->actor.uid == c->actor.uid;
		if (s->n_unnamed >= CLIENTS_UNNAMED_MAX || same >= s->limits.clients_per_uid) {
			refuse_connection(s, c->fd,
					  same >= s->limits.clients_per_uid ?
						  "too many connections from this uid at once" :
						  "too many connections at once",
					  &c->actor);
			client_free(s, c);
			return 0;
		}
	}

	nc = realloc(s->clients, (s->n_clients + 1) * sizeof(*nc));
	if (!nc) {
		client_free(s, c);
		return log_oom();
	}
	s->clients = nc;
	ev.data.ptr = c;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = -errno;
		c->fd = safe_close(c->fd);
		client_free(s, c);
		return log_error_errno(r, "epoll: %m");
	}
	s->clients[s->n_clients++] = c;
	if (!c->named) {
		s->n_unnamed++;
		c->unnamed_counted = true;
	}
	log_debug("client uid=%u pid=%u unit=%s (%s, checked by %s) connected", c->actor.uid,
		  c->actor.pid, c->actor.unit ?: "-", c->named ? "named" : "not named",
		  ledger_peer_method_to_string(method));
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
void fail_pending_after(struct server *s, uint64_t last_seq, int error)
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

/* A warning about a client: at most one line per client per interval. */
static void client_warn(struct client *c, const char *fmt, ...) _printf_(2, 3);
static void client_warn(struct client *c, const char *fmt, ...)
{
	_cleanup_free_ char *m = NULL;
	unsigned held = 0;
	va_list ap;
	int k;

	if (!ratelimit_pass(&c->warn, now_mono(), &held))
		return;
	va_start(ap, fmt);
	k = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (k < 0)
		return (void)log_oom();
	if (held > 0)
		log_warning("client uid=%u pid=%u unit=%s: %s (and %u more like it in the last "
			    "%.0f s)",
			    c->actor.uid, c->actor.pid, c->actor.unit ?: "-", m, held,
			    WARN_INTERVAL_SEC);
	else
		log_warning("client uid=%u pid=%u unit=%s: %s", c->actor.uid, c->actor.pid,
			    c->actor.unit ?: "-", m);
}

static int handle_request(struct server *s, struct client *c, const char *buf, size_t n)
{
	_cleanup_free_ char *type = NULL, *why = NULL, *msg = NULL;
	_cleanup_json_ struct json_object *payload = NULL;
	uint8_t hash[LEDGER_HASH_SIZE];
	uint64_t seq = 0, last;
	bool ack;
	int r;

	r = ledger_request_parse(buf, n, &type, &payload, &why);
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0) {
		s->n_refused++;
		client_warn(c, "refused a request: %s", strna(why));
		return client_reply_error(c, r, why);
	}
	ack = streq(type, LEDGER_TYPE_ROLLBACK_ACK);
	if (ack) {
		/* Root's, and only while there is something to acknowledge. */
		if (c->actor.uid != 0 || !s->mark.rolled_back) {
			s->n_refused++;
			msg = strdup(c->actor.uid != 0 ? "only root may acknowledge a rollback" :
							 "no rollback was detected: nothing to "
							 "acknowledge");
			if (!msg)
				return log_oom();
			client_warn(c, "refused: %s", msg);
			return client_reply_error(c, c->actor.uid != 0 ? -EACCES : -EALREADY, msg);
		}
	} else if (s->mark.rolled_back) {
		s->n_refused++;
		client_warn(c, "refused: %s", s->mark.refusal);
		return client_reply_error(c, -EROFS, s->mark.refusal);
	}
	r = ack ? 0 : ledger_policy_check(s->policy, &c->actor, c->groups, c->n_groups, type, NULL);
	if (r < 0) {
		s->n_refused++;
		if (asprintf(&msg,
			     "uid %u (pid %u, unit %s) may not append '%s': no rule in %s allows "
			     "it",
			     c->actor.uid, c->actor.pid, c->actor.unit ?: "-", type,
			     s->policy->path) < 0)
			return log_oom();
		client_warn(c, "refused: %s", msg);
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
	if (ack) {
		log_notice("ledger: the rollback was acknowledged by pid %u; appending again, a "
			   "fresh high-water mark follows",
			   c->actor.pid);
		s->mark.rolled_back = false;
		s->mark.refusal = mfree(s->mark.refusal);
		s->mark.force_next = true;
	}
	return server_pending_add(s, c, seq, hash);
}

static size_t client_queued(const struct client *c)
{
	return c->n_out - c->out_head;
}

void client_read(struct server *s, struct client *c, char *buf, size_t *budget)
{
	c->last_active = now_mono();
	for (unsigned i = 0; i<PACKETS_PER_CLIENT_ROUND && * budget> 0 && !c->eof &&
			     client_queued(c) < REPLIES_QUEUED_MAX;
	     i++) {
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
		if (s->n_pending >= s->limits.max_batch || s->fatal)
			*budget = 0;
		else
			*budget = s->limits.max_batch - s->n_pending;
	}
}

void client_flush(struct server *s, struct client *c)
{
	size_t before = c->out_head;
	bool want, throttle;

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
	/* A client that leaves its replies unread is not read either (its requests wait in
	 * the kernel, its sends block); reading resumes once half the queue is taken. */
	throttle = c->throttled ? client_queued(c) > REPLIES_QUEUED_MAX / 2 :
				  client_queued(c) >= REPLIES_QUEUED_MAX;
	if (!throttle || c->out_head != before)
		c->stalled_since = 0;
	else if (c->stalled_since == 0)
		c->stalled_since = now_mono();
	if (c->dead)
		return;
	if (want != c->want_out || throttle != c->throttled) {
		struct epoll_event ev = { .events = (throttle ? 0 : EPOLLIN) | EPOLLRDHUP |
						    (want ? EPOLLOUT : 0),
					  .data.ptr = c };
		if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			c->dead = true;
		c->want_out = want;
		c->throttled = throttle;
	}
}

/* Closes what has hung on too long: connections no rule names that sent nothing for the
 * idle timeout, and any client whose unread replies have filled its queue as long. */
void expire_clients(struct server *s, double now)
{
	for (size_t i = 0; i < s->n_clients; i++) {
		struct client *c = s->clients[i];
		const char *why = NULL;
		unsigned held = 0;

		if (c->dead || c->eof)
			continue;
		if (c->stalled_since > 0 && now - c->stalled_since >= s->limits.idle_timeout)
			why = "reads none of its replies";
		else if (!c->named && client_queued(c) == 0 &&
			 now - c->last_active >= s->limits.idle_timeout)
			why = "sent nothing";
		if (!why)
			continue;
		c->dead = true;
		if (ratelimit_pass(&s->warn_closed, now, &held))
			log_warning("closed the connection of uid=%u pid=%u unit=%s: it %s for %u "
				    "s (%u more closed before it in the last %.0f s)",
				    c->actor.uid, c->actor.pid, c->actor.unit ?: "-", why,
				    s->limits.idle_timeout, held, WARN_INTERVAL_SEC);
	}
}

/* Seconds until expire_clients() has something to do, or -1. */
double expire_due(const struct server *s, double now)
{
	double due = -1;

	for (size_t i = 0; i < s->n_clients; i++) {
		const struct client *c = s->clients[i];
		double d;

		if (c->dead || c->eof)
			continue;
		if (c->stalled_since > 0)
			d = c->stalled_since + s->limits.idle_timeout - now;
		else if (!c->named && client_queued(c) == 0)
			d = c->last_active + s->limits.idle_timeout - now;
		else
			continue;
		if (d < 0)
			d = 0;
		if (due < 0 || d < due)
			due = d;
	}
	return due;
}
