#!/bin/sh
# Push mode end to end, one verifier: push agents open no listening socket,
# enroll with mode push and no address, are admitted without one and become
# trusted (assayctl shows MODE push); a PCR change gives pcr.value as in
# pull mode; IMA rounds ask only for the entries after the last received
# one (pending, not yet extended entries included) and an unknown file is
# ima.not_allowed; the event log is asked only when the boot PCRs change
# (eventlog.replay after a PCR 7 extend); a stopped push agent becomes
# unreachable (never untrusted) and trusted again when restarted; a pull
# and a push agent side by side, and an admin attest on the push agent
# gives a round at once.
set -eu
. "$(dirname "$0")/../lib/assay.sh"
. "$(dirname "$0")/../lib/push.sh"
push_trap

F=$T/files

ctl()
{
	"$ASSAY_BIN/assayctl" --verifier "127.0.0.1:$VPORT" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" --ca "$T/pki/ca.pem" "$@"
}

put_policy()	# NAME FILE
{
	code=$(curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/pki/ca.pem" \
	    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" -X PUT \
	    --data-binary "@$2" "https://127.0.0.1:$VPORT/v1/policies/$1")
	[ "$code" -lt 300 ] || fail "policy upload $1: $code $(cat "$T/resp")"
}

pcr16()	# NAME
{
	timeout 10 tpm2_pcrread -T "$(swtpm_tcti "$T/tpm-$1")" sha256:16 |
	    sed -n 's/^ *16 *: *0x\([0-9A-Fa-f]*\).*/\1/p' | tr 'A-F' 'a-f'
}

# p's policy: PCR 16 in $P16 (quoted, comma separated), IMA allow list
write_ppolicy()
{
	{
		echo "name: pp"
		echo "bank: sha256"
		echo "pcrs:"
		echo "  16: [$P16]"
		echo "ima:"
		echo "  allow:"
		for f in "$@"; do
			echo "    $F/usr/bin/$f: [\"sha256:$(sha256 "$F/usr/bin/$f")\"]"
		done
		echo "  unknown: fail"
	} > "$T/pp.yaml"
	put_policy pp "$T/pp.yaml"
}

reason_is()	# ID REASON
{
	api GET "/v1/agents/$1" | grep -q "\"reason\": *\"$2\"" ||
	    fail "$1: wanted reason $2: $(api GET "/v1/agents/$1")"
}

untrusted_events()	# ID — its state events to untrusted
{
	api GET "/v1/agents/$1/events?limit=1000" | python3 -c '
import json, sys
d = json.load(sys.stdin)
ev = d["events"] if isinstance(d, dict) else d
print(sum(1 for e in ev if e.get("new_state") == "untrusted"))'
}

# challenges NAME — the quote requests of the challenges NAME received
challenges()
{
	sed -n 's/.*push: challenge [0-9a-f]*\.\.\. (\([^)]*\)).*/\1/p' "$T/agent-$1.log"
}

# ima_froms NAME — ima_from of each challenge, one a line
ima_froms()
{
	challenges "$1" | sed -n 's/.*[?&]ima_from=\([0-9]*\).*/\1/p'
}

last_ima_from_is()	# NAME N
{
	[ "$(ima_froms "$1" | tail -n 1)" = "$2" ]
}

step "PKI, verifier (interval $PUSH_INTERVAL s, timeout $PUSH_TIMEOUT s)"
pki_init p m q
push_verifier_yaml
verifier_start

step "push agents p (IMA) and m (measured boot), pull agent q"
mkdir -p "$F/usr/bin"
for f in sh ls cat vi rogue; do
	printf '#!/bin/true %s\n' "$f" > "$F/usr/bin/$f"
done
IMA_LIST="$T/ima-p.list" push_agent_start p
ima p boot
ima p file "$F/usr/bin/sh" "$F/usr/bin/ls" "$F/usr/bin/cat"
# m's firmware runs before its agent starts: its swtpm first
swtpm_make "$T/tpm-m" rsa "$T/tpmca" || fail "swtpm_make m"
swtpm_start "$T/tpm-m" || fail "swtpm_start m"
TPMS="$TPMS $T/tpm-m"
DBX=$(printf 'revoked bootloader' | sha256sum | cut -d' ' -f1)
CMDLINE="BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet"
"$ASSAY_BIN/testtools/fw_eventlog" -t "$(swtpm_tcti "$T/tpm-m")" -o "$T/fw-m.bin" \
    -s 1 -a shim -a grub -c "$CMDLINE" -x "$DBX" || fail "fw_eventlog"
