#!/bin/sh
# Unreachable is not untrusted: a killed agent becomes unreachable and is
# trusted again when restarted; a TPM reboot (swtpm reset) is a tpm.reboot
# event and the host stays trusted; a verifier killed with -9 and
# restarted resumes with every agent, policy and state.
. "$(dirname "$0")/../lib/assay.sh"

step "set up one trusted agent"
pki_init h1
verifier_start
agent_start h1
wait_registered h1 30 || fail "h1 did not enroll"
policy_pin p "$T/tpm-h1" 16
admit h1 p
wait_state h1 trusted 20 || fail "h1 not trusted"

step "kill the agent -> unreachable (not untrusted)"
agent_stop h1
wait_state h1 unreachable 30 || fail "h1 not unreachable"
api GET /v1/agents/h1 | grep -q '"reason": *"comm.unreachable"' || fail "reason"

step "restart the agent -> trusted again"
agent_start h1
wait_state h1 trusted 30 || fail "h1 not trusted after restart"

step "swtpm reset (reboot) -> tpm.reboot event, PCR 16 back to the pinned value"
agent_stop h1
swtpm_reset "$T/tpm-h1" || fail "reset"
agent_start h1
sleep 2
wait_state h1 trusted 20 || fail "h1 not trusted after reboot"
api GET "/v1/agents/h1/events?limit=20" | grep -q '"failure_id": *"tpm.reboot"' ||
    fail "no tpm.reboot event"

step "five unclean TPM resets in a row (power losses): no DA lockout, still trusted"
agent_stop h1
for i in 1 2 3 4 5; do
	swtpm_reset "$T/tpm-h1" || fail "reset $i"
done
agent_start h1
wait_state h1 trusted 30 || fail "h1 locked out after unclean resets"
grep -q "DA lockout" "$T/agent-h1.log" && fail "the agent hit DA lockout"

step "SIGHUP reloads configuration; a broken file keeps the running one"
sed -i 's/^timeout: 5$/timeout: 6/' "$T/verifier.yaml"
kill -HUP "$VPID"
i=0
until grep -q "configuration and policies reloaded" "$T/verifier.log"; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "verifier did not reload"; sleep 0.1
done
cp "$T/verifier.yaml" "$T/verifier.yaml.good"
echo "bogus_key: 1" >> "$T/verifier.yaml"
kill -HUP "$VPID"
i=0
until grep -q "verifier.yaml:[0-9]*: unknown key 'bogus_key'; keeping the running" \
    "$T/verifier.log"; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "broken config not reported"; sleep 0.1
done
cp "$T/verifier.yaml.good" "$T/verifier.yaml"
kill -0 "$VPID" || fail "verifier died on a broken reload"
eval "apid=\$APID_h1"
kill -HUP "$apid"
i=0
until grep -q "configuration reloaded from" "$T/agent-h1.log"; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "agent did not reload"; sleep 0.1
done
ok1=$(api GET /v1/agents/h1 | sed -n 's/.*"attest_ok": *\([0-9]*\).*/\1/p')
sleep 3
ok2=$(api GET /v1/agents/h1 | sed -n 's/.*"attest_ok": *\([0-9]*\).*/\1/p')
[ "$ok2" -gt "$ok1" ] || fail "no attestation after the agent's reload ($ok1 -> $ok2)"
[ "$(agent_state h1)" = trusted ] || fail "reload disturbed the agent"

step "verifier kill -9 and restart keeps everything"
api PUT /v1/agents/h1 '{"interval": 2}' >/dev/null || fail "update interval"
kill -9 "$VPID"
wait "$VPID" 2>/dev/null
verifier_start
[ "$(agent_state h1)" = trusted ] || fail "state lost across kill -9"
api GET /v1/policies | grep -q '"name": *"p"' || fail "policy lost"
api GET /v1/agents/h1 | grep -q '"interval": *2' || fail "interval lost"
before=$(api GET /v1/agents/h1 | sed -n 's/.*"attest_ok": *\([0-9]*\).*/\1/p')
sleep 3
after=$(api GET /v1/agents/h1 | sed -n 's/.*"attest_ok": *\([0-9]*\).*/\1/p')
[ "$after" -gt "$before" ] || fail "polling did not resume ($before -> $after)"
echo "PASS"
