# SPDX-License-Identifier: Apache-2.0
#
# A software TPM for integration tests; source after tests/lib.sh.
#   swtpm_start DIR   start swtpm with its state in DIR on a free pair of ports on
#                     127.0.0.1; sets SWTPM_TCTI; stopped when the test exits
#   swtpm_reboot      stop and start again: same seeds (blobs still load), PCRs reset
#   swtpm_stop
# swtpm has no resource manager: whatever a test leaves loaded stays loaded.
#
# Simulated boots, through the TEST-ONLY driver ($TOOL, $SWTPM_TCTI):
#   make_uki DIR       random .linux/.osrel/.cmdline/.initrd contents in DIR
#   boot_measure DIR   extend PCR 7 with a Secure Boot state and PCR 11 with DIR's
#                      sections as systemd-stub 252 does (digests from sha256sum)
#   predict DIR        our prediction of that PCR 11 value

SWTPM_TCTI=
_swtpm_dir=
_swtpm_port=

_swtpm_port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_swtpm_launch() {
	# --daemon changes to /: the state directory must be absolute.
	swtpm socket --tpm2 --tpmstate dir="$_swtpm_dir" \
		--server type=tcp,port="$_swtpm_port",bindaddr=127.0.0.1 \
		--ctrl type=tcp,port="$((_swtpm_port + 1))",bindaddr=127.0.0.1 \
		--flags not-need-init,startup-clear --daemon --pid file="$_swtpm_dir/swtpm.pid" \
		2>>"$_swtpm_dir/swtpm.log"
}

swtpm_start() {
	local i
	need swtpm
	mkdir -p "$1"
	_swtpm_dir=$(cd "$1" && pwd)
	for i in $(seq 30); do
		_swtpm_port=$((20000 + (RANDOM % 20000) * 2))
		if _swtpm_port_busy "$_swtpm_port" || _swtpm_port_busy "$((_swtpm_port + 1))"; then
			continue
		fi
		if _swtpm_launch; then
			SWTPM_TCTI="swtpm:host=127.0.0.1,port=$_swtpm_port"
			on_exit swtpm_stop
			return 0
		fi
	done
	cat "$_swtpm_dir/swtpm.log" >&2 || true
	fail "swtpm did not start on any free port"
}

swtpm_stop() {
	local pid i
	[ -s "$_swtpm_dir/swtpm.pid" ] || return 0
	pid=$(cat "$_swtpm_dir/swtpm.pid")
	rm -f "$_swtpm_dir/swtpm.pid"
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
}

swtpm_reboot() {
	local i
	swtpm_stop
	for i in $(seq 50); do
		_swtpm_launch && return 0
		sleep 0.1
	done
	fail "swtpm did not restart on port $_swtpm_port"
}

_sha() { sha256sum "$@" | cut -c1-64; }

make_uki() {
	mkdir -p "$1"
	head -c 100000 /dev/urandom >"$1/linux"
	printf 'ID=airlock\nVERSION_ID=%s\n' "$1" >"$1/osrel"
	printf 'console=ttyS0 airlock.slot=a' >"$1/cmdline"
	head -c 5000 /dev/urandom >"$1/initrd"
}

boot_measure() {
	local s
	"$TOOL" --tcti "$SWTPM_TCTI" pcr-extend 7 "$(printf 'secure boot state: db cert A' | _sha)"
	for s in linux osrel cmdline initrd; do
		"$TOOL" --tcti "$SWTPM_TCTI" pcr-extend 11 "$(printf '.%s\0' $s | _sha)"
		"$TOOL" --tcti "$SWTPM_TCTI" pcr-extend 11 "$(_sha "$1/$s")"
	done
}

predict() {
	"$TOOL" pcr11 --linux "$1/linux" --osrel "$1/osrel" --cmdline "$1/cmdline" --initrd "$1/initrd"
}