EVENTLOG="$T/fw-m.bin" push_agent_start m
agent_start q
for a in p m q; do
	wait_registered "$a" 30 || fail "$a did not enroll"
done

step "a push agent listens on nothing"
grep -q "agent 'p' in push mode: no listener" "$T/agent-p.log" ||
    fail "p does not say it is in push mode: $(tail -n 5 "$T/agent-p.log")"
wait_until 10 grep -q "push: asking 127.0.0.1:$VPORT for challenges" "$T/agent-p.log" ||
    wait_until 10 grep -q "enrolled with the verifier as 'p' (push mode)" "$T/agent-p.log" ||
    fail "p never said it was enrolled in push mode"
for a in p m; do
	pid=$(agent_pid "$a")
	kill -0 "$pid" || fail "agent $a is not running"
	l=$(listening_sockets "$pid")
	[ -z "$l" ] || fail "push agent $a (pid $pid) listens on: $l"
	if ss -ltnpH 2>/dev/null | grep -q "pid=$pid,"; then
		fail "ss shows a listener of $a: $(ss -ltnpH | grep "pid=$pid,")"
	fi
	port=$(agent_port "$a")
	grep -qi ":$(printf '%04X' "$port") .* 0A " /proc/net/tcp &&
	    fail "the listen port of $a's config ($port) is bound"
done
# the pull agent does listen (the check above sees listeners)
[ "$(listening_sockets "$(agent_pid q)")" = "$(agent_port q)" ] ||
    fail "pull agent q: listeners '$(listening_sockets "$(agent_pid q)")', want $(agent_port q)"
echo "p and m: no listening socket; q listens on $(agent_port q)"

step "registered in push mode without an address; admitted without one"
[ "$(agent_get p mode)" = push ] || fail "p mode: $(agent_json p)"
[ "$(agent_get m mode)" = push ] || fail "m mode: $(agent_json m)"
[ "$(agent_get q mode)" = pull ] || fail "q mode: $(agent_json q)"
[ -z "$(agent_get p address)" ] || fail "p has an address: $(agent_json p)"
# not admitted yet: the verifier refuses rounds (409) and the agent says so
wait_until 15 grep -q "push: the verifier refuses rounds" "$T/agent-p.log" ||
    fail "p was not told it is not admitted: $(tail -n 5 "$T/agent-p.log")"
P16="\"$(pcr16 p)\""
write_ppolicy sh ls cat
admit p pp
"$ASSAY_BIN/assayctl" policy from-eventlog --name boot -o "$T/boot.yaml" "$T/fw-m.bin" ||
    fail "policy from-eventlog"
put_policy boot "$T/boot.yaml"
admit m boot
policy_pin qp "$T/tpm-q" 16
admit q qp
for a in p m q; do
	wait_state "$a" trusted 20 || fail "$a not trusted"
done
[ -z "$(agent_get p address)" ] || fail "p got an address: $(agent_json p)"
grep -q "push: now trusted" "$T/agent-p.log" || fail "p's log shows no trusted verdict"

step "assayctl agents list: a MODE column"
ctl agents list > "$T/list.out" || fail "assayctl agents list"
cat "$T/list.out"
head -n 1 "$T/list.out" | grep -q "MODE" || fail "no MODE column"
grep -q "^p  *trusted  *push " "$T/list.out" || fail "p not listed trusted/push"
grep -q "^m  *trusted  *push " "$T/list.out" || fail "m not listed trusted/push"
grep -q "^q  *trusted  *pull " "$T/list.out" || fail "q not listed trusted/pull"
api GET /v1/agents | python3 -c '
import json, sys
m = {a["id"]: a["mode"] for a in json.load(sys.stdin)["agents"]}
assert m == {"p": "push", "m": "push", "q": "pull"}, m' || fail "GET /v1/agents modes"

step "push rounds keep coming: no polling, the agent asks"
n1=$(challenges p | wc -l)
ok1=$(agent_get p counters.attest_ok)
sleep 3
n2=$(challenges p | wc -l)
ok2=$(agent_get p counters.attest_ok)
echo "p: $((n2 - n1)) challenges, attest_ok $ok1 -> $ok2 in 3 s"
[ $((n2 - n1)) -ge 2 ] || fail "p got $((n2 - n1)) challenges in 3 s"
[ $((ok2 - ok1)) -ge 2 ] || fail "p attest_ok $ok1 -> $ok2 in 3 s"
[ $((ok2 - ok1)) -le 5 ] || fail "p attested $((ok2 - ok1)) times in 3 s with interval 1 s"
[ "$(count_in "$T/agent-p.log" "quote [0-9]* for verifier")" = 0 ] ||
    fail "p served a pull quote"
