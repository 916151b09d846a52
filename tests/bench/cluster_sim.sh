#!/bin/sh
# cluster_sim.sh O N INTERVAL SECONDS NODES — the fleet simulator on
# PostgreSQL (ASSAY_TEST_PG_URI: run it under tests/with-pg.sh): agent_sim
# impersonates N agents written straight into the shared database, NODES
# real assay-verifiers share them. Once all are trusted, measures for
# SECONDS: rounds/s (sum of assay_attestations_total), verifier CPU per
# round, PostgreSQL transactions and rows written per round and the
# server's CPU per round (pg_stat_database, /proc of the cluster's
# processes). With NODES >= 2 it then kills one verifier (kill -9) and
# times the take-over: until the survivors hold every lease, and until
# each of its agents has been attested again by a survivor.
O=${1:-build}
N=${2:-1000}
I=${3:-10}
SECS=${4:-20}
NODES=${5:-1}
URI=${ASSAY_TEST_PG_URI:?run under tests/with-pg.sh}
T=$(mktemp -d "${TMPDIR:-/tmp}/cluster-sim.XXXXXX") || exit 1
SPID=""
VPIDS=""

cleanup()
{
	rc=$?
	for p in $VPIDS $SPID; do kill "$p" 2>/dev/null; done
	for p in $VPIDS $SPID; do wait "$p" 2>/dev/null; done
	if [ "$rc" -ne 0 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "----- $f (last 10 lines)" >&2
			tail -n 10 "$f" >&2
		done
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "cluster sim: FAILED: $*" >&2; exit 1; }
rand16() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }
port_free() { ! grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp 2>/dev/null; }
now() { date +%s.%N; }
sql() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -t -A -v ON_ERROR_STOP=1 "$URI" -c "$1"; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null
"$O/assayctl" certs init "$T/pki" --agent sim >/dev/null || fail "certs init"
sql "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null ||
    fail "cannot reach $URI"

try=0
while :; do
	try=$((try + 1))
	[ "$try" -le 5 ] || fail "no free port range for $N agents"
	base=$((20000 + $(rand16) % (12000 - N)))
	rm -f "$T/ready"
	"$O/bench/agent_sim" serve "$T/pki" "$base" "$N" -d "$URI" \
	    -i "$I" -r "$T/ready" -t 600 2>>"$T/sim.log" &
	SPID=$!
	while [ ! -s "$T/ready" ] && kill -0 "$SPID" 2>/dev/null; do
		sleep 0.1
	done
	[ -s "$T/ready" ] && break
	wait "$SPID"
	st=$?
	SPID=""
	[ "$st" -eq 3 ] || fail "agent_sim exited with $st"
done

PORTS=""
k=1
while [ "$k" -le "$NODES" ]; do
	while :; do
		p=$((33000 + $(rand16) % 20000))
		port_free "$p" && break
	done
	PORTS="$PORTS $p"
	cat > "$T/v$k.yaml" <<EOY
listen: 127.0.0.1:$p
tls:
  cert: $T/pki/verifier.pem
  key: $T/pki/verifier.key
  ca: $T/pki/ca.pem
database: $URI
node: v$k
cluster:
  heartbeat: 1
  lease_ttl: 3
ek:
  ca: $T/pki/ca.pem
interval: $I
timeout: 10
max_backoff: 30
unreachable_after: 3
threads: 2
max_inflight: 1024
EOY
	"$O/assay-verifier" -f -c "$T/v$k.yaml" >"$T/v$k.log" 2>&1 &
	VPIDS="$VPIDS $!"
	k=$((k + 1))
done
set -- $PORTS
PORT1=$1

api()
{
	curl -sS --max-time 10 --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" "https://127.0.0.1:$1$2"
}

fleet_trusted()
{
	api "$PORT1" /metrics 2>/dev/null |
	    sed -n 's/^assay_fleet_agents{state="trusted"} \([0-9]*\)$/\1/p'
}

