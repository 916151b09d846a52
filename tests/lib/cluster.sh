# cluster.sh — helpers for tests with many verifiers on one PostgreSQL
# database. Source after tests/lib/assay.sh and tests/lib/pg.sh (pg_start
# first: the nodes use $PG_URI unless told otherwise).
#
#   node_start N [DBURI] [YAML]   verifier "vN": $T/verifier-N.yaml (written
#                                 once), log $T/verifier-N.log, own port
#   node_port N / node_pid N      its port / pid
#   node_kill N                   kill -9 (and reap)
#   node_stop N                   SIGTERM (and reap)
#   api_on N METHOD PATH [BODY]   api() against node N ($T/status: code)
#   health_on N                   GET /v1/health body, whatever the status
#   health_field N KEY            a "cluster" field of node N's health
#   policy_put_on N NAME FILE     upload a policy file through node N
#   leases_by_node                "vN count" lines, sorted by node
#   lease_spread                  the counts, sorted: "2 2 2"
#   lease_owner ID                the node holding ID's lease ("" if none)
#   leases_of NODE                the agent ids NODE holds, one a line
#   wait_for SECS CMD...          run CMD every 0.2 s until it succeeds;
#                                 1 after SECS seconds
#   now_ms                        wall clock, ms
#   fwd_start NAME PORT TARGET [TARGET2]   python TCP forwarder on PORT:
#                                 every connection to TARGET, or only the
#                                 first one to TARGET and later ones to
#                                 TARGET2 (ports on 127.0.0.1)
#   fwd_alt_start NAME PORT T1 T2   connections to T1, T2, T1, ... in turn
#   fwd_stop NAME                 kill it (its connections die with it)
#   sampler_start N...            every 0.5 s: states (GET /v1/agents on the
#                                 first of the nodes N that answers), lease
#                                 rows with the holder's heartbeat age and
#                                 each agent's quote counter (its log), as
#                                 JSON lines in $T/samples.jsonl
#   sampler_stop
#   sampler_check INTERVAL TTL [AGENT...]   prints a summary; exit 1 on a
#                                 bad state, 2 on an agent quoted more
#                                 often than one owner can (> 2 quotes
#                                 more than INTERVAL allows in any window
#                                 of 2*INTERVAL), 3 on an agent without a
#                                 live lease holder longer than TTL, 4 on
#                                 a stored attest_ok counter going back

#   cluster_trap                  after pg_start in a set -e script: the
#                                 EXIT cleanup of assay.sh and pg.sh runs
#                                 with set +e (a kill of a process that is
#                                 gone already must not end it halfway)

CL_INTERVAL=${CL_INTERVAL:-2}
CL_BEAT=${CL_BEAT:-1}
CL_TTL=${CL_TTL:-3}
CL_CMD_TIMEOUT=${CL_CMD_TIMEOUT:-10}

cluster_trap()
{
	trap '_cl_rc=$?; set +e; sampler_stop; _pg_clients_stop; _pg_exit "$_cl_rc"; (exit "$_cl_rc"); cleanup' EXIT
}

now_ms()
{
	date +%s%3N
}

node_port()
{
	cat "$T/verifier-$1.port"
}

node_pid()
{
	cat "$T/verifier-$1.pid"
}

# node_yaml N DBURI [EXTRA] — the node's configuration (kept if present).
node_yaml()
{
	[ -f "$T/verifier-$1.yaml" ] && return 0
	[ -f "$T/verifier-$1.port" ] || free_port > "$T/verifier-$1.port"
	cat > "$T/verifier-$1.yaml" <<EOY
listen: 127.0.0.1:$(node_port "$1")
tls:
  cert: pki/verifier.pem
  key: pki/verifier.key
  ca: pki/ca.pem
database: $2
node: v$1
cluster:
  heartbeat: $CL_BEAT
  lease_ttl: $CL_TTL
  command_timeout: $CL_CMD_TIMEOUT
ek:
  ca: ekca
interval: $CL_INTERVAL
timeout: 5
max_backoff: 4
unreachable_after: 2
${3:-}
EOY
}

# _node_answers N — node N's HTTPS server answers (any status).
_node_answers()
{
	_c=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 3 \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" \
	    "https://127.0.0.1:$(node_port "$1")/v1/health" 2>/dev/null) || return 1
	[ "$_c" != 000 ]
}