# the newest evidence form in push as in pull (m: with the event log)
for a in p m; do
	grep -q "quote [0-9]* for challenge .* in form 3" "$T/agent-$a.log" ||
	    fail "$a did not post binary form 3"
done
grep -q "quote [0-9]* for verifier in form 3" "$T/agent-q.log" ||
    fail "q did not answer binary form 3"

step "IMA in push: each round asks only for the entries after the last one"
ima_froms p > "$T/froms-p.1"
echo "ima_from of p's challenges so far: $(tr '\n' ' ' < "$T/froms-p.1")"
last_ima_from_is p 4 || fail "p's rounds do not ask from entry 4: $(tail -n 3 "$T/froms-p.1")"
[ "$(grep -cx 0 "$T/froms-p.1")" -le 2 ] || fail "the whole list was asked more than twice"
ima p file "$F/usr/bin/ls" "$F/usr/bin/sh"
wait_until 10 last_ima_from_is p 6 || fail "no round from entry 6: $(ima_froms p | tail -n 3)"
sleep 2
last_ima_from_is p 6 || fail "p's rounds went back: $(ima_froms p | tail -n 3)"
[ "$(agent_state p)" = trusted ] || fail "p not trusted after two more files"

step "IMA: appended but not yet extended counts as pending, then accepted"
ima p -n file "$F/usr/bin/cat"
sleep 2
[ "$(agent_state p)" = trusted ] || fail "pending entry broke trust"
f=$(ima_froms p | tail -n 1)
echo "with one entry appended, not extended: rounds ask from entry $f"
[ "$f" = 6 ] || [ "$f" = 7 ] || fail "ima_from $f with 6 extended + 1 pending"
ima p -e file "$F/usr/bin/cat"
wait_until 10 last_ima_from_is p 7 || fail "extended entry not received: $(ima_froms p | tail -n 3)"
sleep 1
[ "$(agent_state p)" = trusted ] || fail "extended entry broke trust"
last_ima_from_is p 7 || fail "after the extend: $(ima_froms p | tail -n 3)"
# never backwards since the first full read
python3 - "$T/agent-p.log" <<'EOF' || fail "ima_from went backwards"
import re, sys
f = [int(m) for m in re.findall(r"push: challenge [0-9a-f]+\.\.\. \([^)]*[?&]ima_from=(\d+)", open(sys.argv[1]).read())]
seen = [x for x in f if x > 0]
bad = [(a, b) for a, b in zip(seen, seen[1:]) if b < a]
print("ima_from sequence:", " ".join(map(str, f)))
sys.exit(1 if bad else 0)
EOF

step "IMA: a file not in the policy -> untrusted ima.not_allowed"
ima p file "$F/usr/bin/rogue"
wait_state p untrusted 20 || fail "rogue file not caught"
reason_is p ima.not_allowed
api GET /v1/agents/p | grep -q "usr/bin/rogue" || fail "detail does not name the file"
grep -q "push: now untrusted (ima.not_allowed" "$T/agent-p.log" ||
    fail "p's verdict did not say untrusted: $(grep 'push: ' "$T/agent-p.log" | tail -n 3)"
write_ppolicy sh ls cat rogue
wait_state p trusted 30 || fail "p not trusted with rogue allowed"

step "a PCR change on the push agent -> untrusted pcr.value (as in pull mode)"
timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-p")" "16:sha256=$(printf '%064x' 1)" ||
    fail "pcrextend"
wait_state p untrusted 20 || fail "p not untrusted after a PCR 16 extend"
reason_is p pcr.value
api GET /v1/agents/p | grep -q "PCR 16" || fail "detail does not name PCR 16"
api GET "/v1/agents/p/events?limit=5" | grep -q '"failure_id": *"pcr.value"' ||
    fail "no pcr.value event"
sleep 2
[ "$(agent_state p)" = untrusted ] || fail "untrusted is not sticky in push mode"
[ "$(agent_state q)" = trusted ] || fail "q should be trusted"
P16="$P16, \"$(pcr16 p)\""
write_ppolicy sh ls cat rogue
wait_state p trusted 20 || fail "p not trusted under the policy allowing the new value"

step "event log: asked once, then only when the boot PCRs change"
challenges m > "$T/ch-m.1"
e1=$(grep -c 'eventlog=1' "$T/ch-m.1" || true)
w1=$(count_in "$T/agent-m.log" "with the event log")
echo "m: $(wc -l < "$T/ch-m.1") challenges, $e1 with eventlog=1, $w1 quotes sent with the log"
[ "$e1" -ge 1 ] || fail "no challenge asked m for its event log"
[ "$w1" -ge 1 ] || fail "m never sent its event log"
sleep 3
challenges m > "$T/ch-m.2"
e2=$(grep -c 'eventlog=1' "$T/ch-m.2" || true)
w2=$(count_in "$T/agent-m.log" "with the event log")
[ "$(wc -l < "$T/ch-m.2")" -ge $(( $(wc -l < "$T/ch-m.1") + 2 )) ] ||
    fail "m had no rounds meanwhile"
