#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A power cut never leaves a disk that claims to be installed and is not: the data
# volume's LUKS2 header is the marker and is written last. Here the installer is killed
# with SIGKILL
#   - at every step boundary (AIRLOCK_INSTALL_CRASH_AT, a TEST-ONLY fault injection),
#     including between the stages of the header write itself, over a disk that held a
#     complete earlier install;
#   - at random moments, slowed down by a fake mcopy first in the tools path.
# Afterwards the disk holds no LUKS2 header, unless the header was complete (then the
# recovery key opens it); and the same disk installs cleanly again.
# (SIGKILL keeps what was written to the page cache, so this checks the order of the
# writes, not the device's flushing, which fdatasync between the stages takes care of.)
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-install.sh"

install_medium
install_keys
cd "$T"

DISK=$T/target.img
answers "$T/answers.conf" "disk = $DISK" "confirm = yes" "recovery-key = file" \
	"recovery-key-file = $T/key" "tpm = allow-missing" "tcti = swtpm:host=127.0.0.1,port=1" \
	"pbkdf = pbkdf2" "pbkdf-time-cost = 1000"
run() { install_run --answers "$T/answers.conf" --disk "$DISK" "$@"; }

# The header area of the data partition where this disk's layout puts it, whatever the
# partition table says now (it may be gone).
header_at() {
	dd if="$DISK" of="$T/hdr" bs=512 skip="$DATA_START" count=32768 status=none
	cryptsetup isLuks --type luks2 "$T/hdr" 2>/dev/null
}

step "a complete install first: the disk then claims, rightly, to be installed"
new_target "$DISK" 256M
expect_ok run >/dev/null
DATA_START=$(part "$DISK" 6 start)
is_installed "$DISK" || fail "a complete install has no header"
header_at || fail "the header is not where the layout puts it"

step "killed at each step of a second install over it"
for at in started wipe-markers wipe table esp root verity verify keyslots tpm filesystem key-delivered ledger \
	header-body header-secondary header-primary; do
	rm -f "$T/key"
	rc=0
	AIRLOCK_INSTALL_CRASH_AT=$at run >"$T/crash.log" 2>&1 || rc=$?
	[ $rc = 137 ] || {
		cat "$T/crash.log"
		fail "crash point '$at': exit $rc, not killed"
	}
	case $at in
	started)
		# Killed before anything was written: the earlier install is untouched.
		is_installed "$DISK" || fail "$at: the earlier install was damaged"
		echo "killed at $at: the earlier, complete install is still there"
		;;
	header-secondary | header-primary)
		# The header is complete from its secondary copy on: so is the install.
		header_at || fail "$at: no header after it was written"
		head -n1 "$T/key" | tr -d '\n' |
			cryptsetup open --test-passphrase --key-file - "$T/hdr" ||
			fail "$at: the recovery key does not open the complete header"
		echo "killed after $at: complete, and the recovery key opens it"
		;;
	*)
		if header_at; then fail "killed at $at: the disk claims to be installed"; fi
		if is_installed "$DISK"; then fail "killed at $at: the disk claims to be installed"; fi
		echo "killed at $at: no LUKS2 header anywhere it would be found"
		;;
	esac
done

step "killed at random moments (a slow mcopy first in the tools path)"
mkdir -p "$T/tools"
real_mcopy=$(command -v mcopy)
cat >"$T/tools/mcopy" <<EOF
#!/bin/sh
# TEST-ONLY: a slow mcopy, so that the ESP stage lasts long enough to be killed in.
sleep 0.15
exec "$real_mcopy" "\$@"
EOF
chmod +x "$T/tools/mcopy"
for i in 1 2 3 4; do
	prev=
	header_at && prev=$(cryptsetup luksUUID "$T/hdr")
	rm -f "$T/key" "$T/random.log"
	(
		export AIRLOCK_TOOLS_DIR=$T/tools
		install_exec --answers "$T/answers.conf" --disk "$DISK"
	) >"$T/random.log" 2>&1 &
	pid=$!
	sleep "$((RANDOM % 3)).$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 $pid 2>/dev/null || true
	rc=0
	wait $pid || rc=$?
	! pgrep -f -- "--answers $T/answers.conf" >/dev/null || fail "run $i: an installer outlived the kill"
	if grep -q '^installed: ' "$T/random.log" && [ $rc = 0 ]; then
		is_installed "$DISK" || fail "run $i: finished but no header"
		echo "run $i: finished before the kill"
	elif header_at && [ -n "$prev" ] && [ "$(cryptsetup luksUUID "$T/hdr")" = "$prev" ]; then
		# Killed before the first write: the earlier install, whole.
		is_installed "$DISK" || fail "run $i: the earlier install's table is gone but not its header"
		echo "run $i: killed (exit $rc) before writing; the earlier install is intact"
	elif [ -s "$T/key" ] && header_at &&
		head -n1 "$T/key" | tr -d '\n' | cryptsetup open --test-passphrase --key-file - "$T/hdr"; then
		echo "run $i: killed (exit $rc) after the header was complete"
	else
		if header_at || is_installed "$DISK"; then
			fail "run $i: killed (exit $rc) but the disk claims to be installed"
		fi
		echo "run $i: killed (exit $rc) after: $(grep -o 'install: [^:]*: done' "$T/random.log" |
			tail -n1 || echo nothing)"
	fi
done

step "the same disk installs cleanly after all that"
rm -f "$T/key"
expect_ok run >/dev/null
is_installed "$DISK" || fail "no header after a clean install"
data_header "$DISK" "$T/final.hdr"
head -n1 "$T/key" | tr -d '\n' | cryptsetup open --test-passphrase --key-file - "$T/final.hdr" ||
	fail "the recovery key does not open the final install"
echo "ok"
