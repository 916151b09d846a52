#!/bin/sh
# Admin endpoints refuse agent certificates (403); a client without a
# certificate is refused at the TLS handshake; an agent endpoint refuses
# the admin; the agent refuses anyone but the configured verifier.
. "$(dirname "$0")/../lib/assay.sh"

pki_init n1
verifier_start
agent_start n1
wait_registered n1 30 || fail "n1 did not enroll"

step "agent certificate on admin endpoints -> 403"
for p in /v1/agents /v1/agents/n1 /v1/policies /v1/health /metrics; do
	api_as agent-n1 GET "$p" >/dev/null 2>&1 && fail "agent cert read $p"
	[ "$(cat "$T/status")" = 403 ] || fail "$p: status $(cat "$T/status")"
done
api_as agent-n1 DELETE /v1/agents/n1 >/dev/null 2>&1 && fail "agent deleted itself"
[ "$(cat "$T/status")" = 403 ] || fail "DELETE: status $(cat "$T/status")"

step "admin certificate on agent endpoints -> 403"
api_as admin POST /v1/register '{}' >/dev/null 2>&1 && fail "admin reached register"
[ "$(cat "$T/status")" = 403 ] || fail "register as admin: $(cat "$T/status")"

step "no client certificate -> TLS refusal"
if curl -sS --max-time 5 --cacert "$T/pki/ca.pem" \
    "https://127.0.0.1:$VPORT/v1/agents" >"$T/nocert.out" 2>&1; then
	fail "request without client certificate succeeded"
fi
grep -q '"agents"' "$T/nocert.out" && fail "data leaked without a certificate"

step "the agent serves quotes only to the verifier"
ap=$(agent_port n1)
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" \
    "https://127.0.0.1:$ap/v1/quote?nonce=00112233445566778899aabbccddeeff&pcrs=sha256:0")
[ "$code" = 403 ] || fail "admin cert got $code from the agent"
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/verifier.pem" --key "$T/pki/verifier.key" \
    "https://127.0.0.1:$ap/v1/quote?nonce=zz&pcrs=sha256:0")
[ "$code" = 400 ] || fail "bad nonce gave $code"

step "malformed requests get clear errors"
api PUT /v1/agents/n1 '{"policy": 5}' >/dev/null 2>&1 && fail "mistyped admit accepted"
[ "$(cat "$T/status")" = 400 ] || fail "mistyped admit: $(cat "$T/status")"
api PUT /v1/agents/n1 'not json' >/dev/null 2>&1 && fail "junk accepted"
[ "$(cat "$T/status")" = 400 ] || fail "junk: $(cat "$T/status")"
api GET /v1/agents/nosuch >/dev/null 2>&1 && fail "unknown agent"
[ "$(cat "$T/status")" = 404 ] || fail "unknown agent: $(cat "$T/status")"
api PUT /v1/policies/bad 'name: bad
pcrs: {99: ["00"]}' >/dev/null 2>&1 && fail "bad policy accepted"
[ "$(cat "$T/status")" = 400 ] || fail "bad policy: $(cat "$T/status")"
echo "PASS"
