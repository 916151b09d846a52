#!/bin/sh
# Three verifiers on one PostgreSQL database attest six swtpm agents, each
# agent by exactly one node, two per node. The node holding the most is
# killed with -9: its agents are taken over once its lease time is out and
# no agent is ever seen unreachable or untrusted; restarted, it gets its
# share back. Any node shows every agent; a PCR change on an agent one node
# attests is notified by webhook exactly once; a policy uploaded through
# another node is applied by the owner; an admin attest sent to a node
# that does not hold the agent is run by the owner (202); an agent
# registers through one node and activates through another.
set -eu
. "$(dirname "$0")/../lib/assay.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/cluster.sh"

CL_INTERVAL=2 CL_BEAT=1 CL_TTL=3
AGENTS="h1 h2 h3 h4 h5 h6"
HOOKS=$T/hooks.jsonl
ZERO=0000000000000000000000000000000000000000000000000000000000000000

# count_state N STATE — agents node N lists in STATE
count_state()
{
	api_on "$1" GET /v1/agents 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for a in json.load(sys.stdin)["agents"] if a["state"] == sys.argv[1]))' "$2" 2>/dev/null
}

all_trusted()	# N COUNT
{
	[ "$(count_state "$1" trusted)" = "$2" ]
}

spread_is()	# "2 2 2"
{
	[ "$(lease_spread)" = "$1" ]
}

attest_ok()	# N ID
{
	api_on "$1" GET "/v1/agents/$2" | python3 -c '
import json, sys
print(json.load(sys.stdin)["counters"]["attest_ok"])' 2>/dev/null
}

# hooks ID OLD NEW — deliveries the receiver got for this state change
hooks()
{
	[ -f "$HOOKS" ] || { echo 0; return; }
	python3 - "$HOOKS" "$@" <<'EOF'
import json, sys
path, agent, old, new = sys.argv[1:5]
print(sum(1 for l in open(path) for b in [json.loads(l)]
          if b["agent"] == agent and b["old_state"] == old
          and b["new_state"] == new))
EOF
}

hooks_ge()	# ID OLD NEW MIN
{
	[ "$(hooks "$1" "$2" "$3")" -ge "$4" ]
}

step "PKI, webhook receiver, PostgreSQL, three verifiers"
# shellcheck disable=SC2086
pki_init $AGENTS h7 hookrx
HPORT=$(free_port)
webhook_rx_start
pg_start || fail "pg_start"
cluster_trap
for n in 1 2 3; do
	node_start "$n" "$PG_URI" "$(webhook_yaml)"
done
VPORT=$(node_port 1)

step "six agents register through different nodes"
i=0
for a in $AGENTS; do
	VPORT=$(node_port $((i % 3 + 1)))
	agent_start "$a" ecc
	i=$((i + 1))
done
VPORT=$(node_port 1)
for a in $AGENTS; do
	wait_registered "$a" 30 || fail "$a did not enroll"
done

step "admit them through different nodes with a policy pinning PCR 16"
printf 'name: p\nbank: sha256\npcrs:\n  16: ["%s"]\n' "$ZERO" > "$T/p.yaml"
policy_put_on 2 p "$T/p.yaml" || fail "policy upload: $(cat "$T/resp")"
i=0
for a in $AGENTS; do
	api_on $((i % 3 + 1)) PUT "/v1/agents/$a" '{"policy":"p"}' >/dev/null ||
	    fail "admit $a on v$((i % 3 + 1)): $(cat "$T/status") $(cat "$T/resp")"
	i=$((i + 1))
done
wait_for 30 all_trusted 1 6 || fail "not all trusted: $(api_on 1 GET /v1/agents)"
t0=$(now_ms)
wait_for 20 spread_is "2 2 2" || fail "leases not 2/2/2: $(leases_by_node)"
echo "trusted; leases 2/2/2 after $(( $(now_ms) - t0 )) ms more: $(leases_by_node | tr '\n' ' ')"

