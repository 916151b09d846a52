#!/bin/sh
# Three verifiers on one PostgreSQL database while the database fails.
# PostgreSQL crashes (immediate shutdown) and comes back within the lease
# time, then after it: the verifiers reconnect, every event written before
# the crash is still there, the agents stay trusted and no agent is
# attested by two nodes. One verifier reaches the database through a
# forwarder that is then stopped: it fences itself (503, role "fenced",
# nothing held), the others take its agents; the forwarder back, it rejoins
# and gets its share again. All along no agent is seen unreachable or
# untrusted and no stored counter goes back.
set -eu
. "$(dirname "$0")/../lib/assay.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/cluster.sh"

CL_INTERVAL=1 CL_BEAT=1 CL_TTL=3
AGENTS="d1 d2 d3 d4 d5 d6"

count_state()	# N STATE
{
	api_on "$1" GET /v1/agents 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for a in json.load(sys.stdin)["agents"] if a["state"] == sys.argv[1]))' "$2" 2>/dev/null
}

all_trusted()	# N COUNT
{
	[ "$(count_state "$1" trusted)" = "$2" ]
}

spread_is()
{
	[ "$(lease_spread 2>/dev/null)" = "$1" ]
}

role_is()	# N ROLE
{
	[ "$(health_field "$1" role)" = "$2" ]
}

all_roles()	# ROLE
{
	for _n in 1 2 3; do
		role_is "$_n" "$1" || return 1
	done
}

# events_snapshot FILE — every stored event as "seq agent type new_state"
events_snapshot()
{
	pg_psql "SELECT seq || ' ' || coalesce(agent_id, '-') || ' ' || type ||
	    ' ' || coalesce(new_state, '-') FROM events ORDER BY seq" | sort > "$1"
}

# events_kept FILE — nothing in FILE is gone from the events table
events_kept()
{
	events_snapshot "$T/events-now"
	lost=$(comm -23 "$1" "$T/events-now" | wc -l)
	echo "events: $(wc -l < "$1") before, $(wc -l < "$T/events-now") now, $lost lost"
	[ "$lost" -eq 0 ] || { comm -23 "$1" "$T/events-now" | head -5 >&2; return 1; }
}

fences()	# total "stops attesting" lines in the verifier logs
{
	cat "$T"/verifier-*.log | grep -c "stops attesting its" || true
}

# all_attested_since SECS — every agent's stored last_attested >= SECS
all_attested_since()
{
	[ "$(pg_psql "SELECT count(*) FROM agents WHERE admitted <> 0 AND
	    last_attested >= $1" 2>/dev/null)" = 6 ]
}

step "PKI, PostgreSQL, a forwarder to it for v3, three verifiers"
# shellcheck disable=SC2086
pki_init $AGENTS
pg_start || fail "pg_start"
cluster_trap
FPORT=$(free_port)
fwd_start pg "$FPORT" "$PG_PORT"
node_start 1 "$PG_URI"
node_start 2 "$PG_URI"
node_start 3 "postgresql://assay@127.0.0.1:$FPORT/assay"
VPORT=$(node_port 1)

step "six agents trusted, two per node"
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
printf 'name: p\nbank: sha256\npcrs:\n  16: ["%064d"]\n' 0 > "$T/p.yaml"
policy_put_on 1 p "$T/p.yaml" || fail "policy upload: $(cat "$T/resp")"
i=0
for a in $AGENTS; do
	api_on $((i % 3 + 1)) PUT "/v1/agents/$a" '{"policy":"p"}' >/dev/null ||
	    fail "admit $a: $(cat "$T/status") $(cat "$T/resp")"
	i=$((i + 1))
done
wait_for 30 all_trusted 1 6 || fail "not all trusted: $(api_on 1 GET /v1/agents)"
wait_for 20 spread_is "2 2 2" || fail "leases not 2/2/2: $(leases_by_node)"
sampler_start 1 2 3
sleep 2

step "PostgreSQL crashes and is back within the lease time"
events_snapshot "$T/acked1"
f0=$(fences)
tk=$(now_ms)
pg_kill
sleep 1
pg_restart_server || fail "restart PostgreSQL"
down=$(( $(now_ms) - tk ))
ts=$(date +%s)
wait_for 20 all_roles attesting || fail "nodes not attesting: $(health_on 1) $(health_on 3)"
wait_for 15 all_attested_since "$((ts + 1))" || fail "rounds are not stored again: \
$(pg_psql "SELECT id, last_attested FROM agents")"
echo "database down $down ms; every agent attested and stored again" \
    "$(( $(now_ms) - tk - down )) ms after it was back;" \
    "fences during it: $(( $(fences) - f0 ))"
events_kept "$T/acked1" || fail "events lost across the crash"
wait_for 15 spread_is "2 2 2" || fail "leases not 2/2/2: $(leases_by_node)"
all_trusted 2 6 || fail "not all trusted after the crash"

step "PostgreSQL down longer than the lease time: every node fences"
events_snapshot "$T/acked2"
tk=$(now_ms)
pg_kill
wait_for $((CL_TTL + CL_BEAT + 3)) all_roles fenced ||
    fail "not all fenced: $(health_on 1) $(health_on 2) $(health_on 3)"
