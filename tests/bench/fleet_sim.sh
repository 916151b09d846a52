#!/bin/sh
# fleet_sim.sh O [N [INTERVAL [SECONDS]]] — how many agents one verifier
# holds: agent_sim impersonates N agents (agent i at
# 127.100.(i/250).(i%250+1):PORT, all behind one listening socket, with
# software quotes) and writes them, enrolled and admitted, straight
# into a fresh verifier store (enrollment is bypassed on purpose: it is
# tested by the integration tests); the real assay-verifier then polls them
# every INTERVAL s. Once all N are trusted, measures for SECONDS: rounds/s
# (assay_attestations_total), the verifier's RSS (VmRSS) and CPU (utime +
# stime from /proc). ASSAY_TLS_NO_RESUME=1 in the environment turns the
# verifier's TLS session resumption off, ASSAY_HTTP_NO_KEEPALIVE=1 its
# connections kept open from one poll to the next (for the comparison).
# Prints, for make bench (tests/bench/run.sh):
#   round_cpu: N us (...)       verifier CPU per attestation round
#   fleet_agents: N agents at I s (...)   all N held trusted throughout
# The verifier's max_connections (API connections) is 1024 in pull mode
# (FLEET_SIM_MAX_CONNECTIONS overrides; 0: half the descriptor limit).
# FLEET_SIM_PROCS: agent_sim processes (default one per 8,000 agents).
# FLEET_SIM_AUDIT=SECONDS: the verifier's audit_retention (0: off).
# FLEET_SIM_RAMP=SECONDS: how long all N may take to be trusted first.
# FLEET_SIM_KEEP_LOG=FILE: the verifier's log copied there, agent_sim's
# to FILE.sim.
# FLEET_SIM_MODE=push: the N agents are push agents instead (agent_sim
# push: no listener; each asks the verifier for its challenge and posts
# the evidence, common/proto/push.h); the verifier and its configuration
# are the same. The line printed names the mode (default pull).
# Starts everything in its own temp dir; stops only what it started.
O=${1:-build}
N=${2:-1000}
I=${3:-10}
SECS=${4:-20}
MODE=${FLEET_SIM_MODE:-pull}
T=$(mktemp -d "${TMPDIR:-/tmp}/fleet-sim.XXXXXX") || exit 1
SPID=""
VPID=""

cleanup()
{
	rc=$?
	[ -n "$VPID" ] && kill "$VPID" 2>/dev/null
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null
	[ -n "$VPID" ] && wait "$VPID" 2>/dev/null
	[ -n "$SPID" ] && wait "$SPID" 2>/dev/null
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

fail()
{
	echo "fleet sim: FAILED: $*" >&2
	exit 1
}

rand16()
{
	od -An -N2 -tu2 /dev/urandom | tr -d ' '
}

port_free()
{
	! grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp 2>/dev/null
}

now()
{
	date +%s.%N
}

case $MODE in
pull|push) ;;
*) fail "FLEET_SIM_MODE: pull or push, not '$MODE'" ;;
esac

pick_vport()
{
	while :; do
		vport=$((33000 + $(rand16) % 20000))
		port_free "$vport" && break
	done
}

# The simulator: its DB rows written and (pull) its listeners up.
sim_ready()
{
	while [ ! -s "$T/ready" ] && kill -0 "$SPID" 2>/dev/null; do
		sleep 0.1
	done
	[ -s "$T/ready" ]
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null
"$O/assayctl" certs init "$T/pki" --agent sim >/dev/null || fail "certs init"

if [ "$MODE" = push ]; then
	# No listeners: the agents ask the verifier (once it listens).
	pick_vport
	"$O/bench/agent_sim" push "$T/pki" "127.0.0.1:$vport" "$N" \
	    -d "$T/verifier.db" -i "$I" -r "$T/ready" -t 300 2>>"$T/sim.log" &
	SPID=$!
	sim_ready || fail "agent_sim push exited"
fi

# Pull: ports below the ephemeral range (32768-), one per agent_sim
# process, each process serving up to 8,000 agents (it holds a connection
# per agent: its own descriptor limit).
procs=${FLEET_SIM_PROCS:-$(((N + 7999) / 8000))}
try=0
while [ "$MODE" = pull ]; do
	try=$((try + 1))
	[ "$try" -le 10 ] || fail "no free ports for the simulated agents"
	base=$((20000 + $(rand16) % 12000))
	k=0
	while [ "$k" -lt "$procs" ] && port_free $((base + k)); do
		k=$((k + 1))
	done
	[ "$k" -eq "$procs" ] || continue
	rm -f "$T/ready" "$T/verifier.db"*
	"$O/bench/agent_sim" serve "$T/pki" "$base" "$N" -P "$procs" \
	    -d "$T/verifier.db" \
	    -i "$I" -r "$T/ready" -t 300 2>>"$T/sim.log" &
	SPID=$!
	sim_ready && break
	wait "$SPID"
	st=$?
	SPID=""
	[ "$st" -eq 3 ] || fail "agent_sim exited with $st"
done
[ "$MODE" = pull ] && pick_vport
cat > "$T/verifier.yaml" <<EOY
listen: 127.0.0.1:$vport
tls:
  cert: $T/pki/verifier.pem
  key: $T/pki/verifier.key
  ca: $T/pki/ca.pem
database: $T/verifier.db
ek:
  ca: $T/pki/ca.pem
interval: $I
timeout: 10
max_backoff: 30
unreachable_after: 3
threads: 2
max_inflight: 1024
EOY
# Pull: the API serves only this script's requests, and the descriptors
# it does not reserve keep agents' connections open between rounds.
MAXC=${FLEET_SIM_MAX_CONNECTIONS:-1024}
[ "$MODE" = push ] && MAXC=${FLEET_SIM_MAX_CONNECTIONS:-0}
echo "max_connections: $MAXC" >> "$T/verifier.yaml"
# FLEET_SIM_AUDIT=SECONDS: audit_retention (0: no audit trail); unset:
# the verifier's default (the audit trail on, 7 days).
AUDIT=on
if [ -n "${FLEET_SIM_AUDIT:-}" ]; then
	echo "audit_retention: $FLEET_SIM_AUDIT" >> "$T/verifier.yaml"
	[ "$FLEET_SIM_AUDIT" = 0 ] && AUDIT=off
fi
t_start=$(now)
"$O/assay-verifier" -f -c "$T/verifier.yaml" >"$T/verifier.log" 2>&1 &
VPID=$!

api()
{
	curl -sS --max-time 10 --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" "https://127.0.0.1:$vport$1"
}

trusted()
{
	api /v1/health 2>/dev/null | sed -n 's/.*"trusted": *\([0-9]*\).*/\1/p'
}

attests()
{
	api /metrics 2>/dev/null | awk '/^assay_attestations_total/ { s += $2 }
	    END { print s + 0 }'
}

poll_errors()
{
	api /metrics 2>/dev/null | awk '/^assay_poll_errors_total/ { s += $2 }
	    END { print s + 0 }'
}

cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$VPID/stat"
}