node_start()
{
	_n=$1
	node_yaml "$_n" "${2:-$PG_URI}" "${3:-}"
	"$ASSAY_BIN/assay-verifier" -f -v -c "$T/verifier-$_n.yaml" \
	    >>"$T/verifier-$_n.log" 2>&1 &
	echo $! > "$T/verifier-$_n.pid"
	PIDS="$PIDS $!"
	_i=0
	until _node_answers "$_n"; do
		_i=$((_i + 1))
		[ "$_i" -lt 150 ] || fail "verifier v$_n did not come up"
		kill -0 "$(node_pid "$_n")" 2>/dev/null || fail "verifier v$_n exited"
		sleep 0.1
	done
}

node_kill()
{
	_p=$(node_pid "$1")
	kill -9 "$_p" 2>/dev/null || true
	wait "$_p" 2>/dev/null || true
	true
}

node_stop()
{
	_p=$(node_pid "$1")
	kill "$_p" 2>/dev/null || true
	wait "$_p" 2>/dev/null || true
	true
}

api_on()
{
	_save_vport=$VPORT
	VPORT=$(node_port "$1")
	shift
	if api "$@"; then _rc=0; else _rc=$?; fi
	VPORT=$_save_vport
	return $_rc
}

health_on()
{
	api_on "$1" GET /v1/health 2>/dev/null || true
}

# health_field N KEY — cluster.KEY of node N's /v1/health ("" if absent).
health_field()
{
	health_on "$1" | python3 -c '
import json, sys
try:
    v = json.load(sys.stdin).get("cluster", {}).get(sys.argv[1], "")
except Exception:
    v = ""
print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$2"
}

policy_put_on()
{
	_code=$(curl -sS -o "$T/resp" -w '%{http_code}' --max-time 10 -X PUT \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" --data-binary "@$3" \
	    "https://127.0.0.1:$(node_port "$1")/v1/policies/$2") || return 2
	echo "$_code" > "$T/status"
	[ "$_code" -lt 300 ]
}

leases_by_node()
{
	pg_psql "SELECT node || ' ' || count(*) FROM leases GROUP BY node ORDER BY node"
}

lease_spread()
{
	leases_by_node | cut -d' ' -f2 | sort -n | tr '\n' ' ' | sed 's/ $//'
}

lease_owner()
{
	pg_psql "SELECT node FROM leases WHERE agent_id = '$1'"
}

leases_of()
{
	pg_psql "SELECT agent_id FROM leases WHERE node = '$1' ORDER BY agent_id"
}

wait_for()
{
	_lim=$(($1 * 5))
	shift
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ "$_i" -lt "$_lim" ] || return 1
		sleep 0.2
	done
}

# --- TCP forwarder ---------------------------------------------------------

_fwd_script()
{
	[ -f "$T/tcpfwd.py" ] && return 0
	cat > "$T/tcpfwd.py" <<'EOF'
# tcpfwd.py PORT MODE TARGET... — forward TCP connections on 127.0.0.1:PORT
# to 127.0.0.1:TARGET. MODE first: the first connection to TARGET, the
# rest to the second target (if any); alt: connection k to TARGET[k % n].
import socket, sys, threading

port, mode = int(sys.argv[1]), sys.argv[2]
targets = [int(p) for p in sys.argv[3:]]
count = 0

def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)
print("listening on %d" % port, flush=True)
while True:
    c, _ = ls.accept()
    if mode == "alt":
        t = targets[count % len(targets)]
    else:
        t = targets[0] if count == 0 or len(targets) == 1 else targets[1]
    count += 1
    print("connection %d -> %d" % (count, t), flush=True)
    try:
        u = socket.create_connection(("127.0.0.1", t))
    except OSError as e:
        print("connect %d: %s" % (t, e), flush=True)
        c.close()
        continue
    for a, b in ((c, u), (u, c)):
        threading.Thread(target=pump, args=(a, b), daemon=True).start()
EOF
}

fwd_start()
{
	_fwd_run first "$@"
}

# fwd_alt_start NAME PORT T1 T2 — connections go to T1, T2, T1, ... in turn.
fwd_alt_start()
{
	_fwd_run alt "$@"
}

