/* SPDX-License-Identifier: Apache-2.0 */
#include "core/secret.h"
#include "flow.h"
#include "operator.h"
#include "recovery.h"

static const char *const screen_names[_FLOW_SCREEN_MAX] = {
	[FLOW_WELCOME] = "welcome",
	[FLOW_DISKS] = "disks",
	[FLOW_SUMMARY] = "summary",
	[FLOW_NO_TPM] = "no-tpm",
	[FLOW_PROGRESS] = "progress",
	[FLOW_KEY_SHOW] = "key-show",
	[FLOW_KEY_CONFIRM] = "key-confirm",
	[FLOW_PASSPHRASE] = "passphrase",
	[FLOW_PASSPHRASE_AGAIN] = "passphrase-again",
	[FLOW_FINISHING] = "finishing",
	[FLOW_DONE] = "done",
	[FLOW_FAILED] = "failed",
	[FLOW_EXIT] = "exit",
};

const char *flow_screen_to_string(enum flow_screen s)
{
	return s >= 0 && s < _FLOW_SCREEN_MAX ? screen_names[s] : NULL;
}

int flow_init(struct flow *f, const struct flow_disk *disks, size_t n_disks, bool tpm_usable,
	      const char *recovery_key)
{
	*f = (struct flow){
		.screen = FLOW_WELCOME,
		.disks = disks,
		.n_disks = n_disks,
		.tpm_usable = tpm_usable,
		.recovery_key = recovery_key,
	};
	f->typed = secret_alloc(FLOW_TYPED_MAX + 1);
	f->passphrase = secret_alloc(FLOW_TYPED_MAX + 1);
	if (!f->typed || !f->passphrase) {
		flow_done(f);
		return -ENOMEM;
	}
	return 0;
}

void flow_done(struct flow *f)
{
	f->typed = secret_free(f->typed);
	f->passphrase = secret_free(f->passphrase);
	f->n_typed = 0;
}

bool flow_nothing_written(const struct flow *f)
{
	switch (f->screen) {
	case FLOW_WELCOME:
	case FLOW_DISKS:
	case FLOW_SUMMARY:
	case FLOW_NO_TPM:
		return true;
	case FLOW_EXIT:
		return f->outcome == FLOW_OUTCOME_CANCELLED;
	default:
		return false;
	}
}

static void typed_clear(struct flow *f)
{
	if (f->typed)
		explicit_bzero(f->typed, FLOW_TYPED_MAX + 1);
	f->n_typed = 0;
}

static void go(struct flow *f, enum flow_screen s)
{
	typed_clear(f);
	f->screen = s;
	f->abort_armed = false;
}

static enum flow_action leave(struct flow *f, enum flow_outcome o)
{
	go(f, FLOW_EXIT);
	f->outcome = o;
	return FLOW_ACTION_EXIT;
}

/* Editing keys of a text field; true if the key was one. */
static bool edit(struct flow *f, const struct tui_input *in)
{
	if (in->key == TUI_KEY_CHAR) {
		if (f->n_typed < FLOW_TYPED_MAX)
			f->typed[f->n_typed++] = in->ch;
		return true;
	}
	if (in->key == TUI_KEY_BACKSPACE) {
		if (f->n_typed > 0)
			f->typed[--f->n_typed] = '\0';
		return true;
	}
	return false;
}

/* The first 8-letter group (1-based) where the typed key differs from the real one. */
static unsigned differing_group(const char *typed, const char *key)
{
	for (unsigned g = 0; g < RECOVERY_KEY_LETTERS / RECOVERY_KEY_GROUP; g++) {
		size_t o = g * (RECOVERY_KEY_GROUP + 1);
		if (memcmp(typed + o, key + o, RECOVERY_KEY_GROUP) != 0)
			return g + 1;
	}
	return 0;
}

static enum flow_action check_key(struct flow *f)
{
	_cleanup_secret_ char *canonical = NULL;
	int r;

	r = recovery_key_normalize(f->typed, &canonical, NULL);
	if (r < 0) {
		f->notice = FLOW_NOTICE_KEY_MALFORMED;
		return FLOW_ACTION_NONE;
	}
	if (!f->recovery_key || !streq(canonical, f->recovery_key)) {
		f->notice = FLOW_NOTICE_KEY_MISMATCH;
		f->key_group = f->recovery_key ? differing_group(canonical, f->recovery_key) : 0;
		typed_clear(f);
		return FLOW_ACTION_NONE;
	}
	go(f, FLOW_PASSPHRASE);
	return FLOW_ACTION_NONE;
}