# Sum of a counter over every live verifier.
counter()
{
	s=0
	for p in $PORTS; do
		v=$(api "$p" /metrics 2>/dev/null | awk -v m="$1" \
		    'index($0, m) == 1 { s += $2 } END { print s + 0 }')
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

ticks_of() { awk '{ s += $14 + $15 } END { print s + 0 }' "$@" 2>/dev/null; }
vcpu() { for p in $VPIDS; do [ -r "/proc/$p/stat" ] && cat "/proc/$p/stat"; done | awk '{ s += $14 + $15 } END { print s + 0 }'; }
# The test cluster's postmaster and its children only (PG_DIR from pg.sh).
pg_pids()
{
	pm=$(head -n 1 "${PG_DIR:-/nonexistent}/postmaster.pid" 2>/dev/null)
	[ -n "$pm" ] && { echo "$pm"; pgrep -P "$pm"; }
}
pgcpu() { for p in $(pg_pids); do cat "/proc/$p/stat" 2>/dev/null; done | awk '{ s += $14 + $15 } END { print s + 0 }'; }
pgw() { sql "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()"; }

t_start=$(now)
limit=$((3 * I + 90))
while :; do
	n=$(fleet_trusted)
	[ "${n:-0}" -ge "$N" ] && break
	el=$(echo "$t_start $(now)" | awk '{ printf "%d", $2 - $1 }')
	[ "$el" -lt "$limit" ] || fail "only ${n:-0} of $N trusted after $el s"
	sleep 0.5
done
t_trusted=$(now)
sleep 2	# let pg_stat_database catch up
tck=$(getconf CLK_TCK)
a0=$(counter assay_attestations_total)
c0=$(vcpu); p0=$(pgcpu); w0=$(pgw); t0=$(now)
sleep "$SECS"
a1=$(counter assay_attestations_total)
c1=$(vcpu); p1=$(pgcpu); w1=$(pgw); t1=$(now)
echo "$N $I $NODES $a0 $a1 $c0 $c1 $p0 $p1 $t0 $t1 $tck $t_start $t_trusted ${w0%|*} ${w0#*|} ${w1%|*} ${w1#*|}" | awk '{
	dt = $11 - $10; r = $5 - $4; if (r < 1) r = 1
	printf "cluster sim (PostgreSQL): %d agents, interval %d s, %d verifier(s): " \
	    "%.0f rounds/s, verifier CPU %.0f us/round, PostgreSQL CPU %.0f us/round, " \
	    "%.2f commits/round, %.2f rows written/round, all trusted in %.0f s\n",
	    $1, $2, $3, r / dt, ($7 - $6) / $12 * 1e6 / r, ($9 - $8) / $12 * 1e6 / r,
	    ($17 - $15) / r, ($18 - $16) / r, $14 - $13 }'

[ "$NODES" -ge 2 ] || exit 0
# Take-over: kill -9 the first verifier.
set -- $VPIDS
victim=$1
held=$(sql "SELECT count(*) FROM leases WHERE node = 'v1'")
sql "CREATE TABLE IF NOT EXISTS sim_mark AS SELECT agent_id FROM leases WHERE node = 'v1'" >/dev/null
kill -9 "$victim"
wait "$victim" 2>/dev/null
VPIDS=$(echo "$VPIDS" | sed "s/\b$victim\b//")
PORTS=$(echo "$PORTS" | sed "s/\b$PORT1\b//")
set -- $PORTS
PORT1=$1
tk=$(now)
# The dead node's rows may keep last_attested: measure against kill time.
kill_s=$(($(date +%s) + 1))
t_leases=""
t_done=""
while :; do
	el=$(echo "$tk $(now)" | awk '{ printf "%d", $2 - $1 }')
	[ "$el" -lt $((4 * I + 30)) ] || fail "take-over not done after $el s"
	if [ -z "$t_leases" ]; then
		left=$(sql "SELECT count(*) FROM leases l JOIN sim_mark m ON m.agent_id = l.agent_id WHERE l.node = 'v1'")
		[ "$left" -eq 0 ] && t_leases=$(now)
	fi
	if [ -n "$t_leases" ]; then
		stale=$(sql "SELECT count(*) FROM agents a JOIN sim_mark m ON m.agent_id = a.id WHERE a.last_attested < $kill_s OR a.state != 'trusted'")
		[ "$stale" -eq 0 ] && { t_done=$(now); break; }
	fi
	sleep 0.2
done
echo "$held $tk $t_leases $t_done $I" | awk '{
	printf "cluster sim take-over: %d agents of a verifier killed with -9: " \
	    "leases taken in %.1f s, all attested again by the survivors in %.1f s " \
	    "(%.1f intervals)\n", $1, $3 - $2, $4 - $2, ($4 - $2) / $5 }'
