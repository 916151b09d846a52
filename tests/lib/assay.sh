# assay.sh — helpers for integration tests: a private temp dir, free
# loopback ports, a test PKI, swtpm instances with EK certificates from a
# test TPM CA, the real daemons, curl against the admin API, and waiting
# for states. Source after setting nothing; uses $ASSAY_BIN (build dir).
# Cleanup kills only the processes this test started.

set -u
: "${ASSAY_BIN:?ASSAY_BIN must point at the build directory}"
ROOT=${ASSAY_ROOT:-$(pwd)}
[ -f "$ROOT/tests/lib/swtpm.sh" ] || { echo "run from the repository root" >&2; exit 1; }
. "$ROOT/tests/lib/swtpm.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/assay-test.XXXXXX")
PIDS=""
TPMS=""
USED_PORTS=""

cleanup()
{
	rc=$?
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for d in $TPMS; do
		swtpm_stop "$d"
	done
	if [ "$rc" -ne 0 ] || [ -n "${KEEP:-}" ]; then
		echo "test dir kept: $T" >&2
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "----- $f (last 30 lines)" >&2
			tail -n 30 "$f" >&2
		done
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

step()
{
	echo "--- $*"
}

# free_port — a TCP port nobody listens on (and this test has not taken).
free_port()
{
	while :; do
		n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + n % 40000))
		hex=$(printf '%04X' "$p")
		case " $USED_PORTS " in *" $p "*) continue ;; esac
		if ! grep -qi ":$hex " /proc/net/tcp /proc/net/tcp6 2>/dev/null &&
		    ! grep -qi ":$(printf '%04X' $((p + 1))) " /proc/net/tcp 2>/dev/null; then
			USED_PORTS="$USED_PORTS $p"
			echo "$p"
			return
		fi
	done
}

# pki_init AGENT... — fleet CA, verifier/admin certs, one cert per agent.
pki_init()
{
	args=""
	for a in "$@"; do
		args="$args --agent $a"
	done
	# shellcheck disable=SC2086
	"$ASSAY_BIN/assayctl" certs init "$T/pki" $args >/dev/null ||
	    fail "assayctl certs init"
	# The TPM vendor CA our swtpms' EK certificates chain to.
	swtpm_make_ca "$T/tpmca" || fail "TPM CA"
	mkdir -p "$T/ekca"
	cp "$T/tpmca/rootca.pem" "$T/ekca/root.pem"
	cp "$T/tpmca/issuercert.pem" "$T/ekca/issuer.pem"
}

# verifier_start [extra yaml lines] — writes $T/verifier.yaml, starts it.
VPORT=""
VPID=""
verifier_start()
{
	[ -n "$VPORT" ] || VPORT=$(free_port)
	if [ ! -f "$T/verifier.yaml" ]; then
		cat > "$T/verifier.yaml" <<EOY
listen: 127.0.0.1:$VPORT
tls:
  cert: pki/verifier.pem
  key: pki/verifier.key
  ca: pki/ca.pem
database: verifier.db
ek:
  ca: ekca
interval: ${INTERVAL:-1}
timeout: 5
max_backoff: 4
unreachable_after: 2
${1:-}
EOY
	fi
	"$ASSAY_BIN/assay-verifier" -f -v -c "$T/verifier.yaml" >>"$T/verifier.log" 2>&1 &
	VPID=$!
	PIDS="$PIDS $VPID"
	i=0
	until api GET /v1/health >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "verifier did not come up"
		kill -0 "$VPID" 2>/dev/null || fail "verifier exited"
		sleep 0.1
	done
}

# agent_start NAME [rsa|ecc CADIR] — own swtpm, config, process.
agent_start()
{
	name=$1
	d=$T/tpm-$name
	if [ ! -d "$d/tpm" ]; then
		swtpm_make "$d" rsa "${3:-$T/tpmca}" || fail "swtpm_make $name"
	fi
	if ! { [ -s "$d/swtpm.pid" ] && kill -0 "$(cat "$d/swtpm.pid")" 2>/dev/null; }; then
		swtpm_start "$d" || fail "swtpm_start $name"
	fi
	case " $TPMS " in *" $d "*) ;; *) TPMS="$TPMS $d" ;; esac
	if [ ! -f "$T/agent-$name.yaml" ]; then
		port=$(free_port)
		echo "$port" > "$T/agent-$name.port"
		cat > "$T/agent-$name.yaml" <<EOY
id: $name
tcti: $(swtpm_tcti "$d")
ak_alg: ${2:-ecc}
listen: 127.0.0.1:$port
advertise: 127.0.0.1:$port
verifier:
  address: 127.0.0.1:$VPORT
  name: verifier
tls:
  cert: pki/agent-$name.pem
  key: pki/agent-$name.key
  ca: pki/ca.pem
quote_rate: 50
recheck: 5
ima:
  path: "${IMA_LIST:-}"
eventlog:
  path: "${EVENTLOG:-}"
