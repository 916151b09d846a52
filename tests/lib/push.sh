# push.sh — helpers for push-mode tests. Source after tests/lib/assay.sh
# (and cluster.sh when used). Push agents open no listener: they ask the
# verifier for challenges and post their evidence (common/proto/push.h).
#
#   push_trap                     EXIT cleanup with set +e (set -e scripts
#                                 without cluster_trap)
#   push_verifier_yaml [YAML]     $T/verifier.yaml with PUSH_INTERVAL (1),
#                                 PUSH_TIMEOUT (3), PUSH_UNREACH (2); for
#                                 verifier_start (which keeps it)
#   push_agent_start NAME [ALG]   agent_start with a mode: push config
#                                 (ima.path $IMA_LIST, eventlog.path
#                                 $EVENTLOG, verifier at $VPORT, recheck
#                                 $PUSH_RECHECK s, default 5)
#   push_agent_stop NAME          agent_stop that survives set -e
#   agent_pid NAME                the pid agent_start recorded
#   listening_sockets PID         "port" lines of TCP sockets PID listens on
#   agent_json ID / agent_get ID KEY   GET /v1/agents/ID, a (dotted) field
#   counters ID                   "attest_ok attest_fail poll_errors"
#   as_agent NAME METHOD PATH [FILE]   curl with pki/agent-NAME.pem against
#                                 $VPORT; prints the HTTP status (000: no
#                                 answer), body in $T/resp (FILE: the body)
#   push_ask NAME [CERT]          POST /v1/agents/NAME/challenge with CERT's
#                                 certificate (default NAME), held requests
#                                 made due at once by an admin attest; sets
#                                 CH_STATUS, CH_ID, CH_REQ, CH_DEADLINE,
#                                 CH_MAX (empty when no round)
#   push_send NAME FILE [CERT [CHALLENGE]]   POST the evidence FILE; prints
#                                 the status (body in $T/resp)
#   oracle_start NAME             a pull-mode agent on NAME's swtpm (same
#                                 AK, no verifier reachable) that quotes
#                                 for us: the real agent NAME must be down
#   oracle_stop NAME
#   oracle_quote NAME REQUEST OUT   GET REQUEST from the oracle as the
#                                 verifier would; the evidence doc in OUT
#   logmerge_start FILE... / logmerge_stop   the FILEs' new lines, in the
#                                 order they appear, in $T/merged.log
#   count_in FILE PATTERN         grep -c, 0 when none
#   wait_until SECS CMD...        CMD every 0.1 s until it succeeds

PUSH_INTERVAL=${PUSH_INTERVAL:-1}
PUSH_TIMEOUT=${PUSH_TIMEOUT:-3}
PUSH_UNREACH=${PUSH_UNREACH:-2}

push_verifier_yaml()
{
	[ -n "$VPORT" ] || VPORT=$(free_port)
	cat > "$T/verifier.yaml" <<EOY
listen: 127.0.0.1:$VPORT
tls:
  cert: pki/verifier.pem
  key: pki/verifier.key
  ca: pki/ca.pem
database: verifier.db
ek:
  ca: ekca
interval: $PUSH_INTERVAL
timeout: $PUSH_TIMEOUT
max_backoff: 2
unreachable_after: $PUSH_UNREACH
${1:-}
EOY
}

push_agent_start()
{
	_pn=$1
	mkdir -p "$T/tpm-$_pn"
	if [ ! -f "$T/agent-$_pn.yaml" ]; then
		# listen/advertise on purpose: push mode must ignore them
		_pp=$(free_port)
		cat > "$T/agent-$_pn.yaml" <<EOY
id: $_pn
mode: push
tcti: $(swtpm_tcti "$T/tpm-$_pn")
ak_alg: ${2:-ecc}
listen: 127.0.0.1:$_pp
advertise: 127.0.0.1:$_pp
verifier:
  address: 127.0.0.1:$VPORT
  name: verifier
tls:
  cert: pki/agent-$_pn.pem
  key: pki/agent-$_pn.key
  ca: pki/ca.pem
quote_rate: 50
recheck: ${PUSH_RECHECK:-5}
ima:
  path: "${IMA_LIST:-}"
eventlog:
  path: "${EVENTLOG:-}"
EOY
		echo "$_pp" > "$T/agent-$_pn.port"
	fi
	agent_start "$_pn" "${2:-ecc}"
}

