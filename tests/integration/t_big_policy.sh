#!/bin/sh
# A policy near the upload limit (issue 10): an admin uploads ~55 MB of
# YAML (700,000 digests). It compiles off the event loop: /v1/health keeps
# answering in < 1 s throughout, an honest agent stays trusted, the upload
# answers 201 and the policy is listed; a broken policy of the same size
# answers 400 and changes nothing, as does one holding a NUL byte; one
# over the route limit answers 413.
# Prints the upload time and the worst health latency. Loopback only.
. "$(dirname "$0")/../lib/assay.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 0; }

step "PKI, verifier, an honest agent admitted and trusted"
pki_init a1
verifier_start
agent_start a1 ecc
wait_registered a1 30 || fail "a1 did not enroll"
policy_pin pin16 "$T/tpm-a1" 16
admit a1 pin16
wait_state a1 trusted 20 || fail "a1 not trusted"

# gen.py OUT N BROKEN — a policy of N sha256 digests; BROKEN=1 ends it
# with a digest that is not hex (it fails at the very end of the compile).
cat > "$T/gen.py" <<'EOF'
import hashlib, sys
out, n, broken = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
with open(out, "w") as f:
    f.write("name: big\nima:\n  allow_digests:\n")
    for i in range(n):
        f.write("    - sha256:%s\n" % hashlib.sha256(b"%d" % i).hexdigest())
    if broken:
        f.write("    - sha256:%s\n" % ("zz" * 32))
    f.write("  unknown: fail\n")
EOF
python3 "$T/gen.py" "$T/big.yaml" 700000 0
python3 "$T/gen.py" "$T/broken.yaml" 700000 1
{ cat "$T/big.yaml"; head -c 16000000 /dev/zero | tr '\0' '#'; } > "$T/over.yaml"
echo "policy sizes: $(wc -c < "$T/big.yaml") and $(wc -c < "$T/over.yaml") bytes"

upload() {
	curl -sS -o "$T/up.resp" -w '%{http_code} %{time_total}\n' --max-time 100 \
	    -X PUT --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" --data-binary "@$1" \
	    "https://127.0.0.1:$VPORT/v1/policies/big" 2>/dev/null || echo "000 0"
}

# watch PID — probe health every 0.1 s while PID runs; fails on a probe
# >= 1 s or a non-200, or if a1 leaves trusted. Prints the worst latency.
watch() {
	maxlat=0 n=0
	while kill -0 "$1" 2>/dev/null && [ "$n" -lt 900 ]; do
		n=$((n + 1))
		t=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 \
		    --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" \
		    --key "$T/pki/admin.key" \
		    "https://127.0.0.1:$VPORT/v1/health" 2>/dev/null) || t="000 5"
		[ "${t% *}" = 200 ] || fail "health answered ${t% *} during the upload"
		awk "BEGIN { exit !(${t#* } >= 1.0) }" &&
		    fail "a health probe took ${t#* } s during the upload"
		maxlat=$(awk "BEGIN { print (${t#* } > $maxlat) ? ${t#* } : $maxlat }")
		sleep 0.1
	done
	s=$(agent_state a1)
	[ "$s" = trusted ] || fail "a1 became '$s' during the upload"
	echo "health: $n probes during the upload, max latency ${maxlat}s"
}

step "a broken 55 MB policy: 400, nothing installed, health unaffected"
upload "$T/broken.yaml" > "$T/up.out" &
UP=$!
PIDS="$PIDS $UP"
watch "$UP"
wait "$UP"
read -r code secs < "$T/up.out"
[ "$code" = 400 ] || fail "broken upload answered $code: $(cat "$T/up.resp")"
grep -q "does not compile" "$T/up.resp" || fail "no compile error: $(cat "$T/up.resp")"
api GET /v1/policies | grep -q '"big"' && fail "a broken policy was installed"

step "a 55 MB policy: 201 after compiling off the loop"
upload "$T/big.yaml" > "$T/up.out" &
UP=$!
PIDS="$PIDS $UP"
watch "$UP"
wait "$UP"
read -r code secs < "$T/up.out"
[ "$code" = 201 ] || fail "upload answered $code: $(cat "$T/up.resp")"
echo "upload of $(wc -c < "$T/big.yaml") bytes answered 201 in ${secs}s"
api GET /v1/policies | grep -q '"big"' || fail "policy big not listed"

step "an admin's policy with a NUL byte: 400 (what compiles must be what is stored)"
printf 'name: nul\nbank: sha256\npcrs:\n  16: ["%064d"]\n\0pcrs: {}\n' 0 > "$T/nul.yaml"
r=$(curl -sS -o "$T/up.resp" -w '%{http_code}' --max-time 10 -X PUT \
    --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" \
    --data-binary "@$T/nul.yaml" "https://127.0.0.1:$VPORT/v1/policies/nul")
[ "$r" = 400 ] || fail "NUL policy answered $r: $(cat "$T/up.resp")"
grep -q "NUL byte" "$T/up.resp" || fail "no NUL refusal: $(cat "$T/up.resp")"
api GET /v1/policies | grep -q '"nul"' && fail "a policy with a NUL byte was installed"

step "over the route limit: 413 from the headers"
r=$(upload "$T/over.yaml")
[ "${r% *}" = 413 ] || fail "oversized upload answered ${r% *}"
kill -0 "$VPID" || fail "verifier died"
wait_state a1 trusted 5 || fail "a1 not trusted at the end"
echo "PASS t_big_policy"