# All N trusted: at most 3 intervals plus start-up (a full TLS handshake
# per agent on first contact, a few ms of CPU on each side).
limit=${FLEET_SIM_RAMP:-$((3 * I + 60 + N / 250))}
while :; do
	kill -0 "$VPID" 2>/dev/null || fail "verifier exited"
	n=$(trusted)
	[ "${n:-0}" -ge "$N" ] && break
	el=$(echo "$t_start $(now)" | awk '{ printf "%d", $2 - $1 }')
	[ "$el" -lt "$limit" ] || fail "only ${n:-0} of $N trusted after $el s"
	sleep 0.5
done
t_trusted=$(now)

tck=$(getconf CLK_TCK)
a0=$(attests)
e0=$(poll_errors)
c0=$(cpu_ticks)
w0=$(now)
sleep "$SECS"
a1=$(attests)
e1=$(poll_errors)
c1=$(cpu_ticks)
w1=$(now)
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$VPID/status")
n=$(trusted)
[ "${n:-0}" -ge "$N" ] || fail "only ${n:-0} of $N still trusted after the measurement"
resume=on
[ "${ASSAY_TLS_NO_RESUME:-}" = 1 ] && resume=off
keep=on
[ "${ASSAY_HTTP_NO_KEEPALIVE:-}" = 1 ] && keep=off
fds=$(ls "/proc/$VPID/fd" 2>/dev/null | wc -l)
echo "$N $I $a0 $a1 $c0 $c1 $w0 $w1 $rss $tck $t_start $t_trusted $resume \
    $((e1 - e0)) $MODE $keep $fds $AUDIT" | awk '{
	dt = $8 - $7
	us = ($4 > $3 ? 1e6 * ($6 - $5) / $10 / ($4 - $3) : 0)
	printf "fleet sim: %d %s agents, interval %d s: %.0f rounds/s sustained, " \
	    "verifier RSS %.0f MB, CPU %.0f%% of one core (%.2f ms per " \
	    "round), all trusted in %.0f s (TLS resumption %s, keep-alive " \
	    "%s, %d descriptors, %d poll errors)\n", $1, $15, $2,
	    ($4 - $3) / dt, $9 / 1024, 100 * ($6 - $5) / $10 / dt,
	    us / 1000, $12 - $11, $13, $16, $17, $14
	printf "round_cpu: %.0f us (%s, %d agents at %d s, %.0f rounds/s, " \
	    "keep-alive %s, resumption %s, audit trail %s)\n", us, $15, $1, $2,
	    ($4 - $3) / dt, $16, $13, $18
	printf "fleet_agents: %d agents at %d s (%s, all trusted, %.0f " \
	    "rounds/s, %.0f us per round, verifier RSS %.0f MB, %d " \
	    "descriptors, %d poll errors)\n", $1, $2, $15, ($4 - $3) / dt,
	    us, $9 / 1024, $17, $14 }'
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=""
tail -n "${procs:-1}" "$T/sim.log"
if [ "${FLEET_SIM_KEEP_LOG:-}" ]; then
	cp "$T/verifier.log" "$FLEET_SIM_KEEP_LOG"
	cp "$T/sim.log" "$FLEET_SIM_KEEP_LOG.sim"
fi
true
