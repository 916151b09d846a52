#!/bin/sh
# run.sh O SECONDS — run every fuzzer built in O/fuzz for SECONDS each,
# starting from tests/fuzz/seeds/NAME (and the test data) when present.
O=${1:-build-fuzz}
secs=${2:-20}
rc=0
for f in "$O"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="$O/fuzz-corpus/$name"
	mkdir -p "$corpus"
	seeds=""
	[ -d "tests/fuzz/seeds/$name" ] && seeds="tests/fuzz/seeds/$name"
	echo "=== $name ($secs s)"
	# shellcheck disable=SC2086
	if ! "$f" -max_total_time="$secs" -max_len=8192 -print_final_stats=1 \
	    "$corpus" $seeds 2>"$O/$name.log"; then
		echo "$name: CRASH, see $O/$name.log and the crash-* file"
		rc=1
	fi
	grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$O/$name.log"
done
exit $rc
