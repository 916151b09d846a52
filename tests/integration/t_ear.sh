#!/bin/sh
# Signed attestation results (EAR, draft-fv-rats-ear): without results.key
# the routes answer 404; a bad key is a configuration error; with one, an
# agent's result is an ES256 JWT that Python's jwt (python3-jwt, not
# libjwt) verifies with the key from GET /v1/keys, and every claim matches
# GET /v1/agents/ID. The agent reads its own result, not another's; a
# tampered or expired result fails; a rotated key stays published and old
# results still verify; an untrusted host's result is contraindicated
# with its failure id.
. "$(dirname "$0")/../lib/assay.sh"

INTERVAL=3		# exp = iat + 6 s
export INTERVAL
# Debian's python3-jwt is installed for the system interpreter.
PY=${PYTHON:-/usr/bin/python3}
"$PY" -c 'import jwt, cryptography' || fail "python3-jwt missing (tools/deps.sh)"

ear()
{
	"$PY" "$ROOT/tests/tools/ear_check.py" "$@"
}

step "without results.key: 404 'results are not signed'"
pki_init h1 h2 p1
verifier_start
api GET /v1/keys >/dev/null && fail "keys without results.key"
[ "$(cat "$T/status")" = 404 ] && grep -q "results are not signed: set results.key" \
    "$T/resp" || fail "keys: $(cat "$T/status") $(cat "$T/resp")"
kill "$VPID"; wait "$VPID" 2>/dev/null

step "a key that is not EC P-256 is a configuration error"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.pem" \
    2>/dev/null || fail "rsa key"
cp "$T/verifier.yaml" "$T/verifier.yaml.base"
printf 'results:\n  key: rsa.pem\n' >> "$T/verifier.yaml"
timeout 10 "$ASSAY_BIN/assay-verifier" -f -c "$T/verifier.yaml" > "$T/bad.log" 2>&1 &&
    fail "verifier started with an RSA results.key"
grep -q "rsa.pem: not an EC P-256 key" "$T/bad.log" || fail "message: $(cat "$T/bad.log")"

step "results.key set: one trusted agent"
openssl ecparam -genkey -name prime256v1 -noout -out "$T/ear1.pem" || fail "ear1"
cp "$T/verifier.yaml.base" "$T/verifier.yaml"
printf 'results:\n  key: ear1.pem\n' >> "$T/verifier.yaml"
verifier_start
agent_start h1
wait_registered h1 30 || fail "h1 did not enroll"
policy_pin p "$T/tpm-h1" 16
admit h1 p
wait_state h1 trusted 30 || fail "h1 not trusted"

step "GET /v1/keys and the result (admin, own agent, other agent -> 404)"
api GET /v1/keys > "$T/jwks.json" || fail "keys"
api GET /v1/agents/h1/result > "$T/trusted.jwt" || fail "result as admin"
api GET /v1/agents/h1 > "$T/h1.json" || fail "agent"
ear verify "$T/jwks.json" "$T/trusted.jwt" "$T/h1.json" affirming > "$T/trusted.json" ||
    fail "trusted result does not verify or match"
api_as agent-h1 GET /v1/agents/h1/result > "$T/own.jwt" || fail "own result"
api GET /v1/agents/h1 > "$T/h1.json"
ear verify "$T/jwks.json" "$T/own.jwt" "$T/h1.json" affirming >/dev/null ||
    fail "own result"
api_as agent-h2 GET /v1/agents/h1/result >/dev/null && fail "h2 read h1's result"
[ "$(cat "$T/status")" = 404 ] || fail "other agent: $(cat "$T/status")"
api_as agent-h1 GET /v1/agents/nobody/result >/dev/null && fail "unknown agent"
[ "$(cat "$T/status")" = 404 ] || fail "unknown: $(cat "$T/status")"
api_as agent-h1 GET /v1/keys >/dev/null || fail "agents read the JWKS"

step "the agents keep their own result in result.path (pull: fetched, push: in the verdict)"
agent_stop h1
printf 'result:\n  path: h1.ear\n' >> "$T/agent-h1.yaml"
agent_start h1
d=$T/tpm-p1
swtpm_make "$d" rsa "$T/tpmca" || fail "swtpm_make p1"
swtpm_start "$d" || fail "swtpm_start p1"
TPMS="$TPMS $d"
cat > "$T/agent-p1.yaml" <<EOY
id: p1
mode: push
tcti: $(swtpm_tcti "$d")
verifier:
  address: 127.0.0.1:$VPORT
  name: verifier