echo "all nodes fenced $(( $(now_ms) - tk )) ms after the crash"
for n in 1 2 3; do
	health_on "$n" > "$T/h$n.json"
	[ "$(cat "$T/status")" = 503 ] || fail "v$n health answers $(cat "$T/status") while fenced"
	grep -q '"database_error"' "$T/h$n.json" || fail "v$n: no database_error: $(cat "$T/h$n.json")"
	[ "$(health_field "$n" held)" = 0 ] || fail "v$n holds agents while fenced"
done
sleep 2
pg_restart_server || fail "restart PostgreSQL"
down=$(( $(now_ms) - tk ))
ts=$(date +%s)
wait_for 20 all_roles attesting || fail "nodes not attesting again: $(health_on 1)"
wait_for 15 all_attested_since "$((ts + 1))" || fail "rounds are not stored again"
echo "database down $down ms; every agent attested again" \
    "$(( $(now_ms) - tk - down )) ms after it was back"
events_kept "$T/acked2" || fail "events lost across the long outage"
tr0=$(now_ms)
wait_for 15 spread_is "2 2 2" || fail "leases not 2/2/2: $(leases_by_node)"
echo "leases 2/2/2 again $(( $(now_ms) - tr0 )) ms later"
all_trusted 1 6 || fail "not all trusted after the long outage"

step "v3 cut off from the database: it fences, the others take its agents"
events_snapshot "$T/acked3"
mine=$(leases_of v3 | tr '\n' ' ')
echo "v3 holds: $mine"
tc=$(now_ms)
fwd_stop pg
tf="" tt=""
i=0
while [ -z "$tf" ] || [ -z "$tt" ]; do
	[ -n "$tf" ] || ! role_is 3 fenced || tf=$(( $(now_ms) - tc ))
	[ -n "$tt" ] || [ -n "$(leases_of v3)" ] || tt=$(( $(now_ms) - tc ))
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "after 10 s: fenced at '$tf' ms, taken over at '$tt' ms;" \
	    "v3: $(health_on 3); leases: $(leases_by_node)"
	sleep 0.1
done
echo "v3 fenced after $tf ms; its agents taken over after $tt ms"
[ "$tf" -le $(( (CL_TTL + CL_BEAT) * 1000 + 500 )) ] || fail "v3 fenced late ($tf ms)"
health_on 3 > "$T/h3.json"
[ "$(cat "$T/status")" = 503 ] || fail "fenced v3 answers $(cat "$T/status")"
grep -q '"role": *"fenced"' "$T/h3.json" || fail "v3 health: $(cat "$T/h3.json")"
grep -q '"database_error"' "$T/h3.json" || fail "v3 health: no database_error"
[ "$(health_field 3 held)" = 0 ] || fail "fenced v3 still holds agents"
wait_for 5 spread_is "3 3" || fail "v1/v2 not 3/3: $(leases_by_node)"
all_trusted 1 6 || fail "not all trusted while v3 is cut off"
sleep 2

step "the forwarder back: v3 rejoins and gets its share"
tb=$(now_ms)
fwd_start pg "$FPORT" "$PG_PORT"
wait_for 15 role_is 3 attesting || fail "v3 not attesting again: $(health_on 3)"
echo "v3 attesting $(( $(now_ms) - tb )) ms after the database is reachable again"
wait_for 15 spread_is "2 2 2" || fail "leases not 2/2/2: $(leases_by_node)"
echo "leases 2/2/2 $(( $(now_ms) - tb )) ms after it"
healthy3() { health_on 3 >/dev/null; [ "$(cat "$T/status")" = 200 ]; }
wait_for 20 healthy3 || fail "v3 health: $(cat "$T/status") $(health_on 3)"
echo "v3 healthy (its queued writes settled) $(( $(now_ms) - tb )) ms after it"
grep -q "cluster: node v3 reaches the database again" "$T/verifier-3.log" ||
    fail "v3 did not log its return"
sleep 3
sampler_stop

step "nothing lost, nobody unreachable or untrusted, one owner at a time"
events_kept "$T/acked3" || fail "events lost while v3 was cut off"
sampler_check "$CL_INTERVAL" "$CL_TTL" || fail "sampler check (rc $?), see $T/samples.jsonl"
n=$(pg_psql "SELECT count(*) FROM events WHERE type = 'state'
    AND new_state IN ('unreachable', 'untrusted')")
[ "$n" = 0 ] || fail "state events to unreachable/untrusted: $n"
events_chain || fail "state events do not link up (two writers?)"
all_trusted 3 6 || fail "not all trusted at the end"
# an agent asks GET /v1/register/ID now and then; a verifier that cannot
# read the database must not tell it "not registered" (it would enroll again)
re=$(grep -l "the verifier does not know us" "$T"/agent-*.log | sed 's/.*agent-//; s/\.log//' | tr '\n' ' ') || true
[ -z "$re" ] || fail "agents told they are unknown during the outages, enrolled again: $re"
echo "PASS t_cluster_db"
