#!/bin/sh
# run.sh O — run every benchmark built under O/bench, then evmctl
# ima_measurement (if installed) on the list bench_ima wrote, then
# OpenSSL's own verify rates on this machine for comparison.
O=${1:-build}
rc=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
for b in "$O"/bench/*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	case $(basename "$b") in
	bench_ima)
		# also writes the SHA-1-template-hash list and its sha256 PCRs
		"$b" "$tmp/list.bin" || rc=1 ;;
	*)
		"$b" || rc=1 ;;
	esac
done

echo "== evmctl ima_measurement (same list as bench_ima's replay+policy)"
if ! command -v evmctl >/dev/null 2>&1; then
	echo "evmctl ima_measurement: skipped (evmctl, ima-evm-utils, not installed)"
elif [ ! -s "$tmp/list.bin" ] || [ ! -s "$tmp/list.bin.pcrs" ]; then
	echo "evmctl ima_measurement: skipped (bench_ima did not write the list)"
	rc=1
else
	# Without -v evmctl prints nothing per entry; it replays the whole
	# list into the sha256 bank and succeeds only if PCR 10 matches.
	: > "$tmp/times"
	ok=1
	for i in 1 2 3; do
		t0=$(date +%s.%N)
		timeout 120 evmctl ima_measurement --ignore-violations \
		    --pcrs "sha256,$tmp/list.bin.pcrs" "$tmp/list.bin" \
		    > "$tmp/evmctl.out" 2>&1 || ok=0
		t1=$(date +%s.%N)
		grep -q "Matched per TPM bank" "$tmp/evmctl.out" || ok=0
		echo "$t0 $t1" | awk '{ printf "%.4f\n", $2 - $1 }' >> "$tmp/times"
	done
	if [ "$ok" -eq 1 ]; then
		sort -n "$tmp/times" | sed -n 2p | awk '{
		    printf "evmctl ima_measurement 100000 entries: %.0f entries/s " \
			"(%.3f s, median of 3; PCR 10 matched)\n", 100000 / $1, $1 }'
	else
		echo "evmctl ima_measurement: FAILED to replay the list:"
		sed -n 1,5p "$tmp/evmctl.out"
		rc=1
	fi
fi

echo "== tpm2_eventlog on the same logs as bench_eventlog"
# Total wall time of tpm2_eventlog over each set bench_eventlog timed,
# and how many logs it crashed on (killed by a signal) or refused.
if ! command -v tpm2_eventlog >/dev/null 2>&1; then
	echo "tpm2_eventlog: skipped (tpm2-tools not installed)"
else
	for dir in tests/data/eventlog ../shared/corpus/eventlog; do
		[ -d "$dir" ] || { echo "tpm2_eventlog $dir: skipped (absent)"; continue; }
		find "$dir" -type f ! -path '*/expected/*' ! -name '*.yaml' \
		    ! -name '*.yml' ! -name '*.json' ! -name '*.err' \
		    ! -name '*.warn' ! -name '*.md' ! -name '*.txt' \
		    ! -name '*.b64' | sort > "$tmp/el.list"
		t0=$(date +%s.%N)
		n=0 crashed=0 refused=0
		while read -r f; do
			n=$((n + 1))
			timeout 30 tpm2_eventlog "$f" >/dev/null 2>&1
			st=$?
			if [ $st -ge 128 ] && [ $st -ne 124 ]; then
				crashed=$((crashed + 1))
			elif [ $st -ne 0 ]; then
				refused=$((refused + 1))
			fi
		done < "$tmp/el.list"
		t1=$(date +%s.%N)
		echo "$t0 $t1 $n $crashed $refused $dir" | awk '{
		    printf "tpm2_eventlog %s: %d logs, total %.0f us (%.0f us/log, " \
			"process start included), crashed on %d, refused %d\n",
			$6, $3, ($2 - $1) * 1e6, ($2 - $1) * 1e6 / $3, $4, $5 }'
	done
fi

echo "== fleet sim (agent_sim agents polled by, or pushing to, the real assay-verifier)"
# N=1000 and N=5000 agents at a 10 s interval, TLS resumption on, and
# the same 1000 as push agents (FLEET_SIM_MODE=push: they ask the verifier
# for their rounds); FLEET_SIM_COMPARE=1 also runs the pull ones with
# ASSAY_TLS_NO_RESUME=1.
if [ -x "$O/bench/agent_sim" ] && [ -x "$O/assay-verifier" ] &&
    command -v curl >/dev/null 2>&1; then
	for n in 1000 5000; do
		sh tests/bench/fleet_sim.sh "$O" "$n" 10 20 || rc=1
		if [ "$n" -eq 1000 ]; then
			FLEET_SIM_MODE=push sh tests/bench/fleet_sim.sh "$O" \
			    "$n" 10 20 || rc=1
		fi
		if [ -n "${FLEET_SIM_COMPARE:-}" ]; then
			ASSAY_TLS_NO_RESUME=1 sh tests/bench/fleet_sim.sh "$O" \
			    "$n" 10 20 || rc=1
		fi
	done
else
	echo "fleet sim: skipped (agent_sim, assay-verifier or curl missing)"
fi

echo "== cluster sim (the same simulator on PostgreSQL: one verifier, two sharing the fleet, and SQLite on the same run)"
# 2000 agents at 10 s: one verifier on PostgreSQL, two on PostgreSQL (one
# killed with -9 at the end: the take-over of its 1000 agents is timed),
# and one on SQLite for comparison.
if [ -x "$O/bench/agent_sim" ] && ls /usr/lib/postgresql/*/bin/initdb \
    >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; then
	ob=$(cd "$O" && pwd)
	for nodes in 1 2; do
		ASSAY_BIN=$ob tests/with-pg.sh sh tests/bench/cluster_sim.sh \
		    "$O" 2000 10 20 "$nodes" 2>&1 | grep "^cluster sim" || rc=1
	done
	sh tests/bench/fleet_sim.sh "$O" 2000 10 20 || rc=1
else
	echo "cluster sim: skipped (agent_sim or PostgreSQL missing)"
fi

echo "== openssl speed (verify/s, 1 thread, for comparison)"
openssl speed -seconds 2 ecdsap256 rsa2048 2>/dev/null |
    awk '/^rsa 2048 bits/ { printf "openssl rsa-2048 verify: %s/s\n", $7 }
	 /^ 256 bits ecdsa/ { printf "openssl ecdsa-p256 verify: %s/s\n", $8 }'
exit $rc
