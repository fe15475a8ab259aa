# SPDX-License-Identifier: Apache-2.0
#
# Sourced by every integration and e2e test (bash). Provides:
#   skip REASON            exit 77 (a failure under CI=true, see tests/run-tests)
#   fail MESSAGE           exit 1
#   need TOOL...           skip unless every tool is on PATH
#   need_root              skip unless running as root
#   T                      a fresh temporary directory, removed on exit
#   on_exit CMD...         run CMD when the test exits (last registered runs first)
#   expect_fail REGEX CMD  CMD must exit non-zero and print something matching REGEX
#   expect_ok CMD          CMD must exit 0 (its output is shown on failure)
#   step MESSAGE           a progress line in the test log
set -euo pipefail

AIRLOCK_SRC=${AIRLOCK_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
AIRLOCK_BUILD=${AIRLOCK_BUILD:-$AIRLOCK_SRC/build}
export AIRLOCK_SRC AIRLOCK_BUILD
export PATH=$AIRLOCK_BUILD:$PATH

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

step() {
	echo "--- $*"
}

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (make deps)"
	done
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

_on_exit=()
on_exit() {
	_on_exit=("$*" "${_on_exit[@]}")
}
_run_on_exit() {
	local rc=$? c
	for c in "${_on_exit[@]}"; do
		eval "$c" || true
	done
	exit $rc
}
trap _run_on_exit EXIT

T=$(mktemp -d "${TMPDIR:-/tmp}/airlock-test.XXXXXX")
on_exit "rm -rf '$T'"
# What the programs under test leave in TMPDIR when a test kills them (the installer's
# airlock-esp.*, airlock-install.*) goes with $T, not into the host's /tmp.
mkdir "$T/tmp"
export TMPDIR=$T/tmp

# tmux_shots NAME: a tmux server of this test's own (its own socket, nothing shared with
# other sessions; `tmux` below talks to it), killed at exit, and SHOTS, the directory
# the test keeps its screens in as text: build/test-logs/NAME.
tmux_shots() {
	SHOTS=${AIRLOCK_TEST_LOGS:-$AIRLOCK_SRC/build/test-logs}/$1
	rm -rf "$SHOTS" && mkdir -p "$SHOTS"
	TMUX_SOCKET=airlock-$1-$$
	on_exit "command tmux -L $TMUX_SOCKET kill-server 2>/dev/null"
}
tmux() { command tmux -L "${TMUX_SOCKET:?tmux_shots first}" "$@"; }
# In the tmux session named by $WIN: its screen as text, keys (tmux key names), text
# typed literally, and shot NAME TEXT [SECONDS]: wait (10 s by default) until TEXT is on
# the screen and keep the screen as $SHOTS/NAME.txt, or fail showing it.
screen() { tmux capture-pane -p -t "$WIN"; }
keys() { tmux send-keys -t "$WIN" "$@"; }
type_text() { tmux send-keys -t "$WIN" -l "$1"; }
shot() {
	local i
	for i in $(seq $((${3:-10} * 10))); do
		screen >"$T/screen.txt"
		if grep -qF -- "$2" "$T/screen.txt"; then
			cp "$T/screen.txt" "$SHOTS/$1.txt"
			return 0
		fi
		sleep 0.1
	done
	screen >"$SHOTS/$1.txt"
	cat "$SHOTS/$1.txt"
	fail "'$2' did not appear on the screen (kept as $SHOTS/$1.txt)"
}

expect_fail() {
	local regex=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -eq 0 ]; then
		printf '%s\n' "$out" >&2
		fail "expected failure but succeeded: $*"
	fi
	if ! grep -qE -- "$regex" <<<"$out"; then
		printf '%s\n' "$out" >&2
		fail "output of '$*' does not match /$regex/"
	fi
	printf 'ok (refused as expected): %s\n' "$(grep -m1 -E -- "$regex" <<<"$out")"
}

expect_ok() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" >&2
		fail "exit $rc: $*"
	fi
	printf '%s\n' "$out"
}

# The lock a test build uses: the committed one when the archive still has its
# packages (fetched into the pool as needed), else a fresh one (scripts/image says
# loudly why). Prints its path.
test_lock() {
	"$AIRLOCK_SRC/scripts/image" --prepare --out "$AIRLOCK_BUILD/test-lock"
}

# The pool test builds read from.
test_pool() {
	echo "${AIRLOCK_POOL:-$HOME/.cache/airlock/pool}"
}