field_is() { [ "$(health_field "$1" "$2")" = "$3" ]; }

step "every node shows every agent; health and /v1/nodes show the cluster"
for n in 1 2 3; do
	all_trusted "$n" 6 || fail "v$n does not list 6 trusted agents"
	for a in $AGENTS; do
		api_on "$n" GET "/v1/agents/$a" | grep -q '"state": *"trusted"' ||
		    fail "v$n GET /v1/agents/$a: $(cat "$T/resp")"
	done
	# Figures sampled at each heartbeat: give them one.
	wait_for 3 field_is "$n" fleet_admitted 6 || fail "v$n fleet: $(health_on "$n")"
	wait_for 3 field_is "$n" live_nodes 3 || fail "v$n live_nodes: $(health_on "$n")"
	[ "$(health_field "$n" role)" = attesting ] || fail "v$n role: $(health_on "$n")"
	[ "$(health_field "$n" held)" = 2 ] || fail "v$n held: $(health_on "$n")"
done
api_on 2 GET /v1/nodes | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["node"] == "v2", d
ns = {n["node"]: n for n in d["nodes"]}
assert set(ns) == {"v1", "v2", "v3"}, d
for n in ns.values():
    assert n["live"] is True and n["leases"] == 2 and n["status"] == "ok", d
    assert 0 <= n["heartbeat_age_ms"] < 3000 and n["started_ms"] > 0, d
' || fail "/v1/nodes: $(cat "$T/resp")"
"$ASSAY_BIN/assayctl" --verifier "127.0.0.1:$(node_port 1)" \
    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" --ca "$T/pki/ca.pem" \
    nodes > "$T/ctl-nodes.out" 2>&1 || fail "assayctl nodes: $(cat "$T/ctl-nodes.out")"
for n in v1 v2 v3; do
	grep -q "^$n  *yes  *2 " "$T/ctl-nodes.out" ||
	    fail "assayctl nodes: $(cat "$T/ctl-nodes.out")"
done
grep -q "^v1 .*(this one)" "$T/ctl-nodes.out" ||
    fail "assayctl nodes: $(cat "$T/ctl-nodes.out")"

