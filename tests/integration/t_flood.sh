#!/bin/sh
# Resource exhaustion by certificate holders and by anyone who can reach a
# port (issue 10). An agent certificate floods the verifier from another
# loopback address: large bodies to admin routes, huge and deeply nested
# JSON to /v1/register, a few hundred held connections (TLS-authenticated
# and handshake-less). Meanwhile an honest agent stays trusted, /v1/health
# answers in < 1 s every time, and the verifier's RSS stays bounded
# (printed). Then idle and handshake-less sockets are held against the
# honest agent's port from several addresses while it stays trusted.
# Loopback only; every loop is bounded.
. "$(dirname "$0")/../lib/assay.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 0; }

FLOOD_ADDR=127.0.0.2	# the requests
HOLD_ADDR=127.0.0.9	# the held connections

step "PKI, verifier, an honest agent admitted and trusted"
pki_init a1 evil
verifier_start
agent_start a1 ecc
wait_registered a1 30 || fail "a1 did not enroll"
policy_pin pin16 "$T/tpm-a1" 16
admit a1 pin16
wait_state a1 trusted 20 || fail "a1 not trusted"

rss_kb()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# holder.py HOST PORT SECONDS N_RAW N_TLS SRC... PKI — hold N_RAW
# handshake-less and N_TLS TLS-authenticated (evil agent cert) idle
# connections from the source addresses, reopening closed ones (all at once
# from one address; 40 a second from several), for SECONDS.
cat > "$T/holder.py" <<'EOF'
import socket, ssl, sys, time
host, port, secs, nraw, ntls = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
srcs, pki = sys.argv[6:-1], sys.argv[-1]
burst = 1000 if len(srcs) == 1 else 4	# (re)connections per 0.1 s
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(pki + "/ca.pem")
ctx.load_cert_chain(pki + "/agent-evil.pem", pki + "/agent-evil.key")
def conn(i, tls):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.bind((srcs[i % len(srcs)], 0))
        s.connect((host, port))
        if tls:
            s = ctx.wrap_socket(s)
        s.setblocking(False)
        return s
    except Exception:
        s.close()
        return None
def alive(s):
    try:
        return s.recv(1) != b""
    except (BlockingIOError, ssl.SSLWantReadError):
        return True
    except Exception:
        return False
socks = [None] * (nraw + ntls)
opened = 0
end = time.time() + secs
while time.time() < end:
    n = 0
    for i in range(len(socks)):
        if socks[i] is None or not alive(socks[i]):
            if socks[i] is not None:
                socks[i].close()
                socks[i] = None
            if n < burst:
                socks[i] = conn(i, i >= nraw)
                opened += 1
                n += 1
    time.sleep(0.1)
print("held %d connections, %d opened" % (len(socks), opened))
EOF

evil() {
	curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 \
	    --interface "$FLOOD_ADDR" --cacert "$T/pki/ca.pem" \
	    --cert "$T/pki/agent-evil.pem" --key "$T/pki/agent-evil.key" \
	    -H 'Content-Type: application/json' "$@" 2>/dev/null || echo 000
}

head -c 8388608 /dev/zero | tr '\0' 'a' > "$T/big.bin"
{ printf '{"id":"evil","ek_pub":"'; head -c 4194304 /dev/zero | tr '\0' 'A'; printf '"}'; } > "$T/huge.json"
{ printf '{"id":'; head -c 60000 /dev/zero | tr '\0' '['; } > "$T/deep.json"

step "flood from an agent certificate while health and the honest agent are watched"
rss0=$(rss_kb "$VPID")
python3 "$T/holder.py" 127.0.0.1 "$VPORT" 20 200 100 "$HOLD_ADDR" "$T/pki" \
    > "$T/holder-v.out" 2>&1 &
