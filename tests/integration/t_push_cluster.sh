#!/bin/sh
# Push mode with two verifiers on one PostgreSQL database. The push agent
# talks to a TCP forwarder that sends its connections to v1 and v2 in turn
# (the agent opens one connection per request), so each round's challenge
# is asked on one verifier and its evidence posted to the other: the agent
# stays trusted, never unreachable or untrusted, and both verifiers' logs
# show it. Then the forwarder sends everything to v2, later to v1: the
# agent's lease follows it each time, and it stays trusted.
set -eu
. "$(dirname "$0")/../lib/assay.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/cluster.sh"
. "$(dirname "$0")/../lib/push.sh"

CL_INTERVAL=1 CL_BEAT=1 CL_TTL=3

state_on()	# N ID
{
	api_on "$1" GET "/v1/agents/$2" 2>/dev/null | json_field state
}

ok_on()	# N ID
{
	api_on "$1" GET "/v1/agents/$2" | python3 -c '
import json, sys
print(json.load(sys.stdin)["counters"]["attest_ok"])' 2>/dev/null
}

trusted_on() { [ "$(state_on "$1" "$2")" = trusted ]; }
owner_is() { [ "$(lease_owner "$1")" = "$2" ]; }

# lines N PATTERN — lines of v N's log matching PATTERN
lines() { grep -c -- "$2" "$T/verifier-$1.log" || true; }

bad_events()	# since SEQ: state events of c to unreachable/untrusted
{
	pg_psql "SELECT count(*) FROM events WHERE agent_id = 'c' AND seq > $1
	    AND type = 'state' AND new_state IN ('unreachable', 'untrusted')"
}

# watch SECS — c's state through v1 every 0.5 s; fails on anything not trusted
watch_trusted()
{
	_n=$(($1 * 2))
	while [ "$_n" -gt 0 ]; do
		_s=$(state_on 1 c)
		[ "$_s" = trusted ] || fail "c is '$_s': $(api_on 1 GET /v1/agents/c)"
		sleep 0.5
		_n=$((_n - 1))
	done
}

step "PKI, PostgreSQL, verifiers v1 and v2, a forwarder alternating between them"
pki_init c
pg_start || fail "pg_start"
cluster_trap
node_start 1
node_start 2
P1=$(node_port 1) P2=$(node_port 2)
FPORT=$(free_port)
fwd_alt_start alt "$FPORT" "$P1" "$P2"

step "push agent c through the forwarder: enrolls, admitted, trusted"
VPORT=$FPORT
# One connection per request (the agent keeps its connection otherwise,
# and both requests of a round would reach the same verifier).
ASSAY_HTTP_NO_KEEPALIVE=1 PUSH_RECHECK=3600 push_agent_start c
VPORT=$P1
wait_registered c 30 || fail "c did not enroll"
[ "$(listening_sockets "$(agent_pid c)")" = "" ] || fail "c listens"
printf 'name: p\nbank: sha256\npcrs:\n  16: ["%s"]\n' "$(printf '%064d' 0)" > "$T/p.yaml"
policy_put_on 2 p "$T/p.yaml" || fail "policy upload: $(cat "$T/resp")"
# Not admitted yet, c's challenges are refused (409) by whichever node
# gets them: admit it through the other one (a node that thinks it holds
# c must still take the admission, as in pull mode, or forward it).
LATE_FAIL=""
refused409() { [ "$(lines "$1" 'http: POST /v1/agents/c/challenge 409 c')" -ge 1 ]; }
wait_for 15 refused409 1 || wait_for 1 refused409 2 || fail "c never asked for a challenge"
if refused409 1; then asked=1 other=2; else asked=2 other=1; fi
echo "c's last challenge refusal came from v$asked; admitting it through v$other"
if ! api_on "$other" PUT /v1/agents/c '{"policy":"p"}' >/dev/null; then
	LATE_FAIL="$LATE_FAIL
  admission through v$other after c asked v$asked: HTTP $(cat "$T/status") $(cat "$T/resp")"
	echo "admission through v$other refused ($(cat "$T/status")): trying v$asked"
	api_on "$asked" PUT /v1/agents/c '{"policy":"p"}' >/dev/null ||
	    fail "admit c on v$asked: $(cat "$T/status") $(cat "$T/resp")"
fi
wait_for 30 trusted_on 1 c || fail "c not trusted: $(api_on 1 GET /v1/agents/c)"
for n in 1 2; do
	api_on "$n" GET /v1/agents | grep -q '"mode": *"push"' || fail "v$n: mode"
done

step "10 s of rounds: challenge on one verifier, evidence on the other"
seq0=$(pg_psql "SELECT coalesce(max(seq), 0) FROM events")
sleep 1
for n in 1 2; do
	eval "c0_$n=$(lines "$n" 'http: POST /v1/agents/c/challenge 200 c')"
	eval "e0_$n=$(lines "$n" 'http: POST /v1/agents/c/evidence 200 c')"
	eval "t0_$n=$(lines "$n" 'cluster: agent c: it talks to node')"
