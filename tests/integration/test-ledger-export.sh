#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# show and export: every export format parses with a standard tool (jq for jsonl; RFC
# 5424 checked field by field; CEF header and extensions unescaped and checked), the
# filters select what they say, and show --follow prints records as they come, across
# a file rotation.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ledger.sh"
need python3

ledger_policy "allow uid=$(id -u)"
ledger_start --max-file-size 8K
L append --socket "$SOCK" -q install.disk '{"disk":"/dev/vda","size":1024}'
L append --socket "$SOCK" -q test.unicode '{"note":"café – ünïcode ✓"}'
L append --socket "$SOCK" -q test.escapes '{"s":"a=b|c\\d\nnew line ] \" end"}'
seq 1 40 | sed 's/.*/{"i":&}/' | L append --socket "$SOCK" -q test.bulk -
ledger_stop
L export --ledger "$LEDGER" --format jsonl >"$T/all.jsonl"
n=$(wc -l <"$T/all.jsonl")
[ "$n" -gt 45 ] || fail "only $n records"

step "jsonl: every line is a record as stored, jq reads each"
jq -e -c 'select(.seq and .time and .type and .actor and .payload and .prev and .hash)' \
	"$T/all.jsonl" >"$T/jq.out" || fail "jq rejected the export"
[ "$(wc -l <"$T/jq.out")" = "$n" ] || fail "jq saw $(wc -l <"$T/jq.out") records of $n"
cat "$LEDGER"/ledger-*.jsonl | cmp - "$T/all.jsonl" || fail "jsonl is not the records as stored"
[ "$(jq -s 'map(.seq) == [range(1; length + 1)]' "$T/all.jsonl")" = true ] || fail "seq not 1..n"

step "rfc5424: each message, field by field"
L export --ledger "$LEDGER" --format rfc5424 --hostname appliance-7 >"$T/all.5424"
[ "$(wc -l <"$T/all.5424")" = "$n" ] || fail "rfc5424: $(wc -l <"$T/all.5424") lines of $n"
time_re='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z'
re="^<([0-9]{1,3})>1 ($time_re) ([!-~]{1,255}) ([!-~]{1,48}) ([!-~]{1,128}) ([!-~]{1,32}) \[([^ ]+)((( [^ =]+=\"([^\"\\\\]|\\\\.)*\")*))\] (.*)$"
bom=$'\xef\xbb\xbf'
jq -r '[.time, .actor.pid, .type, .seq, .prev, .hash, .actor.uid, .actor.gid] | @tsv' \
	"$T/all.jsonl" >"$T/expect.tsv"