_fwd_run()
{
	_fwd_script
	_mode=$1 _name=$2 _port=$3
	shift 3
	python3 -u "$T/tcpfwd.py" "$_port" "$_mode" "$@" >>"$T/fwd-$_name.log" 2>&1 &
	eval "FWDPID_$_name=$!"
	PIDS="$PIDS $!"
	_i=0
	until grep -qi ":$(printf '%04X' "$_port") .* 0A " /proc/net/tcp 2>/dev/null; do
		_i=$((_i + 1))
		[ "$_i" -lt 50 ] || fail "forwarder $_name did not come up"
		sleep 0.1
	done
}

fwd_stop()
{
	eval "_p=\${FWDPID_$1:-}"
	[ -n "$_p" ] || return 0
	kill -9 "$_p" 2>/dev/null || true
	wait "$_p" 2>/dev/null || true
	eval "FWDPID_$1="
	true
}

# --- sampler ---------------------------------------------------------------

SAMPLER_PID=""
sampler_start()
{
	cat > "$T/sampler.py" <<'EOF'
# sampler.py OUT PGBIN PGURI TTL_MS PORT... — every 0.5 s one JSON line:
# {"t", "states": {id: state}, "leases": {id: [node, hb_age_ms]},
#  "ok": {id: attest_ok in the database}, "quotes": {id: n}} (a part is
# null when it could not be read).
import glob, json, os, re, ssl, subprocess, sys, time, http.client

out, pgbin, uri, ttl = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ports = [int(p) for p in sys.argv[5:]]
T = os.path.dirname(out)
ctx = ssl.create_default_context(cafile=T + "/pki/ca.pem")
ctx.check_hostname = False
ctx.load_cert_chain(T + "/pki/admin.pem", T + "/pki/admin.key")
quote_re = re.compile(rb"quote (\d+) for ")

def states():
    for p in ports:
        try:
            c = http.client.HTTPSConnection("127.0.0.1", p, context=ctx,
                                            timeout=2)
            c.request("GET", "/v1/agents")
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status == 200:
                return {a["id"]: a["state"] for a in json.loads(body)["agents"]}, p
        except Exception:
            pass
    return None, None

def leases():
    sql = ("SELECT l.agent_id, l.node, coalesce((extract(epoch from "
           "clock_timestamp()) * 1000)::bigint - n.heartbeat_ms, -1) "
           "FROM leases l LEFT JOIN nodes n ON n.node = l.node")
    try:
        o = subprocess.run([pgbin + "/psql", "-X", "-q", "-t", "-A", "-F", " ",
                            "-d", uri, "-c", sql], capture_output=True,
                           timeout=2, text=True)
    except Exception:
        return None
    if o.returncode != 0:
        return None
    d = {}
    for line in o.stdout.splitlines():
        a, n, age = line.split(" ")
        d[a] = [n, int(age)]
    return d

def counters():
    try:
        o = subprocess.run([pgbin + "/psql", "-X", "-q", "-t", "-A", "-F", " ",
                            "-d", uri, "-c", "SELECT id, attest_ok FROM agents"],
                           capture_output=True, timeout=2, text=True)
    except Exception:
        return None
    if o.returncode != 0:
        return None
    return {a: int(n) for a, n in (l.split(" ") for l in o.stdout.splitlines())}

def quotes():
    d = {}
    for f in glob.glob(T + "/agent-*.log"):
        a = os.path.basename(f)[6:-4]
        n = 0
        with open(f, "rb") as fh:
            for m in quote_re.finditer(fh.read()):
                n += 1
        d[a] = n
    return d

with open(out, "a") as fo:
    while True:
        t = time.time()
        s, via = states()
        fo.write(json.dumps({"t": t, "via": via, "states": s,
                             "leases": leases(), "ok": counters(),
                             "quotes": quotes()}) + "\n")
        fo.flush()
        time.sleep(max(0.05, 0.5 - (time.time() - t)))
EOF
	_ports=""
	for _n in "$@"; do
		_ports="$_ports $(node_port "$_n")"
	done
	# shellcheck disable=SC2086
	python3 -u "$T/sampler.py" "$T/samples.jsonl" "$PG_BIN" "$PG_URI" \
	    "$((CL_TTL * 1000))" $_ports >>"$T/sampler.out" 2>&1 &
	SAMPLER_PID=$!
	PIDS="$PIDS $SAMPLER_PID"
}

sampler_stop()
{
	[ -n "$SAMPLER_PID" ] || return 0
	kill "$SAMPLER_PID" 2>/dev/null || true
	wait "$SAMPLER_PID" 2>/dev/null || true
	SAMPLER_PID=""
	true
}

