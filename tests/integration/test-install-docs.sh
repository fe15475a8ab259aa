#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-install(8) matches the program: it renders without warnings at 80 columns,
# documents every option --help lists, every answer-file key the parser knows, every
# exit status the installer uses and every crash point; an unknown option is a usage
# error (exit 2).
source "$(dirname "$0")/../lib.sh"
need airlock-install groff

M8=$AIRLOCK_SRC/man/airlock-install.8
out=$(LC_ALL=C.UTF-8 groff -t -man -Tutf8 -ww -z "$M8" 2>&1)
[ -z "$out" ] || fail "$M8: groff says: $out"
plain=$(LC_ALL=C.UTF-8 MANWIDTH=80 groff -t -man -Tutf8 -P-c -P-b -P-u -rLL=80n "$M8" 2>&1)
grep -q 'table wider than line width' <<<"$plain" && fail "a table does not fit 80 columns"

expect_ok airlock-install --help >"$T/help"
for o in $(grep -oE -- '--[a-z][a-z-]+' "$T/help" | sort -u); do
	grep -qF -- "$o" <<<"$plain" || fail "'$o' is in --help but not in airlock-install(8)"
done
rc=0
airlock-install --no-such-option >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "an unknown option exited $rc, not 2"

# every key of the answer file's parser (installer/answers.c)
keys=$(sed -n '/^static const char \*const key_names/,/^};/p' "$AIRLOCK_SRC/installer/answers.c" |
	sed -n 's/.*= "\([a-z-]*\)",/\1/p')
[ "$(wc -w <<<"$keys")" -ge 19 ] || fail "could not read the keys: $keys"
for k in $keys; do
	grep -qE -- "^ +$k( |$)" <<<"$plain" || fail "answer-file key '$k' is not in airlock-install(8)"
done

# every exit status (installer/installer.h) and crash point (installer/*.c)
for n in $(sed -n 's/^#define EXIT_INSTALL_[A-Z]* \([0-9]\).*/\1/p' "$AIRLOCK_SRC/installer/installer.h"); do
	sed -n '/^EXIT STATUS/,/^ENVIRONMENT/p' <<<"$plain" | grep -qE "^ +$n( |$)" ||
		fail "exit status $n is not in airlock-install(8)"
done
points=$( (grep -ho 'install_crash_point("[a-z-]*")' "$AIRLOCK_SRC"/installer/*.c |
	sed 's/.*("\(.*\)")/\1/'; grep -o '\[STEP_[A-Z]*\] = "[a-z]*"' \
	"$AIRLOCK_SRC/installer/install.c" | sed 's/.*"\(.*\)"/\1/'
	echo header-body header-secondary header-primary) | sort -u)
[ "$(wc -w <<<"$points")" -ge 16 ] || fail "could not read the crash points: $points"
for p in $points; do
	sed -n '/AIRLOCK_INSTALL_CRASH_AT/,/^SEE ALSO/p' <<<"$plain" | tr -s ' \n' ' ' | grep -qw -- "$p" ||
		fail "crash point '$p' is not in airlock-install(8)"
done
echo ok
