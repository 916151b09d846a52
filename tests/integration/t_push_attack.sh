#!/bin/sh
# Push mode under attack, by hand with curl and the agents' own
# certificates. The real push agent a is stopped; a pull-mode "oracle" on
# its swtpm (same AK) quotes for whatever challenge we ask, so we hold
# genuine evidence. Refused: a challenge for an agent not admitted or in
# pull mode (409), asked with another agent's certificate (404); evidence
# for an unknown challenge (410), answered twice (410), after its deadline
# (410 expired), on another agent's path (403), with another agent's
# certificate (403), larger than max_bytes (413). A refusal changes no
# state or counter. Evidence captured for one challenge and replayed for a
# fresh one is never taken as trusted. The real agent, restarted, is
# trusted again.
set -eu
. "$(dirname "$0")/../lib/assay.sh"
. "$(dirname "$0")/../lib/push.sh"
push_trap

hex64() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# snap ID — state and the counters a refusal must not move
snap() { echo "$(agent_state "$1") $(counters "$1")"; }

expect()	# WHAT WANT GOT
{
	[ "$3" = "$2" ] || fail "$1: HTTP $3 (want $2): $(cat "$T/resp")"
	echo "$1: HTTP $3 $(tr -d '\n' < "$T/resp" | cut -c1-110)"
}

unchanged()	# WHAT ID BEFORE
{
	_now=$(snap "$2")
	[ "$_now" = "$3" ] || fail "$1 moved $2: '$3' -> '$_now'"
}

step "PKI, verifier (timeout $PUSH_TIMEOUT s), push agents a and b, pull agent q"
pki_init a b q
push_verifier_yaml
verifier_start
push_agent_start a
push_agent_start b
agent_start q
for x in a b q; do
	wait_registered "$x" 30 || fail "$x did not enroll"
done

step "not admitted: a challenge is refused (409)"
push_ask b
expect "challenge of b, not admitted" 409 "$CH_STATUS"
policy_pin pa "$T/tpm-a" 16
policy_pin pb "$T/tpm-b" 16
policy_pin pq "$T/tpm-q" 16
admit a pa
admit b pb
admit q pq
for x in a b q; do
	wait_state "$x" trusted 20 || fail "$x not trusted"
done

step "a pull agent asking for a challenge: 409"
push_ask q
expect "challenge of pull agent q" 409 "$CH_STATUS"
[ "$(agent_state q)" = trusted ] || fail "q disturbed"

step "stop a; an oracle quotes with its TPM; rounds only when we ask"
api PUT /v1/agents/a '{"interval": 60}' >/dev/null || fail "interval"
push_agent_stop a
oracle_start a
sleep 1

step "a's challenge asked with b's certificate: refused"
S=$(snap a)
push_ask a b
case $CH_STATUS in 403|404) ;; *) expect "challenge of a with b's cert" 404 "$CH_STATUS" ;; esac
echo "challenge of a with b's certificate: HTTP $CH_STATUS $(cat "$T/ask.resp")"
unchanged "a's challenge with b's certificate" a "$S"

step "a genuine round by hand: challenge, quote, evidence -> trusted"
push_ask a
expect "challenge of a" 200 "$CH_STATUS"
case $CH_REQ in /v1/quote\?nonce=*) ;; *) fail "request: $CH_REQ" ;; esac
[ "$CH_DEADLINE" = $((PUSH_TIMEOUT * 1000)) ] || fail "deadline_ms $CH_DEADLINE"
echo "challenge ${CH_ID%????????????????????????????????????????????????}...: $CH_REQ, max_bytes $CH_MAX"
C1=$CH_ID
oracle_quote a "$CH_REQ" "$T/e1.json" || fail "oracle quote"
ok0=$(agent_get a counters.attest_ok)
code=$(push_send a "$T/e1.json")
expect "evidence for C1" 200 "$code"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["state"] == "trusted" and d["failure_id"] is None, d
assert d["next_ms"] >= 0, d' "$T/resp" || fail "verdict: $(cat "$T/resp")"
[ "$(agent_get a counters.attest_ok)" -gt "$ok0" ] || fail "attest_ok did not grow"

step "the same evidence for the same challenge again: 410"
S=$(snap a)
code=$(push_send a "$T/e1.json" a "$C1")
expect "C1 answered twice" 410 "$code"
unchanged "a replayed answer" a "$S"

step "an unknown challenge: 410"
code=$(push_send a "$T/e1.json" a "$(hex64)")
expect "unknown challenge" 410 "$code"
unchanged "an unknown challenge" a "$S"