EOY
	fi
	"$ASSAY_BIN/assay-agent" -f -v -c "$T/agent-$name.yaml" >>"$T/agent-$name.log" 2>&1 &
	eval "APID_$name=$!"
	PIDS="$PIDS $!"
}

agent_stop()
{
	eval "p=\${APID_$1:-}"
	[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	true
}

agent_port()
{
	cat "$T/agent-$1.port"
}

# api METHOD PATH [BODY] — admin call; prints the body, fails on >= 400.
api()
{
	api_as admin "$@"
}

# api_as CERTNAME METHOD PATH [BODY] — prints body; status in $T/status.
api_as()
{
	who=$1 m=$2 path=$3
	shift 3
	if [ $# -gt 0 ]; then
		set -- --data-binary "$1" -H 'Content-Type: application/json'
	fi
	code=$(curl -sS -o "$T/resp" -w '%{http_code}' --max-time 10 -X "$m" \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/$who.pem" --key "$T/pki/$who.key" \
	    "$@" "https://127.0.0.1:$VPORT$path") || return 2
	echo "$code" > "$T/status"
	cat "$T/resp"
	[ "$code" -lt 400 ]
}

# json_field FIELD — a top-level string/number field of JSON on stdin.
json_field()
{
	sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -n 1
}

agent_state()
{
	api GET "/v1/agents/$1" 2>/dev/null | json_field state
}

# wait_state ID STATE [SECONDS]
wait_state()
{
	i=0 lim=$((${3:-30} * 10))
	while :; do
		s=$(agent_state "$1")
		[ "$s" = "$2" ] && return 0
		i=$((i + 1))
		if [ "$i" -ge "$lim" ]; then
			echo "agent $1 is '$s', wanted '$2'" >&2
			api GET "/v1/agents/$1" >&2
			return 1
		fi
		sleep 0.1
	done
}

# wait_registered ID [SECONDS]
wait_registered()
{
	i=0 lim=$((${2:-30} * 10))
	until api GET "/v1/agents/$1" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt "$lim" ] || return 1
		sleep 0.1
	done
}

# policy_static NAME ID PCR — a policy pinning PCR (sha256) to its value now.
policy_pin()
{
	name=$1 tpmdir=$2 pcr=$3
	val=$(timeout 10 tpm2_pcrread -T "$(swtpm_tcti "$tpmdir")" "sha256:$pcr" |
	    sed -n "s/^ *$pcr *: *0x\([0-9A-Fa-f]*\).*/\1/p")
	[ -n "$val" ] || fail "cannot read PCR $pcr"
	printf 'name: %s\nbank: sha256\npcrs:\n  %s: ["%s"]\n' "$name" "$pcr" "$val" \
	    > "$T/policy-$name.yaml"
	code=$(curl -sS -o "$T/resp" -w '%{http_code}' --max-time 10 -X PUT \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" \
	    --data-binary "@$T/policy-$name.yaml" "https://127.0.0.1:$VPORT/v1/policies/$name")
	[ "$code" -lt 300 ] || fail "policy upload: $code $(cat "$T/resp")"
}

admit()
{
	api PUT "/v1/agents/$1" "{\"policy\":\"$2\"}" >/dev/null ||
	    fail "admit $1: $(cat "$T/resp")"
}

# ima NAME ARGS... — play the kernel's IMA on agent NAME's swtpm and list
ima()
{
	_n=$1
	shift
	"$ASSAY_BIN/testtools/ima_kernel" -t "$(swtpm_tcti "$T/tpm-$_n")" \
	    -l "$T/ima-$_n.list" "$@" || fail "ima_kernel $*"
}

# sha256 of a file, lowercase hex
sha256()
{
	sha256sum "$1" | cut -d' ' -f1
}

# webhook_rx_start — the test webhook receiver on 127.0.0.1:$HPORT with the
# hookrx certificate, appending bodies to $HOOKS; its pid in RXPID.
RXPID=""
# webhook_yaml [LINE...] — the verifier's notify: section for the
# receiver webhook_rx_start runs (LINEs follow it, indented as given).
webhook_yaml()
{
	printf 'notify:\n  webhooks:\n    - https://127.0.0.1:%s/hook\n' "$HPORT"
	printf '  ca: pki/ca.pem\n  cert: pki/verifier.pem\n'
	printf '  key: pki/verifier.key\n  server_name: hookrx\n  timeout: 5\n'
	for _l in "$@"; do
		printf '%s\n' "$_l"
	done
}

webhook_rx_start()
{
	"$ASSAY_BIN/testtools/webhook_rx" -l "127.0.0.1:$HPORT" \
	    -c "$T/pki/agent-hookrx.pem" -k "$T/pki/agent-hookrx.key" \
	    -a "$T/pki/ca.pem" -o "$HOOKS" >>"$T/webhook_rx.log" 2>&1 &
	RXPID=$!
	PIDS="$PIDS $RXPID"
	i=0
	until grep -qi ":$(printf '%04X' "$HPORT") " /proc/net/tcp 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 50 ] || fail "webhook receiver did not come up"
		sleep 0.1
	done
}