HP=$!
PIDS="$PIDS $HP"
(
	i=0
	while [ "$i" -lt 40 ]; do
		evil -X PUT --data-binary "@$T/big.bin" "https://127.0.0.1:$VPORT/v1/policies/p$i"
		evil -X PUT --data-binary "@$T/big.bin" "https://127.0.0.1:$VPORT/v1/agents/a1"
		evil -X POST --data-binary "@$T/huge.json" "https://127.0.0.1:$VPORT/v1/register"
		evil -X POST --data-binary "@$T/deep.json" "https://127.0.0.1:$VPORT/v1/register"
		evil -X POST -H 'Transfer-Encoding: chunked' --data-binary "@$T/huge.json" \
		    "https://127.0.0.1:$VPORT/v1/register"
		i=$((i + 1))
	done > "$T/flood.codes"
) &
FP=$!
PIDS="$PIDS $FP"

maxlat=0 maxrss=$rss0 n=0 slow=0
while kill -0 "$FP" 2>/dev/null || kill -0 "$HP" 2>/dev/null; do
	[ "$n" -lt 400 ] || break
	n=$((n + 1))
	t=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" \
	    "https://127.0.0.1:$VPORT/v1/health" 2>/dev/null) || t="000 5"
	code=${t% *} lat=${t#* }
	[ "$code" = 200 ] || fail "health answered $code during the flood"
	if awk "BEGIN { exit !($lat >= 1.0) }"; then slow=$((slow + 1)); fi
	maxlat=$(awk "BEGIN { print ($lat > $maxlat) ? $lat : $maxlat }")
	r=$(rss_kb "$VPID")
	[ "$r" -gt "$maxrss" ] && maxrss=$r
	s=$(agent_state a1)
	[ "$s" = trusted ] || fail "a1 became '$s' during the flood"
	sleep 0.2
done
wait "$FP" 2>/dev/null
wait "$HP" 2>/dev/null
cat "$T/holder-v.out"
echo "flood answers: $(sort "$T/flood.codes" | uniq -c | tr '\n' ' ' | tr -s ' ')"
echo "health: $n probes, max latency ${maxlat}s; verifier RSS ${rss0} kB -> max ${maxrss} kB (+$((maxrss - rss0)) kB)"
[ "$slow" -eq 0 ] || fail "$slow health probes took >= 1 s"
grep -q '^200$' "$T/flood.codes" && fail "a flood request was accepted"
grep -q '^413$' "$T/flood.codes" || fail "no 413 for the large bodies"
grep -q '^403$' "$T/flood.codes" || fail "no 403 for admin routes"
[ $((maxrss - rss0)) -lt 65536 ] || fail "verifier RSS grew by more than 64 MiB"
kill -0 "$VPID" || fail "verifier died"

step "idle and handshake-less sockets held against the agent's port"
ap=$(agent_port a1)
python3 "$T/holder.py" 127.0.0.1 "$ap" 12 48 16 127.0.0.3 127.0.0.4 127.0.0.5 \
    127.0.0.6 127.0.0.7 127.0.0.8 "$T/pki" > "$T/holder-a.out" 2>&1 &
HP=$!
PIDS="$PIDS $HP"
sleep 1
before=$(api GET /v1/agents/a1 | json_field last_attested)
k=0
while kill -0 "$HP" 2>/dev/null && [ "$k" -lt 60 ]; do
	k=$((k + 1))
	s=$(agent_state a1)
	[ "$s" = trusted ] || fail "a1 became '$s' while its port was held"
	sleep 0.2
done
wait "$HP" 2>/dev/null
cat "$T/holder-a.out"
after=$(api GET /v1/agents/a1 | json_field last_attested)
[ "$after" != "$before" ] || fail "no attestation round got through ($before)"
api GET "/v1/agents/a1/events?limit=20" | grep -q comm.unreachable &&
    fail "a1 was unreachable while its port was held"
wait_state a1 trusted 5 || fail "a1 not trusted at the end"
echo "PASS t_flood"