tls:
  cert: pki/agent-p1.pem
  key: pki/agent-p1.key
  ca: pki/ca.pem
quote_rate: 50
result:
  path: p1.ear
EOY
"$ASSAY_BIN/assay-agent" -f -v -c "$T/agent-p1.yaml" >>"$T/agent-p1.log" 2>&1 &
PIDS="$PIDS $!"
wait_registered p1 30 || fail "p1 did not enroll"
policy_pin pp "$T/tpm-p1" 16
admit p1 pp
wait_state p1 trusted 30 || fail "p1 not trusted"
for a in h1 p1; do
	i=0
	until [ -s "$T/$a.ear" ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "$a wrote no result to result.path"
		sleep 0.1
	done
	api GET "/v1/agents/$a" > "$T/$a.json" || fail "agent $a"
	ear verify "$T/jwks.json" "$T/$a.ear" "$T/$a.json" affirming >/dev/null ||
	    fail "$a's result file does not verify or match"
done
grep -q '"mode": *"push"' "$T/p1.json" || fail "p1 not in push mode"

step "a tampered result fails; an expired one fails"
ear tampered "$T/jwks.json" "$T/trusted.jwt" || fail "tampered"
sleep 7
ear expired "$T/jwks.json" "$T/trusted.jwt" || fail "expired"

step "key rotation: new results.key, the old public key still published"
api GET /v1/agents/h1/result > "$T/old.jwt" || fail "result"
old_kid=$(ear kid "$T/jwks.json" "$T/old.jwt")
openssl ec -in "$T/ear1.pem" -pubout -out "$T/ear1.pub" 2>/dev/null || fail "pub"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ear2.pem" ||
    fail "ear2"
kill "$VPID"; wait "$VPID" 2>/dev/null
cp "$T/verifier.yaml.base" "$T/verifier.yaml"
printf 'results:\n  key: ear2.pem\n  previous_keys:\n    - ear1.pub\n' >> "$T/verifier.yaml"
verifier_start
api GET /v1/keys > "$T/jwks2.json" || fail "keys"
"$PY" -c 'import json,sys; k=json.load(open(sys.argv[1]))["keys"]; \
    assert len(k)==2 and k[1]["kid"]==sys.argv[2] and k[0]["kid"]!=sys.argv[2], k' \
    "$T/jwks2.json" "$old_kid" || fail "JWKS after rotation: $(cat "$T/jwks2.json")"
api GET /v1/agents/h1 > "$T/h1.json"
ear verify "$T/jwks2.json" "$T/old.jwt" "$T/h1.json" affirming >/dev/null ||
    fail "a result signed before the rotation does not verify"
wait_state h1 trusted 30 || fail "h1 not trusted after restart"
api GET /v1/agents/h1/result > "$T/new.jwt" || fail "result"
[ "$(ear kid "$T/jwks2.json" "$T/new.jwt")" != "$old_kid" ] || fail "new key not used"
api GET /v1/agents/h1 > "$T/h1.json"
ear verify "$T/jwks2.json" "$T/new.jwt" "$T/h1.json" affirming >/dev/null ||
    fail "new result"

step "extend PCR 16 -> untrusted: contraindicated with pcr.value"
timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-h1")" \
    16:sha256=0000000000000000000000000000000000000000000000000000000000000001 ||
    fail "pcrextend"
wait_state h1 untrusted 30 || fail "h1 not untrusted"
api GET /v1/agents/h1/result > "$T/untrusted.jwt" || fail "result"
api GET /v1/agents/h1 > "$T/h1.json"
ear verify "$T/jwks2.json" "$T/untrusted.jwt" "$T/h1.json" contraindicated pcr.value \
    > "$T/untrusted.json" || fail "untrusted result"
if [ -n "${EAR_SHOW:-}" ]; then
	echo "trusted:"; cat "$T/trusted.json"
	echo "untrusted:"; cat "$T/untrusted.json"
fi
echo "PASS"
