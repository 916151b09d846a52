#!/bin/sh
# run.sh O [NAME] — run every benchmark built under O/bench, then the same
# work done by other tools on this machine for comparison: assayctl ima
# replay against evmctl ima_measurement on bench_ima's list (whole
# processes, one stable line ima_cli_vs_evmctl: R x (...)), tpm2_eventlog,
# the fleet and cluster simulators, openssl speed. Each bench's own output
# passes through unchanged.
#
# With NAME (or BENCH=NAME in the environment, as `make bench BENCH=NAME`
# passes it) only the part so named runs: a bench binary (bench_ima or
# ima), or a figure or section from the table in want_names below
# (ima_cli_vs_evmctl, ima_pipeline, policy_1m_compile, round_cpu, fleet_agents,
# tpm2_eventlog, fleet_sim, cluster_sim, openssl). An unknown NAME exits 2.
O=${1:-build}
BENCH=${2:-${BENCH:-}}
rc=0
ran=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# The names each part answers to besides its own: the figure lines of
# `make bench` (issue 15) and older short names.
want_names() {
	case $1 in
	bench_policy)		echo policy_1m_compile ;;
	bench_fleet)		echo ima_pipeline ;;
	bench_identity)		echo identity ;;
	ima_cli_vs_evmctl)	echo evmctl ;;
	fleet_sim)		echo round_cpu fleet_agents fleet ;;
	cluster_sim)		echo cluster ;;
	esac
}

# want PART: true when PART is to run (no NAME given, or NAME is one of
# its names); remembers that something ran.
want() {
	if [ -z "$BENCH" ]; then
		return 0
	fi
	for n in "$1" "${1#bench_}" $(want_names "$1"); do
		if [ "$n" = "$BENCH" ]; then
			ran=1
			return 0
		fi
	done
	return 1
}

# median FILE: the middle line of FILE's numbers, sorted.
median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# now: nanoseconds (date(1) itself costs about a millisecond, measured
# and taken off by ima_vs_evmctl).
now() {
	date +%s%N
}

for b in "$O"/bench/*; do
	[ -x "$b" ] || continue
	want "$(basename "$b")" || continue
	echo "== $(basename "$b")"
	case $(basename "$b") in
	bench_ima)
		# also writes the SHA-1-template-hash list and its sha256 PCRs
		"$b" "$tmp/list.bin" || rc=1 ;;
	*)
		"$b" || rc=1 ;;
	esac
done

# ima_vs_evmctl LIST: `assayctl ima replay --bank sha256` and `evmctl
# ima_measurement --pcrs sha256,...` on the same list, whole processes,
# A B A B ... after one warm-up each; both must reproduce the list's PCR
# 10 (LIST.pcrs). Prints the ratio of the medians of 5.
ima_vs_evmctl() {
	list=$1
	pcr=$(sed -n 's/^PCR-10: //p' "$list.pcrs")
	out=$("$O/assayctl" ima replay --bank sha256 "$list") || {
		echo "ima_cli_vs_evmctl: FAILED (assayctl ima replay refused the list)"
		return 1
	}
	entries=$(printf '%s\n' "$out" | sed -n 's/.*"entries":\([0-9]*\).*/\1/p')
	case $out in
	*"\"sha256\":\"$pcr\""*) ;;
	*)	echo "ima_cli_vs_evmctl: FAILED (assayctl's sha256 PCR 10 is not the list's)"
		return 1 ;;
	esac
	if ! timeout 120 evmctl ima_measurement --ignore-violations \
	    --pcrs "sha256,$list.pcrs" "$list" > "$tmp/evmctl.out" 2>&1 ||
	    ! grep -q "Matched per TPM bank" "$tmp/evmctl.out"; then
		echo "ima_cli_vs_evmctl: FAILED (evmctl did not replay the list):"
		sed -n 1,5p "$tmp/evmctl.out"
		return 1
	fi
	: > "$tmp/cal"; : > "$tmp/a"; : > "$tmp/b"
	for i in 1 2 3 4 5; do
		t0=$(now); t1=$(now)
		echo $((t1 - t0)) >> "$tmp/cal"
	done
	for i in 0 1 2 3 4 5; do
		t0=$(now)
		"$O/assayctl" ima replay --bank sha256 "$list" > /dev/null || return 1
		t1=$(now)
		timeout 120 evmctl ima_measurement --ignore-violations \
		    --pcrs "sha256,$list.pcrs" "$list" > /dev/null 2>&1 || return 1
		t2=$(now)
		[ "$i" -eq 0 ] && continue	# warm-up
		echo $((t1 - t0)) >> "$tmp/a"
		echo $((t2 - t1)) >> "$tmp/b"
	done
	echo "$(median "$tmp/a") $(median "$tmp/b") $(median "$tmp/cal") $entries" |
	    awk '{ a = ($1 - $3) / 1e6; b = ($2 - $3) / 1e6
		printf "ima_cli_vs_evmctl: %.1f x (assayctl %.0f ms, evmctl %.0f ms, " \
		    "%d entries, median of 5)\n", b / a, a, b, $4 }'
}