static enum flow_action check_passphrase(struct flow *f)
{
	if (f->screen == FLOW_PASSPHRASE) {
		f->passphrase_why = operator_passphrase_refusal(f->typed);
		if (f->passphrase_why) {
			f->notice = FLOW_NOTICE_PASSPHRASE_REFUSED;
			typed_clear(f);
			return FLOW_ACTION_NONE;
		}
		memcpy(f->passphrase, f->typed, f->n_typed + 1);
		go(f, FLOW_PASSPHRASE_AGAIN);
		return FLOW_ACTION_NONE;
	}
	if (!streq(f->typed, f->passphrase)) {
		f->notice = FLOW_NOTICE_PASSPHRASE_MISMATCH;
		explicit_bzero(f->passphrase, FLOW_TYPED_MAX + 1);
		go(f, FLOW_PASSPHRASE);
		return FLOW_ACTION_NONE;
	}
	go(f, FLOW_FINISHING);
	return FLOW_ACTION_COMMIT;
}

static enum flow_action handle_key(struct flow *f, const struct tui_input *in)
{
	if (in->key == TUI_KEY_REDRAW)
		return FLOW_ACTION_NONE;

	switch (f->screen) {
	case FLOW_WELCOME:
		if (in->key == TUI_KEY_INTERRUPT || in->key == TUI_KEY_ESCAPE ||
		    (in->key == TUI_KEY_CHAR && in->ch == 'q'))
			return leave(f, FLOW_OUTCOME_CANCELLED);
		if (in->key == TUI_KEY_ENTER)
			go(f, FLOW_DISKS);
		return FLOW_ACTION_NONE;

	case FLOW_DISKS:
		if (in->key == TUI_KEY_INTERRUPT || (in->key == TUI_KEY_CHAR && in->ch == 'q'))
			return leave(f, FLOW_OUTCOME_CANCELLED);
		if (in->key == TUI_KEY_ESCAPE) {
			go(f, FLOW_WELCOME);
			return FLOW_ACTION_NONE;
		}
		if (in->key == TUI_KEY_UP && f->cursor > 0)
			f->cursor--;
		else if (in->key == TUI_KEY_DOWN && f->cursor + 1 < f->n_disks)
			f->cursor++;
		else if (in->key == TUI_KEY_HOME)
			f->cursor = 0;
		else if (in->key == TUI_KEY_END && f->n_disks > 0)
			f->cursor = f->n_disks - 1;
		else if (in->key == TUI_KEY_ENTER) {
			if (f->n_disks == 0)
				f->notice = FLOW_NOTICE_NO_DISKS;
			else if (f->disks[f->cursor].refused)
				f->notice = FLOW_NOTICE_DISK_REFUSED;
			else {
				f->chosen = f->cursor;
				go(f, FLOW_SUMMARY);
			}
		}
		return FLOW_ACTION_NONE;

	case FLOW_SUMMARY:
		if (in->key == TUI_KEY_INTERRUPT)
			return leave(f, FLOW_OUTCOME_CANCELLED);
		if (in->key == TUI_KEY_ESCAPE) {
			go(f, FLOW_DISKS);
			return FLOW_ACTION_NONE;
		}
		if (edit(f, in))
			return FLOW_ACTION_NONE;
		if (in->key == TUI_KEY_ENTER) {
			if (!streq(f->typed, f->disks[f->chosen].name)) {
				f->notice = FLOW_NOTICE_NAME_MISMATCH;
				typed_clear(f);
				return FLOW_ACTION_NONE;
			}
			if (!f->tpm_usable) {
				go(f, FLOW_NO_TPM);
				return FLOW_ACTION_NONE;
			}
			go(f, FLOW_PROGRESS);
			return FLOW_ACTION_WRITE;
		}
		return FLOW_ACTION_NONE;

	case FLOW_NO_TPM:
		if (in->key == TUI_KEY_INTERRUPT)
			return leave(f, FLOW_OUTCOME_CANCELLED);
		if (in->key == TUI_KEY_ESCAPE) {
			go(f, FLOW_SUMMARY);
			return FLOW_ACTION_NONE;
		}
		if (edit(f, in))
			return FLOW_ACTION_NONE;
		if (in->key == TUI_KEY_ENTER) {
			if (!streq(f->typed, FLOW_NO_TPM_PHRASE)) {
				f->notice = FLOW_NOTICE_PHRASE_MISMATCH;
				typed_clear(f);
				return FLOW_ACTION_NONE;
			}
			go(f, FLOW_PROGRESS);
			return FLOW_ACTION_WRITE;
		}
		return FLOW_ACTION_NONE;

	case FLOW_KEY_SHOW:
	case FLOW_KEY_CONFIRM:
	case FLOW_PASSPHRASE:
	case FLOW_PASSPHRASE_AGAIN:
		if (in->key == TUI_KEY_INTERRUPT) {
			if (f->abort_armed)
				return leave(f, FLOW_OUTCOME_ABANDONED);
			f->abort_armed = true;
			f->notice = FLOW_NOTICE_ABORT_ARMED;
			return FLOW_ACTION_NONE;
		}
		f->abort_armed = false;
		if (f->screen == FLOW_PASSPHRASE || f->screen == FLOW_PASSPHRASE_AGAIN) {
			if (in->key == TUI_KEY_ESCAPE) {
				explicit_bzero(f->passphrase, FLOW_TYPED_MAX + 1);
				go(f, FLOW_PASSPHRASE);
				return FLOW_ACTION_NONE;
			}
			if (edit(f, in))
				return FLOW_ACTION_NONE;
			if (in->key == TUI_KEY_ENTER)
				return check_passphrase(f);
			return FLOW_ACTION_NONE;
		}
		if (f->screen == FLOW_KEY_SHOW) {
			if (in->key == TUI_KEY_ENTER)
				go(f, FLOW_KEY_CONFIRM);
			return FLOW_ACTION_NONE;
		}
		if (in->key == TUI_KEY_ESCAPE) {
			go(f, FLOW_KEY_SHOW);
			return FLOW_ACTION_NONE;
		}
		if (edit(f, in))
			return FLOW_ACTION_NONE;
		if (in->key == TUI_KEY_ENTER)
			return check_key(f);
		return FLOW_ACTION_NONE;

	case FLOW_DONE:
		if (in->key == TUI_KEY_ENTER)
			return FLOW_ACTION_REBOOT;
		if (in->key == TUI_KEY_INTERRUPT || in->key == TUI_KEY_ESCAPE ||
		    (in->key == TUI_KEY_CHAR && in->ch == 'q'))
			return leave(f, FLOW_OUTCOME_INSTALLED);
		return FLOW_ACTION_NONE;

	case FLOW_FAILED:
		if (in->key == TUI_KEY_ENTER || in->key == TUI_KEY_INTERRUPT ||
		    in->key == TUI_KEY_ESCAPE || (in->key == TUI_KEY_CHAR && in->ch == 'q'))
			return leave(f, FLOW_OUTCOME_FAILED);
		return FLOW_ACTION_NONE;

	case FLOW_PROGRESS:
	case FLOW_FINISHING:
	case FLOW_EXIT:
	default:
		/* Long steps run to their end; keys pressed meanwhile mean nothing. */
		return FLOW_ACTION_NONE;
	}
}

enum flow_action flow_handle(struct flow *f, const struct flow_event *e)
{
	f->notice = FLOW_NOTICE_NONE;

	switch (e->type) {
	case FLOW_EVENT_KEY:
		return handle_key(f, &e->input);
	case FLOW_EVENT_WRITTEN:
		if (f->screen == FLOW_PROGRESS)
			go(f, FLOW_KEY_SHOW);
		return FLOW_ACTION_NONE;
	case FLOW_EVENT_COMMITTED:
		if (f->screen == FLOW_FINISHING) {
			go(f, FLOW_DONE);
			f->outcome = FLOW_OUTCOME_INSTALLED;
		}
		return FLOW_ACTION_NONE;
	case FLOW_EVENT_FAILED:
		if (f->screen == FLOW_PROGRESS || f->screen == FLOW_FINISHING) {
			go(f, FLOW_FAILED);
			f->outcome = FLOW_OUTCOME_FAILED;
		}
		return FLOW_ACTION_NONE;
	}
	return FLOW_ACTION_NONE;
}
