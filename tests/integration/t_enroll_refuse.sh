#!/bin/sh
# Enrollment refusals: an EK certificate from an unknown CA, an EK public
# that does not match the EK certificate, and an agent certificate trying
# to register or activate for another agent's id.
. "$(dirname "$0")/../lib/assay.sh"

step "PKI and verifier"
pki_init good rogue
verifier_start

step "agent whose EK cert comes from an unknown CA is refused"
swtpm_make_ca "$T/otherca" || fail "other CA"
agent_start rogue ecc "$T/otherca"
i=0
until grep -q "EK not trusted" "$T/agent-rogue.log"; do
	i=$((i + 1)); [ "$i" -lt 150 ] || fail "rogue agent was not refused"
	sleep 0.1
done
api GET /v1/agents/rogue >/dev/null 2>&1 && fail "rogue agent was registered"
grep -q "register rogue refused" "$T/verifier.log" || fail "verifier did not log the refusal"
agent_stop rogue

step "good agent enrolls"
agent_start good
wait_registered good 30 || fail "good did not enroll"

step "mismatched EK: the good EK certificate with another TPM's EK public"
swtpm_make "$T/tpm-x" rsa "$T/tpmca" || fail "swtpm x"
swtpm_start "$T/tpm-x" || fail "start x"
TPMS="$TPMS $T/tpm-x"
timeout 20 tpm2_createek -T "$(swtpm_tcti "$T/tpm-x")" -c "$T/x-ek.ctx" -G rsa \
    -u "$T/x-ek.pub" >/dev/null || fail "createek x"
timeout 20 tpm2_createak -T "$(swtpm_tcti "$T/tpm-x")" -C "$T/x-ek.ctx" -c "$T/x-ak.ctx" \
    -G ecc -g sha256 -s ecdsa -u "$T/x-ak.pub" >/dev/null || fail "createak x"
ekcert=$(base64 -w0 "$T/tpm-good/tpm/ek-rsa2048.crt")
[ -n "$ekcert" ] || fail "no EK cert file of the good TPM"
body="{\"id\":\"rogue\",\"ek_pub\":\"$(base64 -w0 "$T/x-ek.pub")\",\"ak_pub\":\"$(base64 -w0 "$T/x-ak.pub")\",\"ek_cert\":\"$ekcert\"}"
api_as agent-rogue POST /v1/register "$body" >/dev/null 2>&1 &&
    fail "mismatched EK accepted"
[ "$(cat "$T/status")" = 403 ] || fail "mismatched EK: status $(cat "$T/status")"
grep -q "does not match" "$T/resp" || fail "mismatch not named: $(cat "$T/resp")"

step "another agent's certificate cannot act for 'good'"
body="{\"id\":\"good\",\"ek_pub\":\"$(base64 -w0 "$T/x-ek.pub")\",\"ak_pub\":\"$(base64 -w0 "$T/x-ak.pub")\"}"
api_as agent-rogue POST /v1/register "$body" >/dev/null 2>&1 && fail "id takeover accepted"
[ "$(cat "$T/status")" = 403 ] || fail "takeover: status $(cat "$T/status")"
api_as agent-rogue POST /v1/register/good/activate '{"proof":"00"}' >/dev/null 2>&1 &&
    fail "activate for another id accepted"
api_as agent-rogue GET /v1/register/good >/dev/null 2>&1 && fail "status of another id"
[ "$(agent_state good)" = registered ] || fail "good agent disturbed"
echo "PASS"