# sampler_check INTERVAL TTL [AGENT...] — judge $T/samples.jsonl (only the
# AGENTs given, default all).
sampler_check()
{
	python3 - "$T/samples.jsonl" "$@" <<'EOF'
import json, sys
path, interval, ttl = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
only = set(sys.argv[4:])
S = [json.loads(l) for l in open(path)]
keep = lambda a: not only or a in only
bad, rc = [], 0
nstates = 0
for s in S:
    if s["states"] is None:
        continue
    nstates += 1
    for a, st in s["states"].items():
        if keep(a) and st in ("unreachable", "untrusted", "failed"):
            bad.append((round(s["t"] - S[0]["t"], 1), a, st))
print("samples: %d (states read in %d), %.1f s" %
      (len(S), nstates, S[-1]["t"] - S[0]["t"] if S else 0))
if bad:
    print("bad states seen:", bad[:10])
    rc = 1
# quotes: the most any agent gave in a window of 2 intervals
win = 2 * interval
allowed = int(win / interval) + 1 + 1   # one owner: 3; +1 for a hand-over
worst = (0, None, None)
for a in set(k for s in S for k in (s["quotes"] or {})):
    if not keep(a):
        continue
    pts = [(s["t"], s["quotes"][a]) for s in S if a in (s["quotes"] or {})]
    j = 0
    for i in range(len(pts)):
        while pts[i][0] - pts[j][0] > win:
            j += 1
        d = pts[i][1] - pts[j][1]
        if d > worst[0]:
            worst = (d, a, round(pts[j][0] - S[0]["t"], 1))
gap = (0.0, None, None)
for a in set(k for s in S for k in (s["quotes"] or {})):
    if not keep(a):
        continue
    since = None
    prev = None
    for s in S:
        n = (s["quotes"] or {}).get(a)
        if n is None:
            continue
        if prev is None or n > prev:
            since = s["t"]
        elif s["t"] - since > gap[0]:
            gap = (s["t"] - since, a, round(since - S[0]["t"], 1))
        prev = n
print("longest time one agent went without a quote: %.1f s (%s from +%s s)"
      % gap)
print("most quotes of one agent in %.0f s: %d (%s at +%s s; one owner "
      "gives <= %d)" % (win, worst[0], worst[1], worst[2], allowed - 1))
if worst[0] > allowed and rc == 0:
    rc = 2
# leases: longest time an agent had no live holder (db readable samples)
longest = (0.0, None, None)
run = {}
for s in S:
    L = s["leases"]
    if L is None or s["states"] is None:
        continue
    for a in s["states"]:
        if not keep(a):
            continue
        ok = a in L and 0 <= L[a][1] < ttl * 1000
        if ok:
            run.pop(a, None)
        else:
            run.setdefault(a, s["t"])
            d = s["t"] - run[a]
            if d > longest[0]:
                longest = (d, a, round(run[a] - S[0]["t"], 1))
print("longest time an agent had no live lease holder: %.1f s (%s at +%s s)"
      % longest)
if longest[0] > ttl and rc == 0:
    rc = 3
# the stored counters never go back (a stale writer would set them back)
last, back = {}, []
for s in S:
    for a, n in (s.get("ok") or {}).items():
        if keep(a) and a in last and n < last[a]:
            back.append((round(s["t"] - S[0]["t"], 1), a, last[a], n))
        last[a] = n
if back:
    print("attest_ok went back in the database:", back[:10])
    if rc == 0:
        rc = 4
sys.exit(rc)
EOF
}

# events_chain — every agent's state events link up (old_state of each is
# new_state of the one before): two writers would break the chain.
events_chain()
{
	pg_psql "SELECT agent_id || ' ' || seq || ' ' || coalesce(old_state, '-')
	    || ' ' || coalesce(new_state, '-') FROM events WHERE type = 'state'
	    ORDER BY agent_id, seq" | python3 -c '
import sys
last, bad = {}, []
for line in sys.stdin:
    a, seq, old, new = line.split()
    if a in last and last[a] != old:
        bad.append("%s seq %s: %s -> %s after %s" % (a, seq, old, new, last[a]))
    last[a] = new
for b in bad:
    print(b)
sys.exit(1 if bad else 0)'
}