[ "$e1" = "$e2" ] || fail "event log asked on unchanged boot PCRs ($e1 -> $e2)"
[ "$w1" = "$w2" ] || fail "event log sent on unchanged boot PCRs ($w1 -> $w2)"
[ "$(agent_state m)" = trusted ] || fail "m no longer trusted"
timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-m")" \
    "7:sha256=$(printf '%064x' 7)" || fail "pcrextend 7"
wait_state m untrusted 30 || fail "extended PCR 7 not caught"
reason_is m eventlog.replay
e3=$(challenges m | grep -c 'eventlog=1' || true)
[ "$e3" -gt "$e2" ] || fail "the changed boot PCRs did not make the verifier ask the log"
echo "m: challenges with eventlog=1: $e1 at first, $e2 after 3 s unchanged, $e3 after PCR 7 changed"

step "mixed fleet: pull q and push p trusted; admin attest on p -> a round at once"
[ "$(agent_state q)" = trusted ] || fail "q not trusted"
[ "$(agent_state p)" = trusted ] || fail "p not trusted"
api PUT /v1/agents/p '{"interval": 30}' >/dev/null || fail "interval 30"
sleep 3
okq1=$(agent_get q counters.attest_ok)
ok1=$(agent_get p counters.attest_ok)
sleep 2
ok2=$(agent_get p counters.attest_ok)
okq2=$(agent_get q counters.attest_ok)
[ "$ok1" = "$ok2" ] || fail "p attested within its 30 s interval ($ok1 -> $ok2)"
[ "$okq2" -gt "$okq1" ] || fail "q is not polled ($okq1 -> $okq2)"
ta=$(date +%s%3N)
api POST /v1/agents/p/attest > "$T/attest.out" || fail "attest p: $(cat "$T/status") $(cat "$T/resp")"
[ "$(cat "$T/status")" = 202 ] || fail "attest p answered $(cat "$T/status")"
grew() { [ "$(agent_get p counters.attest_ok)" -gt "$ok2" ]; }
wait_until 3 grew || fail "no round within 3 s of the admin attest"
dt=$(( $(date +%s%3N) - ta ))
echo "admin attest -> 202, round done $dt ms later"
[ "$dt" -le 1500 ] || fail "the round came $dt ms after the attest (> 1.5 s)"
[ "$(agent_state p)" = trusted ] || fail "p not trusted after the attest"
api PUT /v1/agents/p '{"interval": 1}' >/dev/null || fail "interval 1"
grep -q "http: POST /v1/agents/p/evidence 200 p" "$T/verifier.log" ||
    fail "the verifier log shows no evidence POST from p"
grep -q "GET /v1/quote" "$T/agent-q.log" ||
    grep -q "quote [0-9]* for verifier" "$T/agent-q.log" || fail "q was not polled"
step "push agent stopped -> unreachable (never untrusted) -> restarted -> trusted"
nu0=$(untrusted_events p)
push_agent_stop p
t0=$(date +%s)
i=0
while :; do
	s=$(agent_state p)
	[ "$s" = unreachable ] && break
	[ "$s" = untrusted ] && fail "a silent push agent became untrusted: $(agent_json p)"
	i=$((i + 1))
	[ "$i" -lt 150 ] || fail "p not unreachable: $(agent_json p)"
	sleep 0.2
done
echo "p unreachable $(( $(date +%s) - t0 )) s after its agent stopped"
reason_is p comm.unreachable
agent_json p | grep -q "did not ask for its round\|no evidence before" ||
    fail "detail: $(agent_get p reason_detail)"
IMA_LIST="$T/ima-p.list" push_agent_start p
wait_state p trusted 30 ||
    fail "p not trusted after the restart: $(grep 'enrollment:' "$T/agent-p.log" | tail -n 1)"
[ "$(untrusted_events p)" = "$nu0" ] || fail "p went untrusted while stopped: $(api GET "/v1/agents/p/events?limit=10")"
[ "$(listening_sockets "$(agent_pid p)")" = "" ] || fail "restarted p listens"

for a in p m; do
	kill -0 "$(agent_pid "$a")" || fail "agent $a died"
done
kill -0 "$VPID" || fail "the verifier died"
echo "PASS"