agent_pid()
{
	eval "echo \${APID_$1:-}"
}

# listening_sockets PID — the ports of TCP sockets in LISTEN state among
# PID's open files (socket inodes matched against /proc/net/tcp{,6}).
listening_sockets()
{
	_inodes=$(for _f in /proc/"$1"/fd/*; do
		readlink "$_f" 2>/dev/null
	done | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
	[ -n "$_inodes" ] || return 0
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v inodes=" $_inodes" '
	    $4 == "0A" && index(inodes, " " $10 " ") { split($2, a, ":");
	        print a[2] }' | while read -r _hx; do printf '%d\n' "0x$_hx"; done
}

agent_json()
{
	api GET "/v1/agents/$1" 2>/dev/null
}

agent_get()
{
	agent_json "$1" | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$2" 2>/dev/null
}

counters()
{
	agent_json "$1" | python3 -c '
import json, sys
c = json.load(sys.stdin)["counters"]
print(c["attest_ok"], c["attest_fail"], c["poll_errors"])' 2>/dev/null
}

as_agent()
{
	_who=$1 _m=$2 _path=$3
	if [ $# -ge 4 ]; then
		set -- --data-binary "@$4" -H 'Content-Type: application/json'
	else
		set --
	fi
	: > "$T/resp"
	curl -sS -o "$T/resp" -w '%{http_code}' --max-time 40 -X "$_m" \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/agent-$_who.pem" \
	    --key "$T/pki/agent-$_who.key" "$@" \
	    "https://127.0.0.1:$VPORT$_path" 2>"$T/curl.err" || true
}

# push_ask NAME [CERT] — one challenge for NAME, by hand.
push_ask()
{
	_an=$1 _ac=${2:-$1}
	echo '{}' > "$T/empty.json"
	rm -f "$T/ask.code"
	( as_agent "$_ac" POST "/v1/agents/$_an/challenge" "$T/empty.json" \
	    > "$T/ask.code"; cp "$T/resp" "$T/ask.resp" ) &
	_apid=$!
	sleep 0.3
	# held until due: an admin "attest now" makes it due (ignore refusals)
	api POST "/v1/agents/$_an/attest" >/dev/null 2>&1 || true
	wait "$_apid" || true
	cp "$T/ask.resp" "$T/resp" 2>/dev/null || true
	CH_STATUS=$(cat "$T/ask.code" 2>/dev/null || echo 000)
	CH_ID="" CH_REQ="" CH_DEADLINE="" CH_MAX=""
	[ "$CH_STATUS" = 200 ] || return 0
	eval "$(python3 -c '
import json, sys, shlex
d = json.load(open(sys.argv[1]))
for k, n in (("challenge", "CH_ID"), ("request", "CH_REQ"),
             ("deadline_ms", "CH_DEADLINE"), ("max_bytes", "CH_MAX")):
    print("%s=%s" % (n, shlex.quote(str(d.get(k, "")))))' "$T/ask.resp")"
}

push_send()
{
	_sn=$1 _sf=$2 _sc=${3:-$1} _sch=${4:-$CH_ID}
	as_agent "$_sc" POST "/v1/agents/$_sn/evidence?challenge=$_sch" "$_sf"
}

oracle_start()
{
	_on=$1
	_op=$(free_port)
	_dead=$(free_port)	# nobody listens: the oracle never enrolls
	mkdir -p "$T/tpm-$_on"
	echo "$_op" > "$T/oracle-$_on.port"
	cat > "$T/oracle-$_on.yaml" <<EOY
id: $_on
tcti: $(swtpm_tcti "$T/tpm-$_on")
ak_alg: ecc
listen: 127.0.0.1:$_op
advertise: 127.0.0.1:$_op
verifier:
  address: 127.0.0.1:$_dead
  name: verifier
tls:
  cert: pki/agent-$_on.pem
  key: pki/agent-$_on.key
  ca: pki/ca.pem
quote_rate: 50
recheck: 60
ima:
  path: "${IMA_LIST:-}"
eventlog:
  path: "${EVENTLOG:-}"
EOY
	"$ASSAY_BIN/assay-agent" -f -v -c "$T/oracle-$_on.yaml" \
	    >>"$T/oracle-$_on.log" 2>&1 &
	eval "OPID_$_on=$!"
	PIDS="$PIDS $!"
	_i=0
	until grep -qi ":$(printf '%04X' "$_op") .* 0A " /proc/net/tcp 2>/dev/null; do
		_i=$((_i + 1))
		[ "$_i" -lt 100 ] || fail "oracle for $_on did not come up"
		sleep 0.1
	done
}

oracle_stop()
{
	eval "_p=\${OPID_$1:-}"
	if [ -n "$_p" ]; then
		kill "$_p" 2>/dev/null || true
		wait "$_p" 2>/dev/null || true
	fi
	true
}

# push_agent_stop NAME — agent_stop, safe under set -e
push_agent_stop()
{
	agent_stop "$1" || true
}

oracle_quote()
{
	_qc=$(curl -sS -o "$3" -w '%{http_code}' --max-time 20 \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/verifier.pem" \
	    --key "$T/pki/verifier.key" \
	    "https://127.0.0.1:$(cat "$T/oracle-$1.port")$2") || return 1
	[ "$_qc" = 200 ] || { echo "oracle: HTTP $_qc: $(cat "$3")" >&2; return 1; }
}

count_in()
{
	grep -c -- "$2" "$1" 2>/dev/null || true
}

wait_until()
{
	_wl=$(($1 * 10))
	shift
	_wi=0
	until "$@"; do
		_wi=$((_wi + 1))
		[ "$_wi" -lt "$_wl" ] || return 1
		sleep 0.1
	done
}

# logmerge_start FILE... — follow the FILEs (from their current end) and
# write each new line as "TIME INDEX LINE" (INDEX: 1 for the first FILE)
# to $T/merged.log, in the order seen (polled every 2 ms): the order of
# events across daemons whose logs carry no time. logmerge_stop ends it.
LOGMERGE_PID=""
logmerge_start()
{
	cat > "$T/logmerge.py" <<'EOF'
import os, sys, time
out = open(sys.argv[1], "a")
fs = []
for p in sys.argv[2:]:
    f = open(p, "rb")
    f.seek(0, os.SEEK_END)
    fs.append([f, b""])
while True:
    for i, e in enumerate(fs):
        d = e[0].read()
        if not d:
            continue
        e[1] += d
        *lines, e[1] = e[1].split(b"\n")
        t = time.time()
        for l in lines:
            out.write("%.3f %d %s\n" % (t, i + 1, l.decode("utf-8", "replace")))
    out.flush()
    time.sleep(0.002)
EOF
	python3 -u "$T/logmerge.py" "$T/merged.log" "$@" >>"$T/logmerge.out" 2>&1 &
	LOGMERGE_PID=$!
	PIDS="$PIDS $!"
	sleep 0.3
}

logmerge_stop()
{
	[ -n "$LOGMERGE_PID" ] || return 0
	kill "$LOGMERGE_PID" 2>/dev/null || true
	wait "$LOGMERGE_PID" 2>/dev/null || true
	LOGMERGE_PID=""
}

# push_trap — in a set -e script: assay.sh's EXIT cleanup runs with set +e
# (a kill of a process that is gone already must not end it halfway and
# leave swtpms and daemons behind).
push_trap()
{
	trap '_pt_rc=$?; set +e; logmerge_stop; (exit "$_pt_rc"); cleanup' EXIT
}