# test_kernel_dir: prints the directory of an unpacked Debian kernel package
# (DIR/boot/vmlinuz-VER, DIR/usr/lib/modules/VER with a generated modules.dep; VER is
# $(ls DIR/usr/lib/modules)). The .deb is the locked one when manifests/airlock.lock and the pool
# ($AIRLOCK_POOL or ~/.cache/airlock/pool) have it, otherwise the kernel that
# linux-image-amd64 currently depends on, fetched once with 'apt-get download' into
# $AIRLOCK_BUILD/test-cache. Unpacked once per cache (keyed by the .deb's sha256).
test_kernel_deb() {
	local cache=$AIRLOCK_BUILD/test-cache/kernel lock=$AIRLOCK_SRC/manifests/airlock.lock
	local pool=${AIRLOCK_POOL:-${HOME:-/nonexistent}/.cache/airlock/pool} name file sum
	mkdir -p "$cache"
	if [ -f "$lock" ] && [ -d "$pool" ]; then
		# the paragraph of the locked linux-image-<version>-amd64
		read -r name file sum < <(awk '
			/^Package: linux-image-[0-9].*-amd64$/ { p = $2 }
			p && /^Filename:/ { f = $2 }
			p && /^SHA256:/ { s = $2 }
			/^$/ { if (p && f && s) { print p, f, s; exit } p = f = s = "" }
			END { if (p && f && s) print p, f, s }' "$lock") || true
		if [ -n "${file:-}" ] && [ -f "$pool/$(basename "$file")" ]; then
			echo "$sum  $pool/$(basename "$file")" | sha256sum -c --quiet >&2 ||
				fail "$pool/$(basename "$file") does not match the lock's sha256"
			echo "$pool/$(basename "$file")"
			return
		fi
	fi
	need apt-get apt-cache
	name=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$name" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -q >&2 || true # a fresh machine may have no package lists yet
		name=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	fi
	[ -n "$name" ] || skip "cannot resolve linux-image-amd64 with apt-cache (apt-get update?)"
	file=$(ls "$cache"/"${name}"_*.deb 2>/dev/null | head -1 || true)
	if [ -z "$file" ]; then
		(cd "$cache" && apt-get download -q "$name" >&2) ||
			skip "apt-get download $name failed (no archive reachable?)"
		file=$(ls "$cache"/"${name}"_*.deb | head -1)
	fi
	echo "$file"
}

test_kernel_dir() {
	local deb sum dir ver
	need dpkg-deb depmod
	deb=$(test_kernel_deb)
	sum=$(sha256sum "$deb" | cut -c1-16)
	dir=$AIRLOCK_BUILD/test-cache/kernel/root-$sum
	if [ ! -f "$dir/.done" ]; then
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp"
		dpkg-deb -x "$deb" "$dir.tmp" >&2
		# merged /usr like the image; the package ships lib/modules/
		if [ -d "$dir.tmp/lib/modules" ] && [ ! -L "$dir.tmp/lib" ]; then
			mkdir -p "$dir.tmp/usr"
			mv "$dir.tmp/lib" "$dir.tmp/usr/lib"
			ln -s usr/lib "$dir.tmp/lib"
		fi
		ver=$(ls "$dir.tmp/usr/lib/modules")
		depmod -b "$dir.tmp" "$ver" >&2
		touch "$dir.tmp/.done"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
}

# test_initramfs_tree PROGRAM DIR: a stand-in image tree for the initramfs stage until
# tests can use a staged image: DIR/usr/lib/modules from test_kernel_dir (hard links),
# and in DIR/usr/lib/x86_64-linux-gnu the shared libraries PROGRAM needs plus
# libgcc_s.so.1 and libtss2-tcti-device.so.0 (both dlopen()ed), copied from this
# (Debian 12) build host as the image would ship them.
# Sets TEST_KDIR (test_kernel_dir's directory) and TEST_KVER.
test_initramfs_tree() {
	local prog=$1 dir=$2 kdir lib
	kdir=$(test_kernel_dir)
	TEST_KDIR=$kdir
	TEST_KVER=$(ls "$kdir/usr/lib/modules")
	mkdir -p "$dir/usr/lib/modules" "$dir/usr/lib/x86_64-linux-gnu" "$dir/usr/lib64"
	cp -al "$kdir/usr/lib/modules/$TEST_KVER" "$dir/usr/lib/modules/" 2>/dev/null ||
		cp -a "$kdir/usr/lib/modules/$TEST_KVER" "$dir/usr/lib/modules/"
	for lib in $(ldd "$prog" | awk '/=> \// { print $3 } /^\t\/lib64\// { print $1 }') \
		/usr/lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0; do
		cp -L "$lib" "$dir/usr/lib/x86_64-linux-gnu/$(basename "$lib")"
	done
	ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$dir/usr/lib64/ld-linux-x86-64.so.2"
	ln -s usr/lib "$dir/lib"
	ln -s usr/lib64 "$dir/lib64"
}

# test_image NAME [airlock-build build OPTIONS...]
#   Builds an image with scripts/image (the stale-lock fallback and the TEST-ONLY
#   snakeoil Secure Boot key included) into $AIRLOCK_BUILD/test-cache/image-NAME-KEY
#   and sets TEST_IMAGE_DIR. KEY covers everything that goes into the image: the
#   programs, the lock, manifests/, overlay/, units/, scripts/image, the options
#   and the files of any directory among them; so tests share one build per run, and
#   a changed input never reuses a stale image. Safe to call from concurrent tests.
test_image() {
	local name=$1 lock key dir cache=$AIRLOCK_BUILD/test-cache a
	shift
	lock=$(test_lock)
	key=$(
		{
			cat "$AIRLOCK_BUILD"/airlock-* "$lock" "$AIRLOCK_SRC/scripts/image"
			printf '%s\n' "$@"
			for a in "$AIRLOCK_SRC/manifests" "$AIRLOCK_SRC/overlay" "$AIRLOCK_SRC/units" "$@"; do
				[ -d "$a" ] || continue
				(cd "$a" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
				(cd "$a" && find . -type l -printf '%p -> %l\n' | sort)
			done
		} | sha256sum | cut -c1-16
	)
	dir=$cache/image-$name-$key
	mkdir -p "$cache"
	(
		flock 9
		if [ ! -f "$dir/ok" ]; then
			find "$cache" -maxdepth 1 -name "image-$name-*" ! -path "$dir" -exec rm -rf {} +
			rm -rf "$dir"
			echo "--- building the $name test image into $dir" >&2
			"$AIRLOCK_SRC/scripts/image" --out "$dir" -- "$@" >&2 || exit 1
			touch "$dir/ok"
		fi
	) 9>"$cache/image-$name.lock" || fail "building the $name test image failed"
	TEST_IMAGE_DIR=$dir
}

# test_image_parts IMAGE_DIR OUT
#   The parts a build of IMAGE_DIR put into its disk, for tests that assemble disks
#   with `airlock-build disk`: OUT/vmlinuz (the UKI's kernel), OUT/stub,
#   OUT/sd-boot and OUT/os-release (from the root image).
test_image_parts() {
	local base=$1 parts=$2
	mkdir -p "$parts"
	objcopy -O binary --only-section=.linux "$base/uki.efi" "$parts/vmlinuz" &&
		unsquashfs -cat "$base/root.squashfs" usr/lib/systemd/boot/efi/linuxx64.efi.stub >"$parts/stub" &&
		unsquashfs -cat "$base/root.squashfs" usr/lib/systemd/boot/efi/systemd-bootx64.efi >"$parts/sd-boot" &&
		unsquashfs -cat "$base/root.squashfs" usr/lib/os-release >"$parts/os-release"
}

# check_verb_docs PROGRAM MANPAGE: the man page renders without warnings and describes
# every command of PROGRAM --help with each option of its COMMAND --help; an unknown
# command or option is a usage error (exit 2).
check_verb_docs() {
	local prog=$1 man=$2 out plain commands c o rc
	out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man" 2>&1)
	[ -z "$out" ] || fail "$man: groff says: $out"
	plain=$(LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -Tutf8 -P-c -P-b -P-u "$man" 2>/dev/null)
	commands=$("$prog" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }')
	[ -n "$commands" ] || fail "no commands in $prog --help"
	rc=0
	"$prog" no-such-command >/dev/null 2>&1 || rc=$?
	[ $rc = 2 ] || fail "'$prog no-such-command' exited $rc, not 2 (usage)"
	for c in $commands; do
		grep -qE "^$prog $c|^ +$c( |$)" <<<"$plain" || fail "$man does not describe '$c'"
		"$prog" "$c" --help >"$T/help.$c" || fail "$prog $c --help failed"
		grep -q "^Usage: $prog $c" "$T/help.$c" || fail "$c --help: $(cat "$T/help.$c")"
		for o in $(grep -oE -- '--[a-z][a-z-]+' "$T/help.$c" | sort -u); do
			grep -qF -- "$o" <<<"$plain" || fail "'$c $o' is in --help but not in $man"
		done
		rc=0
		"$prog" "$c" --no-such-option >/dev/null 2>&1 || rc=$?
		[ $rc = 2 ] || fail "'$prog $c --no-such-option' exited $rc, not 2 (usage)"
	done
}
