#!/bin/sh
# run.sh O SECONDS [NAME] [RUNS] — run every fuzzer built in O/fuzz (or
# only fuzz_NAME) for SECONDS each, or for RUNS executions when RUNS is
# given (then SECONDS is only an upper bound, 0 for none), starting from
# tests/fuzz/seeds/NAME (and the test data) when present. Prints each
# harness's execution count; exits 1 on a crash.
O=${1:-build-fuzz}
secs=${2:-20}
only=${3:-}
runs=${4:-}
rc=0
for f in "$O"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	case $name in
	"fuzz_${only#fuzz_}") ;;
	*) [ -z "$only" ] || continue ;;
	esac
	corpus="$O/fuzz-corpus/$name"
	mkdir -p "$corpus"
	seeds=""
	[ -d "tests/fuzz/seeds/$name" ] && seeds="tests/fuzz/seeds/$name"
	limit="-max_total_time=$secs"
	[ -n "$runs" ] && limit="-runs=$runs -max_total_time=$secs"
	echo "=== $name (${runs:+$runs runs, }$secs s)"
	# shellcheck disable=SC2086
	if ! "$f" $limit -max_len=8192 -print_final_stats=1 \
	    "$corpus" $seeds 2>"$O/$name.log"; then
		echo "$name: CRASH, see $O/$name.log and the crash-* file"
		rc=1
	fi
	grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$O/$name.log"
done
exit $rc
