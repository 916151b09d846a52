#!/bin/sh
# Two agents with swtpm enroll (good EK chain), are admitted with a policy
# pinning PCR 16, become trusted; extending PCR 16 on one makes it untrusted
# with pcr.value while the other stays trusted; a reset keeps it untrusted
# (sticky) until the policy allows the new value.
. "$(dirname "$0")/../lib/assay.sh"

step "PKI, verifier, two agents"
pki_init a1 a2
verifier_start
agent_start a1 ecc
agent_start a2 rsa
wait_registered a1 30 || fail "a1 did not enroll"
wait_registered a2 30 || fail "a2 did not enroll"
[ "$(agent_state a1)" = registered ] || fail "a1 not in state registered"
api GET /v1/agents/a1 | grep -q '"activated": *true' || fail "a1 not activated"

step "admit both with a policy pinning PCR 16"
policy_pin pin16 "$T/tpm-a1" 16
admit a1 pin16
admit a2 pin16
wait_state a1 trusted 20 || fail "a1 not trusted"
wait_state a2 trusted 20 || fail "a2 not trusted"

step "extend PCR 16 on a1 -> untrusted with pcr.value"
timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-a1")" \
    16:sha256=0000000000000000000000000000000000000000000000000000000000000001 ||
    fail "pcrextend"
wait_state a1 untrusted 20 || fail "a1 not untrusted"
api GET /v1/agents/a1 | grep -q '"reason": *"pcr.value"' || fail "reason is not pcr.value"
api GET /v1/agents/a1 | grep -q 'PCR 16' || fail "detail does not name PCR 16"
[ "$(agent_state a2)" = trusted ] || fail "a2 should still be trusted"
api GET "/v1/agents/a1/events?limit=5" | grep -q '"failure_id": *"pcr.value"' ||
    fail "no pcr.value event"

step "assayctl status explains it in plain words"
ctl() {
	"$ASSAY_BIN/assayctl" --verifier "127.0.0.1:$VPORT" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" --ca "$T/pki/ca.pem" "$@"
}
ctl status a1 > "$T/status.out" || fail "assayctl status a1"
grep -q "^a1 is untrusted" "$T/status.out" || fail "status: $(cat "$T/status.out")"
grep -q "a PCR value is not allowed by the policy (pcr.value)" "$T/status.out" ||
    fail "status reason: $(cat "$T/status.out")"
grep -q "PCR 16 (sha256) is" "$T/status.out" || fail "status entry: $(cat "$T/status.out")"
ctl status | grep -q "^a1 .*untrusted *pcr.value" || fail "status summary"
ctl status | grep -q "2 agents, 1 trusted, 1 not" || fail "status counts"

step "untrusted is sticky; reset re-evaluates and fails again"
sleep 2
[ "$(agent_state a1)" = untrusted ] || fail "untrusted is not sticky"
api POST /v1/agents/a1/reset >/dev/null || fail "reset"
wait_state a1 untrusted 20 || fail "a1 should fail again after reset"

step "a policy allowing the new value re-evaluates a1 to trusted"
policy_pin pin16b "$T/tpm-a1" 16
admit a1 pin16b
wait_state a1 trusted 20 || fail "a1 not trusted under the new policy"

step "admin list shows both trusted"
[ "$(api GET /v1/agents | grep -o '"state": *"trusted"' | wc -l)" -eq 2 ] || fail "list"
"$ASSAY_BIN/assayctl" --verifier "127.0.0.1:$VPORT" --cert "$T/pki/admin.pem" \
    --key "$T/pki/admin.key" --ca "$T/pki/ca.pem" agents list | grep -q "a2 .*trusted" ||
    fail "assayctl agents list"
echo "PASS"