step "a's challenge answered on b's path with b's certificate: 403"
push_ask a
expect "challenge of a" 200 "$CH_STATUS"
oracle_quote a "$CH_REQ" "$T/e2.json" || fail "oracle quote"
S=$(snap a)
B=$(snap b)
code=$(push_send b "$T/e2.json" b "$CH_ID")
expect "a's challenge on b's path" 403 "$code"
unchanged "a's challenge on b's path" a "$S"
[ "$(agent_state b)" = trusted ] || fail "b disturbed: $(agent_json b)"
[ "$(counters b | cut -d' ' -f2)" = "$(echo "$B" | cut -d' ' -f3)" ] ||
    fail "b's attest_fail moved: $B -> $(snap b)"
code=$(push_send a "$T/e2.json" a "$CH_ID")
echo "a's own answer to that challenge afterwards: HTTP $code $(cat "$T/resp")"
[ "$code" = 200 ] || [ "$code" = 410 ] || fail "a's own answer after the 403: $code"

step "a's challenge answered on a's path with b's certificate: 403"
push_ask a
expect "challenge of a" 200 "$CH_STATUS"
oracle_quote a "$CH_REQ" "$T/e3.json" || fail "oracle quote"
S=$(snap a)
code=$(push_send a "$T/e3.json" b "$CH_ID")
expect "a's challenge with b's certificate" 403 "$code"
unchanged "a's challenge with b's certificate" a "$S"

step "evidence larger than max_bytes: 413"
push_ask a
expect "challenge of a" 200 "$CH_STATUS"
python3 -c 'import sys; sys.stdout.write("x" * (int(sys.argv[1]) + 1))' "$CH_MAX" > "$T/big.json"
S=$(snap a)
code=$(push_send a "$T/big.json")
expect "evidence of max_bytes + 1" 413 "$code"
unchanged "oversize evidence" a "$S"

step "evidence after the deadline: 410 expired (no verdict)"
push_ask a
expect "challenge of a" 200 "$CH_STATUS"
oracle_quote a "$CH_REQ" "$T/e5.json" || fail "oracle quote"
S=$(snap a)
sleep $((PUSH_TIMEOUT + 1))
code=$(push_send a "$T/e5.json")
expect "late evidence" 410 "$code"
grep -q "expired" "$T/resp" || fail "410 does not say expired: $(cat "$T/resp")"
now=$(snap a)
# the missed deadline is a transport failure: poll_errors may grow, nothing else
[ "$(echo "$now" | cut -d' ' -f1-3)" = "$(echo "$S" | cut -d' ' -f1-3)" ] ||
    fail "late evidence moved a: '$S' -> '$now'"
echo "a after the late evidence: $now (before: $S)"

step "evidence captured for C1, replayed for a fresh challenge: never trusted"
push_ask a
expect "challenge of a" 200 "$CH_STATUS"
ok0=$(agent_get a counters.attest_ok)
code=$(push_send a "$T/e1.json")
echo "replayed evidence: HTTP $code $(cat "$T/resp")"
if [ "$code" = 200 ]; then
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["state"] != "trusted", d' "$T/resp" || fail "replayed evidence judged trusted"
fi
[ "$(agent_get a counters.attest_ok)" = "$ok0" ] || fail "the replay counted as a good round"
st=$(agent_state a)
[ "$st" != trusted ] || [ "$code" != 200 ] || fail "a trusted after a replay"
echo "a after the replay: $st, reason $(agent_get a reason)"
if [ "$st" = untrusted ]; then
	api GET /v1/agents/a | grep -q '"reason": *"quote\.' ||
	    fail "replay judged untrusted for another reason: $(agent_json a)"
fi

step "evidence with a malformed challenge, or none: 400, the verifier lives on"
S=$(snap a)
code=$(push_send a "$T/e1.json" a "XYZ")
sleep 0.5
kill -0 "$VPID" 2>/dev/null ||
    fail "the verifier died on evidence with a malformed challenge (HTTP $code, $(cat "$T/curl.err")): $(tail -n 3 "$T/verifier.log")"
expect "malformed challenge" 400 "$code"
code=$(as_agent a POST /v1/agents/a/evidence "$T/e1.json")
sleep 0.5
kill -0 "$VPID" 2>/dev/null ||
    fail "the verifier died on evidence without a challenge (HTTP $code): $(tail -n 3 "$T/verifier.log")"
expect "no challenge at all" 400 "$code"
unchanged "malformed challenges" a "$S"

step "restart the real agent: trusted again"
oracle_stop a
api PUT /v1/agents/a '{"interval": 1}' >/dev/null || fail "interval"
api POST /v1/agents/a/reset >/dev/null 2>&1 || true
push_agent_start a
wait_state a trusted 30 ||
    fail "a not trusted after the restart: $(grep 'enrollment:' "$T/agent-a.log" | tail -n 1)"
for x in b q; do
	[ "$(agent_state "$x")" = trusted ] || fail "$x not trusted at the end"
done
kill -0 "$VPID" || fail "the verifier died"
echo "PASS"
