#!/bin/sh
# run-unit.sh O — run every Check suite built under O/tests, print a total.
O=${1:-build}
# The store suites run on PostgreSQL too: give them a private server.
if [ -z "${ASSAY_TEST_PG_URI:-}" ] && [ -z "${ASSAY_NO_PG:-}" ]; then
	ASSAY_NO_PG=1 exec "$(dirname "$0")/with-pg.sh" "$0" "$@"
fi
pass=0; fail=0; failed=""
for t in "$O"/tests/test_*; do
	[ -x "$t" ] || continue
	if CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60} "$t"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); failed="$failed $(basename "$t")"
	fi
done
echo "unit suites: $pass passed, $fail failed${failed:+ (}$failed${failed:+ )}"
[ "$fail" -eq 0 ]
