#!/bin/sh
# with-pg.sh CMD... — run CMD with ASSAY_TEST_PG_URI naming a private
# PostgreSQL cluster started for it (tests/lib/pg.sh) and removed after.
# Without PostgreSQL's server binaries, CMD runs without it (the store
# suites then say that their PostgreSQL half was not run).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "with-pg: no PostgreSQL server installed: running without it" >&2
	exec "$@"
fi
ASSAY_BIN=${ASSAY_BIN:-$ROOT/build}
export ASSAY_BIN
. "$ROOT/tests/lib/assay.sh"
. "$ROOT/tests/lib/pg.sh"
pg_start || { echo "with-pg: cannot start PostgreSQL" >&2; exit 1; }
ASSAY_TEST_PG_URI=$PG_URI
export ASSAY_TEST_PG_URI
"$@"
