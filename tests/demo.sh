#!/bin/sh
# demo.sh O — the main job on loopback: a CA, a swtpm with an EK
# certificate, the verifier and one agent; show the agent enrolled and
# trusted via the API, extend a PCR the policy pins, show it untrusted with
# the failure id, then stop everything this script started.
O=${1:-build}
ASSAY_BIN=$(cd "$O" && pwd)
export ASSAY_BIN
# Reuse the integration helpers (temp dir, ports, cleanup on exit).
set -- 
. "$(dirname "$0")/lib/assay.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { echo "\$ $*"; "$@"; echo; }
CURL="curl -sS --cacert $T/pki/ca.pem --cert $T/pki/admin.pem --key $T/pki/admin.key"

say "1. A fleet CA with verifier, admin and agent certificates (assayctl certs init)"
pki_init web1
ls "$T/pki"

say "2. A software TPM (swtpm) with an EK certificate from a test TPM vendor CA;
   assay-verifier and assay-agent started on loopback"
verifier_start
agent_start web1
wait_registered web1 30 || fail "agent did not enroll"
echo "verifier: https://127.0.0.1:$VPORT   agent: 127.0.0.1:$(agent_port web1)"

say "3. The agent enrolled: EK chain checked, AK bound by credential activation"
show $CURL "https://127.0.0.1:$VPORT/v1/agents/web1"

say "4. Upload a policy pinning PCR 16 to its current value and admit the agent"
policy_pin web-fleet "$T/tpm-web1" 16
cat "$T/policy-web-fleet.yaml"
show $CURL -X PUT --data '{"policy":"web-fleet"}' "https://127.0.0.1:$VPORT/v1/agents/web1" >/dev/null
wait_state web1 trusted 20 || fail "agent not trusted"
show $CURL "https://127.0.0.1:$VPORT/v1/agents"

say "5. Something measures into PCR 16 (tpm2_pcrextend on the agent's TPM)"
show timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-web1")" \
    16:sha256=$(printf 'demo' | sha256sum | cut -d' ' -f1)
wait_state web1 untrusted 20 || fail "agent not untrusted"

say "6. The verifier now says: untrusted, and why"
show $CURL "https://127.0.0.1:$VPORT/v1/agents/web1"
CTL="$ASSAY_BIN/assayctl --verifier 127.0.0.1:$VPORT --cert $T/pki/admin.pem \
    --key $T/pki/admin.key --ca $T/pki/ca.pem"
show $CTL status web1
show $CTL agents events web1

say "Demo complete: stopping everything this demo started"
