# pg.sh — POSIX sh library for tests that need a PostgreSQL server: a
# private cluster (initdb + pg_ctl of the highest /usr/lib/postgresql/*
# present) on a free loopback port, stopped, killed and started again, and
# psql against it. Source after tests/lib/assay.sh (free_port, cleanup).
# As root (CI) the server runs as the postgres user; otherwise as the
# caller. Only the cluster started here is touched (pg_ctl -D on its own
# directory, never pkill); fsync stays on: durability is under test.
#
#   pg_start [BASE]      new cluster in a fresh dir under BASE (default
#                        $T, else $TMPDIR or /tmp), database "assay";
#                        exports PG_DIR (data dir), PG_PORT, PG_URI
#   pg_stop              fast shutdown (idempotent; keeps the data)
#   pg_kill              immediate shutdown, as a crash would
#   pg_restart_server    start again on the same port after stop/kill
#   pg_psql SQL...       run each SQL with psql against PG_URI
#   pg_destroy           stop, then remove the directory pg_start made
#
# pg_start also chains pg_destroy in front of assay.sh's EXIT cleanup
# (the directory is kept, like $T, when the test fails or KEEP is set).

PG_DIR=""
PG_PORT=""
PG_URI=""
PG_TOP=""	# the mktemp dir that holds PG_DIR; what pg_destroy removes
PG_BIN=""

# _pg_bin — the bin dir of the highest PostgreSQL version installed.
_pg_bin()
{
	_best=""
	_bv=0
	for _d in /usr/lib/postgresql/*/bin; do
		_v=${_d%/bin}
		_v=${_v##*/}
		case $_v in ''|*[!0-9]*) continue ;; esac
		if [ -x "$_d/initdb" ] && [ "$_v" -gt "$_bv" ]; then
			_bv=$_v
			_best=$_d
		fi
	done
	echo "$_best"
}

# _pg_as CMD... — run a server command as the cluster's owner.
_pg_as()
{
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# _pg_top BASE — a fresh dir (0711) under BASE the server's user can reach.
_pg_top()
{
	_b=$1
	if [ "$(id -u)" -eq 0 ] &&
	    ! runuser -u postgres -- test -x "$_b" 2>/dev/null; then
		# A test's own temp dir (0700): let others traverse, not list.
		[ -O "$_b" ] && chmod a+x "$_b"
		runuser -u postgres -- test -x "$_b" 2>/dev/null || _b=/tmp
	fi
	_t=$(mktemp -d "$_b/assay-pg.XXXXXX") || return 1
	chmod 0711 "$_t" && echo "$_t"
}

# _pg_ctl_start — start the cluster in PG_DIR; 1 if it did not come up.
_pg_ctl_start()
{
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/pg.log" -w -t 30 \
	    start >/dev/null 2>&1
}

# _pg_conf PORT — (re)write our settings, last in postgresql.conf wins.
_pg_conf()
{
	_pg_as sh -c "cat >> '$PG_DIR/postgresql.conf'" <<EOC
# assay tests
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$PG_DIR'
max_connections = 100
fsync = on
synchronous_commit = on
logging_collector = off
EOC
}

pg_start()
{
	_base=${1:-${T:-${TMPDIR:-/tmp}}}
	command -v free_port >/dev/null 2>&1 || {
		echo "pg.sh: source tests/lib/assay.sh first" >&2
		return 1
	}
	PG_BIN=$(_pg_bin)
	[ -n "$PG_BIN" ] || { echo "pg.sh: no PostgreSQL in /usr/lib/postgresql" >&2; return 1; }
	PG_TOP=$(_pg_top "$_base") || return 1
	PG_DIR=$PG_TOP/data
	if [ "$(id -u)" -eq 0 ]; then
		install -d -o postgres -g postgres -m 0700 "$PG_DIR" || return 1
	else
		mkdir -m 0700 "$PG_DIR" || return 1
	fi
	_pg_as "$PG_BIN/initdb" -D "$PG_DIR" -A trust -U assay --no-sync \
	    -E UTF8 >"$PG_TOP/initdb.log" 2>&1 || {
		echo "pg.sh: initdb failed (see $PG_TOP/initdb.log)" >&2
		return 1
	}
	_n=0
	while :; do
		PG_PORT=$(free_port)
		_pg_conf "$PG_PORT" || return 1
		_pg_ctl_start && break
		_n=$((_n + 1))	# the port may have been taken meanwhile
		[ "$_n" -lt 3 ] || { echo "pg.sh: server did not start" >&2; return 1; }
	done
	PG_URI=postgresql://assay@127.0.0.1:$PG_PORT/assay
	export PG_DIR PG_PORT PG_URI
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
	    -d "postgresql://assay@127.0.0.1:$PG_PORT/postgres" \
	    -c 'CREATE DATABASE assay' >/dev/null || return 1
	if command -v cleanup >/dev/null 2>&1; then
		# shellcheck disable=SC2154
		trap '_pg_rc=$?; _pg_clients_stop; _pg_exit "$_pg_rc"; (exit "$_pg_rc"); cleanup' EXIT
	else
		trap '_pg_exit $?' EXIT
	fi
}

# _pg_clients_stop — at exit, the test's daemons go before their database
# (assay.sh's cleanup kills them again; a second kill is harmless).
_pg_clients_stop()
{
	for _p in ${PIDS:-}; do
		kill "$_p" 2>/dev/null
	done
	for _p in ${PIDS:-}; do
		wait "$_p" 2>/dev/null
	done
	true
}

# _pg_exit RC — at exit: stop; remove unless the test failed or KEEP.
_pg_exit()
{
	if [ "$1" -ne 0 ] || [ -n "${KEEP:-}" ]; then
		pg_stop
		[ -z "$PG_TOP" ] || echo "postgres dir kept: $PG_TOP" >&2
	else
		pg_destroy
	fi
}

pg_stop()
{
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/postmaster.pid" ] || return 0
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast -w -t 30 stop \
	    >/dev/null 2>&1 || true
}

pg_kill()
{
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/postmaster.pid" ] || return 0
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR" -m immediate -w -t 30 stop \
	    >/dev/null 2>&1 || true
}

pg_restart_server()
{
	[ -n "$PG_DIR" ] || { echo "pg.sh: no cluster" >&2; return 1; }
	_pg_ctl_start || {
		echo "pg.sh: restart failed (see $PG_DIR/pg.log)" >&2
		return 1
	}
}

pg_psql()
{
	for _sql in "$@"; do
		"$PG_BIN/psql" -X -q -t -A -v ON_ERROR_STOP=1 -d "$PG_URI" \
		    -c "$_sql" || return 1
	done
}

pg_destroy()
{
	pg_stop
	if [ -n "$PG_TOP" ]; then rm -rf "$PG_TOP"; fi
	PG_TOP=""
	PG_DIR=""
}