: >"$T/msgs"
i=0
while IFS= read -r m && IFS=$'\t' read -r e_time e_pid e_type e_seq e_prev e_hash e_uid e_gid <&3; do
	i=$((i + 1))
	[[ $m =~ $re ]] || fail "line $i is not RFC 5424: $m"
	pri=${BASH_REMATCH[1]} ts=${BASH_REMATCH[2]} host=${BASH_REMATCH[3]} app=${BASH_REMATCH[4]}
	procid=${BASH_REMATCH[5]} msgid=${BASH_REMATCH[6]} sdid=${BASH_REMATCH[7]}
	params=${BASH_REMATCH[8]} msg=${BASH_REMATCH[12]}
	[ "$pri" = 109 ] || fail "line $i: PRI $pri (log audit.notice is 109)"
	[ "$ts" = "$e_time" ] || fail "line $i: TIMESTAMP $ts, not $e_time"
	[ "$host" = appliance-7 ] || fail "line $i: HOSTNAME $host"
	[ "$app" = airlock-ledger ] || fail "line $i: APP-NAME $app"
	[ "$procid" = "$e_pid" ] || fail "line $i: PROCID $procid, not $e_pid"
	[ "$msgid" = "$e_type" ] || fail "line $i: MSGID $msgid, not $e_type"
	[ "$sdid" = airlock@32473 ] || fail "line $i: SD-ID $sdid"
	for p in "seq=\"$e_seq\"" "prev=\"$e_prev\"" "hash=\"$e_hash\"" "uid=\"$e_uid\"" \
		"gid=\"$e_gid\""; do
		[[ $params == *" $p"* ]] || fail "line $i: no SD-PARAM $p in $params"
	done
	if [[ $msg == "$bom"* ]]; then
		msg=${msg#"$bom"}
		LC_ALL=C grep -q '[^ -~]' <<<"$msg" || fail "line $i: a BOM before ASCII text"
	else
		LC_ALL=C grep -q '[^ -~]' <<<"$msg" && fail "line $i: UTF-8 MSG without a BOM"
	fi
	printf '%s\n' "$msg" >>"$T/msgs"
done <"$T/all.5424" 3<"$T/expect.tsv"
[ $i = "$n" ] || fail "checked $i messages of $n"
[ "$(jq -s -c . "$T/msgs")" = "$(jq -s -c 'map(.payload)' "$T/all.jsonl")" ] ||
	fail "MSG is not the payload"
grep -q "test.unicode \[.*\] ${bom}{\"note\":\"café" "$T/all.5424" || fail "no BOM before UTF-8"

step "cef: header fields and extensions, unescaped"
L export --ledger "$LEDGER" --format cef --hostname appliance-7 >"$T/all.cef"
python3 - "$T/all.cef" "$T/all.jsonl" <<'PY' || fail "CEF check failed"
import json, re, sys
cef = open(sys.argv[1], encoding="utf-8").read().splitlines()
recs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(cef) == len(recs), (len(cef), len(recs))
for line, rec in zip(cef, recs):
    # Header: 7 fields separated by unescaped '|'.
    parts, cur, esc, i = [], "", False, 0
    while len(parts) < 7 and i < len(line):
        ch = line[i]
        i += 1
        if esc: cur += ch; esc = False
        elif ch == "\\": esc = True
        elif ch == "|": parts.append(cur); cur = ""
        else: cur += ch
    ext = line[i:]
    assert len(parts) == 7, line
    assert parts[0] == "CEF:0" and parts[1] == "Airlock" and parts[2] == "airlock-ledger", parts
    assert parts[4] == rec["type"] and parts[5] == rec["type"], parts
    assert 0 <= int(parts[6]) <= 10
    # Extensions: key=value, a value running up to the next " key=" (unescaped '=').
    keys = list(re.finditer(r"(?:^| )([A-Za-z0-9]+)=", ext))
    kv = {}
    for n, m in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(ext)
        raw = ext[m.end():end]
        val = re.sub(r"\\(.)", lambda x: {"n": "\n", "r": "\r"}.get(x.group(1), x.group(1)), raw)
        kv[m.group(1)] = val
    assert kv["externalId"] == str(rec["seq"]), kv
    assert kv["suid"] == str(rec["actor"]["uid"]) and kv["spid"] == str(rec["actor"]["pid"])
    assert kv["cs2Label"] == "hash" and kv["cs2"] == rec["hash"]
    assert kv["cs3Label"] == "prev" and kv["cs3"] == rec["prev"]
    assert kv["dvchost"] == "appliance-7"
    assert json.loads(kv["msg"]) == rec["payload"], (kv["msg"], rec["payload"])
    # rt: milliseconds since the epoch of the record's time
    from datetime import datetime, timezone
    t = datetime.strptime(rec["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert int(kv["rt"]) == int(t.timestamp() * 1000) or abs(int(kv["rt"]) - t.timestamp() * 1000) < 1, kv["rt"]
print("cef: %d events checked" % len(cef))
PY
# JSON's \\ and \n, then CEF doubles every backslash and escapes '='
grep -qF 'msg={"s":"a\=b|c\\\\d\\nnew line ] \\" end"}' "$T/all.cef" || fail "CEF extension escaping"

step "filters: --type, --since, --from"
[ "$(L export --ledger "$LEDGER" --format jsonl --type 'test.*' | jq -r .type | sort -u | tr '\n' ' ')" = \
	"test.bulk test.escapes test.unicode " ] || fail "--type"
[ "$(L export --ledger "$LEDGER" --format jsonl --type install.disk | wc -l)" = 1 ] || fail "--type exact"
[ "$(L export --ledger "$LEDGER" --format jsonl --since 2999-01-01 | wc -l)" = 0 ] || fail "--since future"
[ "$(L export --ledger "$LEDGER" --format jsonl --since @0 | wc -l)" = "$n" ] || fail "--since past"
t10=$(sed -n 10p "$T/all.jsonl" | jq -r .time)
L export --ledger "$LEDGER" --format jsonl --since "${t10%.*}Z" >"$T/since.jsonl"
since=$(head -n 1 "$T/since.jsonl" | jq -r .time)
[[ ! "$since" < "${t10%.*}" ]] || fail "--since ${t10%.*}: first is $since"
L show --ledger "$LEDGER" --from 20 >"$T/from.out"
[ "$(head -n 1 "$T/from.out" | cut -d' ' -f1)" = 20 ] || fail "--from"
expect_fail "--since yesterday: a UTC time expected" L show --ledger "$LEDGER" --since yesterday
expect_fail "--format is required" L export --ledger "$LEDGER"
expect_fail "--format xml: jsonl, rfc5424 or cef" L export --ledger "$LEDGER" --format xml

step "show prints who and what"
L show --ledger "$LEDGER" --type install.disk >"$T/show.out"
grep -qE "^[0-9]+ $time_re install.disk uid=$(id -u) pid=[0-9]+ unit=[^ ]+ \{\"disk\":\"/dev/vda\",\"size\":1024\}$" \
	"$T/show.out" || fail "show: $(cat "$T/show.out")"

step "a damaged record stops show and export, which say where"
cp -a "$LEDGER" "$T/damaged"
f=$(ls "$T/damaged"/ledger-*.jsonl | head -n 1)
sed -i '3s/"disk"/"dusk"/' "$f"
expect_fail "ledger-0000000000000001.jsonl:3: damaged record: hash mismatch" \
	L export --ledger "$T/damaged" --format jsonl

step "show --follow prints new records as they come, across a new file"
ledger_start --max-file-size 8K
airlock-ledger show --ledger "$LEDGER" --follow --from "$((n + 1))" --type test.follow \
	>"$T/follow.out" &
follower=$!
on_exit "kill $follower 2>/dev/null || true"
files_before=$(ls "$LEDGER"/ledger-*.jsonl | wc -l)
seq 1 60 | sed 's/.*/{"i":&}/' | L append --socket "$SOCK" -q test.follow -
for i in $(seq 100); do
	[ "$(wc -l <"$T/follow.out")" -ge 60 ] && break
	sleep 0.1
done
[ "$(wc -l <"$T/follow.out")" = 60 ] || fail "follow printed $(wc -l <"$T/follow.out") of 60"
[ "$(ls "$LEDGER"/ledger-*.jsonl | wc -l)" -gt "$files_before" ] || fail "no rotation happened"
ledger_stop
step "show --follow ends, saying why, when the ledger directory goes away"
mv "$LEDGER" "$T/moved"
rc=0
wait $follower || rc=$?
[ $rc = 1 ] || fail "show --follow exited $rc when its ledger was moved away"
echo PASS
