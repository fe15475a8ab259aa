/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The interactive way: the flow (flow.c) decides, the screens (screens.c) draw, and
 * this file turns the flow's actions into the same stages the unattended way runs.
 */
#include <stdio.h>
#include <sys/mman.h>

#include "core/fd.h"
#include "core/log.h"
#include "core/progress.h"
#include "ext/tui.h"
#include "flow.h"
#include "operator.h"
#include "installer.h"
#include "screens.h"

#define REDRAW_INTERVAL 0.1

struct progress_ui {
	struct screen_view *view;
	double last_draw;
};

static void on_progress(void *userdata, enum install_step step, uint64_t done, uint64_t total)
{
	struct progress_ui *ui = userdata;
	struct step_view *s = &ui->view->steps[step];
	double now = progress_now();

	bool first = !s->started;

	if (first)
		s->started = now;
	s->done = done;
	s->total = total;
	if (done >= total && total > 0)
		s->finished = now;
	/* A step's start and end are always shown; the bytes in between ten times a second. */
	if (first || s->finished || now - ui->last_draw >= REDRAW_INTERVAL) {
		screens_draw(ui->view);
		ui->last_draw = now;
	}
}

static int outcome_status(const struct flow *f, const struct install_disk *target)
{
	switch (f->outcome) {
	case FLOW_OUTCOME_INSTALLED:
		printf("airlock-install: installed on %s.\n", target->node);
		return 0;
	case FLOW_OUTCOME_CANCELLED:
		printf("airlock-install: cancelled; nothing was changed on any disk.\n");
		return EXIT_INSTALL_CANCELLED;
	case FLOW_OUTCOME_ABANDONED:
		printf("airlock-install: abandoned at the recovery key; %s holds no data volume "
		       "header and is not installed.\n",
		       target->node);
		return EXIT_INSTALL_FAILED;
	default:
		printf("airlock-install: the install failed; %s is not installed.\n",
		       target ? target->node : "the disk");
		return EXIT_INSTALL_FAILED;
	}
}

int interactive_run(struct install_ctx *c)
{
	_cleanup_free_ struct flow_disk *fdisks = new0(struct flow_disk, c->n_disks);
	_cleanup_free_ char *error = NULL;
	struct screen_view view = {
		.source = &c->source,
		.disks = c->disks,
		.plans = (const struct install_plan *const *)c->plans,
		.n_disks = c->n_disks,
		.tpm = &c->tpm,
	};
	struct progress_ui ui = { .view = &view };
	struct install_job job = {
		.settings = &c->settings,
		.source = &c->source,
		.tpm = &c->tpm,
		.recovery_key = c->recovery_key,
		.progress = { .update = on_progress, .userdata = &ui },
	};
	struct flow f;
	int status, r, log_fd = -EBADF;

	if (!fdisks)
		return log_oom(), EXIT_INSTALL_FAILED;
	for (size_t i = 0; i < c->n_disks; i++)
		fdisks[i] = (struct flow_disk){
			.name = install_disk_name(&c->disks[i]),
			.refused = c->disks[i].refusal || !c->plans[i],
		};
	r = flow_init(&f, fdisks, c->n_disks, c->tpm.usable, c->recovery_key);
	if (r < 0)
		return log_oom(), EXIT_INSTALL_FAILED;
	view.flow = &f;

	r = tui_begin();
	if (r < 0) {
		flow_done(&f);
		log_error_errno(r, "no terminal to show the installer on (%m); for an unattended "
				   "install give --answers FILE");
		return EXIT_INSTALL_USAGE;
	}
	/* Log lines would scribble over the screens: keep them, and print them after. */
	log_fd = memfd_create("airlock-install-log", MFD_CLOEXEC);
	if (log_fd >= 0)
		log_set_fd(log_fd);

	for (;;) {
		struct flow_event ev = { .type = FLOW_EVENT_KEY };
		enum flow_action a;

		screens_draw(&view);
		r = tui_read(500, &ev.input);
		if (r < 0) {
			/* No operator can answer any more: leave as Ctrl-C would, and the
			 * disk claims nothing (its data volume header is written last). */
			log_error_errno(r, "the terminal is gone (%m); leaving");
			if (flow_nothing_written(&f))
				f.outcome = FLOW_OUTCOME_CANCELLED;
			else if (f.outcome == FLOW_OUTCOME_NONE)
				f.outcome = FLOW_OUTCOME_ABANDONED;
			break;
		}
		if (install_interrupted && flow_nothing_written(&f)) {
			f.outcome = FLOW_OUTCOME_CANCELLED;
			break;
		}
		if (r == 0)
			continue;
		a = flow_handle(&f, &ev);
		if (a == FLOW_ACTION_WRITE) {
			job.target = &c->disks[f.chosen];
			job.plan = c->plans[f.chosen];
			screens_draw(&view);
			r = install_write(&job, &error);
			if (r < 0) {
				view.error = error ?: strerror(-r);
				install_record_failure(&job, view.error);
			}
			flow_handle(&f, &(struct flow_event){ .type = r < 0 ? FLOW_EVENT_FAILED :
									      FLOW_EVENT_WRITTEN });
		} else if (a == FLOW_ACTION_COMMIT) {
			_cleanup_free_ char *hash = NULL;

			screens_draw(&view);
			/* The console's passphrase, as its hash only (written by the commit). */
			r = operator_hash_new(f.passphrase, &hash);
			explicit_bzero(f.passphrase, FLOW_TYPED_MAX + 1);
			if (r < 0)
				error = strdup("hashing the operator passphrase failed");
			else {
				c->settings.operator_hash = hash;
				r = install_commit(&job, &error);
				c->settings.operator_hash = NULL;
			}
			if (r < 0) {
				view.error = error ?: strerror(-r);
				install_record_failure(&job, view.error);
			}
			flow_handle(&f,
				    &(struct flow_event){ .type = r < 0 ? FLOW_EVENT_FAILED :
									  FLOW_EVENT_COMMITTED });
		} else if (a == FLOW_ACTION_REBOOT) {
			tui_end();
			if (log_fd >= 0) {
				log_set_fd(STDERR_FILENO);
				if (lseek(log_fd, 0, SEEK_SET) == 0)
					(void)copy_bytes(log_fd, STDERR_FILENO, UINT64_MAX, NULL);
				log_fd = safe_close(log_fd);
			}
			install_job_done(&job);
			flow_done(&f);
			printf("airlock-install: installed on %s; rebooting.\n", job.target->node);
			return install_reboot() < 0 ? EXIT_INSTALL_FAILED : 0;
		} else if (a == FLOW_ACTION_EXIT)
			break;
	}
	/* Nothing of the key stays in ncurses' screen buffers. */
	tui_clear();
	tui_refresh();
	tui_end();
	if (log_fd >= 0) {
		log_set_fd(STDERR_FILENO);
		if (lseek(log_fd, 0, SEEK_SET) == 0)
			(void)copy_bytes(log_fd, STDERR_FILENO, UINT64_MAX, NULL);
		log_fd = safe_close(log_fd);
	}
	if (f.outcome == FLOW_OUTCOME_ABANDONED)
		install_record_failure(&job, "abandoned by the operator at the recovery key");
	install_job_done(&job);
	if (f.outcome == FLOW_OUTCOME_FAILED && view.error)
		log_error("%s", view.error);
	status = outcome_status(&f, job.target);
	flow_done(&f);
	return status;
}
