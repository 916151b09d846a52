#!/bin/sh
# fleet_sim.sh O [N [INTERVAL [SECONDS]]] — how many agents one verifier
# holds: agent_sim impersonates N agents (HTTPS listeners on 127.0.0.1
# with software quotes) and writes them, enrolled and admitted, straight
# into a fresh verifier store (enrollment is bypassed on purpose: it is
# tested by the integration tests); the real assay-verifier then polls them
# every INTERVAL s. Once all N are trusted, measures for SECONDS: rounds/s
# (assay_attestations_total), the verifier's RSS (VmRSS) and CPU (utime +
# stime from /proc). ASSAY_TLS_NO_RESUME=1 in the environment turns the
# verifier's TLS session resumption off (for the comparison).
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

# Pull: agents on BASE..BASE+N-1 below the ephemeral range (32768-).
try=0
while [ "$MODE" = pull ]; do
	try=$((try + 1))
	[ "$try" -le 5 ] || fail "no free port range for $N agents"
	base=$((20000 + $(rand16) % (12000 - N)))
	rm -f "$T/ready" "$T/verifier.db"*
	"$O/bench/agent_sim" serve "$T/pki" "$base" "$N" -d "$T/verifier.db" \
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

# All N trusted: at most 3 intervals plus start-up.
limit=$((3 * I + 60))
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
echo "$N $I $a0 $a1 $c0 $c1 $w0 $w1 $rss $tck $t_start $t_trusted $resume \
    $((e1 - e0)) $MODE" | awk '{
	dt = $8 - $7
	printf "fleet sim: %d %s agents, interval %d s: %.0f rounds/s sustained, " \
	    "verifier RSS %.0f MB, CPU %.0f%% of one core (%.2f ms per " \
	    "round), all trusted in %.0f s (TLS resumption %s, %d poll " \
	    "errors)\n", $1, $15, $2, ($4 - $3) / dt, $9 / 1024,
	    100 * ($6 - $5) / $10 / dt,
	    ($4 > $3 ? 1000 * ($6 - $5) / $10 / ($4 - $3) : 0), $12 - $11,
	    $13, $14 }'
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=""
tail -n 1 "$T/sim.log"
[ "${FLEET_SIM_KEEP_LOG:-}" ] && cp "$T/verifier.log" "$FLEET_SIM_KEEP_LOG"
true