if want ima_cli_vs_evmctl; then
	echo "== ima_cli_vs_evmctl (assayctl ima replay --bank sha256 vs evmctl ima_measurement, same list)"
	if ! command -v evmctl >/dev/null 2>&1; then
		echo "ima_cli_vs_evmctl: skipped (evmctl, ima-evm-utils, not installed)"
	elif [ ! -s "$tmp/list.bin" ] && ! "$O/bench/bench_ima" "$tmp/list.bin" \
	    --write-only; then
		echo "ima_cli_vs_evmctl: FAILED (bench_ima did not write the list)"
		rc=1
	else
		ima_vs_evmctl "$tmp/list.bin" || rc=1
	fi
fi

if want tpm2_eventlog; then
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
fi

if want fleet_sim; then
	echo "== fleet sim (agent_sim agents polled by, or pushing to, the real assay-verifier)"
	# N=1000, 5000 (its round_cpu: line is the figure) and 20000 (its
	# fleet_agents: line) agents at a 10 s interval, TLS resumption and
	# keep-alive on, and the same 1000 as push agents (FLEET_SIM_MODE=push:
	# they ask the verifier for their rounds); FLEET_SIM_COMPARE=1 also runs
	# the pull ones with ASSAY_TLS_NO_RESUME=1. BENCH=round_cpu runs only
	# the 5000, BENCH=fleet_agents only the 20000.
	case $BENCH in
	round_cpu)	sizes=5000 ;;
	fleet_agents)	sizes=20000 ;;
	*)		sizes="1000 5000 20000" ;;
	esac
	if [ -x "$O/bench/agent_sim" ] && [ -x "$O/assay-verifier" ] &&
	    command -v curl >/dev/null 2>&1; then
		for n in $sizes; do
			# 5000 and 20000: with the audit trail off (the
			# table's figures: a round's own work), then on (the
			# default; at 20000 its start-up takes longer).
			if [ "$n" -ge 5000 ]; then
				FLEET_SIM_AUDIT=0 sh tests/bench/fleet_sim.sh "$O" \
				    "$n" 10 20 || rc=1
			fi
			if [ "$n" -eq 20000 ]; then
				FLEET_SIM_RAMP=400 sh tests/bench/fleet_sim.sh "$O" \
				    "$n" 10 20 || rc=1
			else
				sh tests/bench/fleet_sim.sh "$O" "$n" 10 20 || rc=1
			fi
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
fi

if want cluster_sim; then
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
fi

if want openssl; then
	echo "== openssl speed (verify/s, 1 thread, for comparison)"
	openssl speed -seconds 2 ecdsap256 rsa2048 2>/dev/null |
	    awk '/^rsa 2048 bits/ { printf "openssl rsa-2048 verify: %s/s\n", $7 }
		 /^ 256 bits ecdsa/ { printf "openssl ecdsa-p256 verify: %s/s\n", $8 }'
fi

if [ -n "$BENCH" ] && [ "$ran" -eq 0 ]; then
	echo "run.sh: no bench named $BENCH" >&2
	exit 2
fi
exit $rc