step "kill -9 the node holding the most: its agents are taken over"
sampler_start 1 2 3
sleep 2
seq0=$(pg_psql "SELECT coalesce(max(seq), 0) FROM events")
victim=$(leases_by_node | sort -k2,2nr | head -n 1 | cut -d' ' -f1)
vn=${victim#v}
other=$((vn % 3 + 1))
theirs=$(leases_of "$victim" | tr '\n' ' ')
echo "victim $victim holds: $theirs"
ok_before=""
for a in $theirs; do
	ok_before="$ok_before $(attest_ok "$other" "$a")"
done
tk=$(now_ms)
node_kill "$vn"
none_left() { [ -z "$(leases_of "$victim")" ]; }
wait_for $((CL_TTL + 2 * CL_INTERVAL + 5)) none_left ||
    fail "$victim still holds $(leases_of "$victim") after $(( $(now_ms) - tk )) ms"
takeover=$(( $(now_ms) - tk ))
echo "take-over of $victim's agents: $takeover ms after kill -9" \
    "(lease_ttl $CL_TTL s, heartbeat $CL_BEAT s, interval $CL_INTERVAL s)"
[ "$takeover" -le $(( (CL_TTL + 2 * CL_INTERVAL) * 1000 )) ] ||
    fail "take-over took $takeover ms > lease_ttl + 2 intervals"
# each taken-over agent has a successful round by its new owner
set -- $ok_before
for a in $theirs; do
	ok0=$1
	shift
	grew() { [ "$(attest_ok "$other" "$a")" -gt "$ok0" ]; }
	wait_for $((2 * CL_INTERVAL + 3)) grew || fail "$a not attested after take-over"
	echo "$a: attested again by $(lease_owner "$a") $(( $(now_ms) - tk )) ms after the kill"
done
wait_for 10 spread_is "3 3" || fail "survivors not 3/3: $(leases_by_node)"

step "restart it: leases rebalance to 2/2/2"
tr0=$(now_ms)
node_start "$vn"
wait_for 15 spread_is "2 2 2" || fail "no rebalance after restart: $(leases_by_node)"
echo "rebalanced to 2/2/2 $(( $(now_ms) - tr0 )) ms after the restart"
[ "$(health_field "$vn" held)" = 2 ] || fail "$victim held: $(health_on "$vn")"
[ "$(health_field "$vn" taken_over)" -ge 2 ] || fail "$victim taken_over: $(health_on "$vn")"
sleep 3
sampler_stop

step "nobody unreachable or untrusted; one owner at a time"
sampler_check "$CL_INTERVAL" "$CL_TTL" || fail "sampler check (rc $?), see $T/samples.jsonl"
n=$(pg_psql "SELECT count(*) FROM events WHERE seq > $seq0 AND type = 'state'
    AND new_state IN ('unreachable', 'untrusted')")
[ "$n" = 0 ] || fail "state events to unreachable/untrusted: $(pg_psql \
    "SELECT agent_id, old_state, new_state, failure_id FROM events WHERE seq > $seq0 AND type = 'state'")"
all_trusted 1 6 || fail "not all trusted"

step "PCR change on an agent v1 attests: one webhook"
x=$(leases_of v1 | head -n 1)
[ -n "$x" ] || fail "v1 holds nothing"
echo "$x is attested by v1"
seqx=$(pg_psql "SELECT coalesce(max(seq), 0) FROM events")
timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-$x")" \
    "16:sha256=$(printf '%064x' 1)" || fail "pcrextend"
VPORT=$(node_port 2)
wait_state "$x" untrusted 20 || fail "$x not untrusted"
wait_for 10 hooks_ge "$x" trusted untrusted 1 || fail "no trusted -> untrusted webhook"
[ "$(lease_owner "$x")" = v1 ] || fail "$x moved to $(lease_owner "$x")"

step "a policy uploaded on v2 allowing the new value is applied by v1"
new=$(timeout 10 tpm2_pcrread -T "$(swtpm_tcti "$T/tpm-$x")" sha256:16 |
    sed -n 's/^ *16 *: *0x\([0-9A-Fa-f]*\).*/\1/p')
[ -n "$new" ] || fail "pcrread"
printf 'name: p\nbank: sha256\npcrs:\n  16: ["%s", "%s"]\n' "$ZERO" "$new" > "$T/p2.yaml"
tp=$(now_ms)
policy_put_on 2 p "$T/p2.yaml" || fail "policy upload on v2: $(cat "$T/resp")"
wait_state "$x" trusted 15 || fail "$x not trusted under the policy uploaded on v2"
echo "v1 applied the policy uploaded on v2: $x trusted $(( $(now_ms) - tp )) ms after upload"
[ "$(lease_owner "$x")" = v1 ] || fail "$x moved to $(lease_owner "$x")"
grep -q "agent $x: untrusted -> pending: policy updated" "$T/verifier-1.log" ||
    fail "v1's log does not show $x re-evaluated under the new policy"

step "each of these state changes reached the webhook exactly once"
# every state event of x since the PCR change, and the deliveries of each
pg_psql "SELECT seq || ' ' || old_state || ' ' || new_state FROM events
    WHERE agent_id = '$x' AND type = 'state' AND seq > $seqx ORDER BY seq" \
    > "$T/x-events"
echo "state changes of $x: $(tr '\n' ',' < "$T/x-events")"
grep -q " trusted untrusted$" "$T/x-events" || fail "no trusted -> untrusted event"
[ "$(tail -n 1 "$T/x-events" | cut -d' ' -f3)" = trusted ] || fail "last event not -> trusted"
delivered()	# ID SEQ
{
	python3 - "$HOOKS" "$1" "$2" <<'EOF2'
import json, sys
print(sum(1 for l in open(sys.argv[1]) for b in [json.loads(l)]
          if b["agent"] == sys.argv[2] and b["event_seq"] == int(sys.argv[3])))
EOF2
}
while read -r sq o nw; do
	got1() { [ "$(delivered "$x" "$sq")" -ge 1 ]; }
	wait_for 10 got1 || fail "event $sq ($o -> $nw) of $x never notified"
done < "$T/x-events"
sleep 3
while read -r sq o nw; do
	c=$(delivered "$x" "$sq")
	echo "event $sq $o -> $nw: $c webhook(s)"
	[ "$c" = 1 ] || fail "$c webhooks for event $sq of $x (want exactly 1)"
done < "$T/x-events"

step "admin attest sent to v2 for an agent v1 attests: 202, v1 runs a round"
api_on 2 PUT "/v1/agents/$x" '{"interval": 30}' >/dev/null ||
    fail "interval via v2: $(cat "$T/status") $(cat "$T/resp")"
sleep $((CL_INTERVAL + 1))
ok0=$(attest_ok 3 "$x")
ta=$(now_ms)
api_on 2 POST "/v1/agents/$x/attest" > "$T/attest.out" ||
    fail "attest via v2: $(cat "$T/status") $(cat "$T/resp")"
[ "$(cat "$T/status")" = 202 ] || fail "attest via v2 answered $(cat "$T/status")"
echo "attest via v2 answered 202 after $(( $(now_ms) - ta )) ms"
grew() { [ "$(attest_ok 3 "$x")" -gt "$ok0" ]; }
wait_for 5 grew || fail "no round after the forwarded attest"
echo "round done $(( $(now_ms) - ta )) ms after the request"
grep -q "cluster: agent $x: attest from node v2: 202" "$T/verifier-1.log" ||
    fail "v1's log does not show the command from v2"

step "register through v1, activate through v3 (a forwarder in between)"
FPORT=$(free_port)
fwd_start enroll "$FPORT" "$(node_port 1)" "$(node_port 3)"
VPORT=$FPORT
agent_start h7 ecc
VPORT=$(node_port 2)
wait_registered h7 30 || fail "h7 did not enroll"
grep -q "register h7: EK and AK accepted" "$T/verifier-1.log" ||
    fail "h7 did not register through v1 ($(cat "$T/fwd-enroll.log"))"
grep -q "agent h7: .*(EK bound, AK activated)" "$T/verifier-3.log" ||
    fail "h7 did not activate through v3 ($(cat "$T/fwd-enroll.log"))"
grep -q "register h7" "$T/verifier-3.log" &&
    fail "h7 registered again through v3 ($(cat "$T/fwd-enroll.log"))"
api_on 2 PUT /v1/agents/h7 '{"policy":"p"}' >/dev/null || fail "admit h7"
wait_state h7 trusted 20 || fail "h7 not trusted"
echo "h7 trusted, attested by $(lease_owner h7)"

step "each state change notified once; the history links up"
dups=$(python3 - "$HOOKS" <<'EOF'
import collections, json, sys
c = collections.Counter((b["agent"], b["event_seq"])
                        for b in map(json.loads, open(sys.argv[1])))
print(" ".join("%s/%d x%d" % (a, s, n) for (a, s), n in c.items() if n > 1))
EOF
)
[ -z "$dups" ] || fail "webhooks delivered more than once: $dups"
events_chain || fail "state events do not link up (two writers?)"
nl=$(pg_psql "SELECT count(*) FROM leases l JOIN agents a ON a.id = l.agent_id")
[ "$nl" = 7 ] || fail "$nl leases for 7 agents"
re=$(grep -l "the verifier does not know us" "$T"/agent-*.log | sed 's/.*agent-//; s/\.log//' | tr '\n' ' ') || true
[ -z "$re" ] || fail "agents told they are unknown, enrolled again: $re"
echo "PASS t_cluster"