done
ok0=$(ok_on 1 c)
logmerge_start "$T/verifier-1.log" "$T/verifier-2.log"
watch_trusted 10
logmerge_stop
ok1=$(ok_on 1 c)
for n in 1 2; do
	eval "ch_$n=\$(( \$(lines $n 'http: POST /v1/agents/c/challenge 200 c') - c0_$n ))"
	eval "ev_$n=\$(( \$(lines $n 'http: POST /v1/agents/c/evidence 200 c') - e0_$n ))"
	eval "mv_$n=\$(( \$(lines $n 'cluster: agent c: it talks to node') - t0_$n ))"
done
echo "in 10 s: attest_ok $ok0 -> $ok1;" \
    "v1: $ch_1 challenges, $ev_1 evidence, lease taken $mv_1 times;" \
    "v2: $ch_2 challenges, $ev_2 evidence, lease taken $mv_2 times"
echo "forwarder: $(grep -c "^connection" "$T/fwd-alt.log") connections," \
    "last: $(grep "^connection" "$T/fwd-alt.log" | tail -n 4 | tr '\n' ' ')"
[ $((ok1 - ok0)) -ge 4 ] || fail "only $((ok1 - ok0)) good rounds in 10 s"
# Round by round: the agent has one request at a time, so the evidence
# answers the challenge last handed out before it, whichever node did.
python3 - "$T/merged.log" > "$T/rounds.txt" <<'EOF' || fail "rounds: $(tail -n 5 "$T/rounds.txt")"
import re, sys
last, pairs = None, []
for l in open(sys.argv[1]):
    m = re.match(r"(\S+) (\d) .*http: POST /v1/agents/c/(challenge|evidence) (\d+) c$", l)
    if not m:
        continue
    t, node, kind, code = float(m[1]), "v" + m[2], m[3], m[4]
    if kind == "challenge" and code == "200":
        last = (t, node)
    elif kind == "evidence" and code == "200" and last is not None:
        pairs.append((last[1], node, round(t - last[0], 3)))
        last = None
split = [p for p in pairs if p[0] != p[1]]
for p in pairs[:6]:
    print("round: challenge on %s, evidence on %s %.3f s later" % p)
print("rounds: %d, %d with challenge and evidence on different verifiers"
      % (len(pairs), len(split)))
sys.exit(0 if len(split) >= 3 else 1)
EOF
cat "$T/rounds.txt"
[ "$mv_1" -ge 2 ] && [ "$mv_2" -ge 2 ] ||
    fail "the lease did not follow the agent back and forth ($mv_1, $mv_2)"
[ "$(bad_events "$seq0")" = 0 ] ||
    fail "state events: $(pg_psql "SELECT seq, old_state, new_state, failure_id FROM events WHERE agent_id = 'c' AND seq > $seq0 AND type = 'state'")"
# judged at the end (the rest still runs): one round per interval, as
# with one verifier, and never the challenge rate limit
rounds=$((ok1 - ok0))
n429=$(count_in "$T/agent-c.log" "HTTP 429")
echo "agent c hit the challenge rate limit (429) $n429 times"
[ "$rounds" -le $((10 / CL_INTERVAL + 3)) ] || LATE_FAIL="$LATE_FAIL
  $rounds good rounds in 10 s with interval $CL_INTERVAL s (one verifier: <= $((10 / CL_INTERVAL + 1))): the interval is not kept when challenge and evidence go to different verifiers"
[ "$n429" = 0 ] || LATE_FAIL="$LATE_FAIL
  the agent was refused $n429 challenges with 429 (rate limit)"

step "everything to v2: the lease moves to v2 and stays; trusted"
fwd_stop alt
fwd_start only2 "$FPORT" "$P2"
wait_for 10 owner_is c v2 || fail "lease of c on '$(lease_owner c)', not v2"
ok2=$(ok_on 2 c)
watch_trusted 4
owner_is c v2 || fail "lease of c left v2 for '$(lease_owner c)'"
[ "$(ok_on 2 c)" -gt "$ok2" ] || fail "no rounds through v2 alone"
echo "lease on v2, attest_ok $ok2 -> $(ok_on 2 c)"

step "everything to v1: the lease moves back to v1; trusted"
fwd_stop only2
fwd_start only1 "$FPORT" "$P1"
wait_for 10 owner_is c v1 || fail "lease of c on '$(lease_owner c)', not v1"
ok3=$(ok_on 1 c)
watch_trusted 4
owner_is c v1 || fail "lease of c left v1 for '$(lease_owner c)'"
[ "$(ok_on 1 c)" -gt "$ok3" ] || fail "no rounds through v1 alone"
[ "$(bad_events "$seq0")" = 0 ] ||
    fail "state events: $(pg_psql "SELECT seq, old_state, new_state, failure_id FROM events WHERE agent_id = 'c' AND seq > $seq0 AND type = 'state'")"
events_chain || fail "state events do not link up (two writers?)"
for n in 1 2; do
	kill -0 "$(node_pid "$n")" || fail "v$n died"
done
[ -z "$LATE_FAIL" ] || fail "with alternating verifiers:$LATE_FAIL"
echo "PASS"
