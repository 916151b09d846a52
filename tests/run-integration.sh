#!/bin/sh
# run-integration.sh O — run every tests/integration/t_*.sh with the
# binaries from O; each script makes its own temporary dir and ports.
O=${1:-build}
BIN=$(cd "$O" && pwd)
export ASSAY_BIN="$BIN"
pass=0; fail=0; failed=""
for t in tests/integration/t_*.sh; do
	[ -f "$t" ] || continue
	echo "=== $t"
	if timeout 300 sh "$t"; then
		pass=$((pass + 1))
		echo "--- PASS $t"
	else
		fail=$((fail + 1)); failed="$failed $(basename "$t")"
		echo "--- FAIL $t"
	fi
done
echo "integration: $pass passed, $fail failed${failed:+ (}$failed${failed:+ )}"
[ "$fail" -eq 0 ]
