#!/bin/sh
# DNS never blocks the verifier's event loop: with a resolver (a test DNS
# server on loopback, named by the verifier's resolv_conf) that answers
# one agent's host name only after 3 s, the other agent keeps its pace of
# a round a second and /v1/health answers at once, while the slow one is
# still attested (each of its rounds waits for its own lookup).
. "$(dirname "$0")/../lib/assay.sh"

counter()	# ID FIELD
{
	api GET "/v1/agents/$1" | tr -d ' \n' | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

step "a resolver that answers slow.* after 3 s"
pki_init f1 s1
DP=$(free_port)
python3 "$ROOT/tests/tools/slow_dns.py" --port "$DP" --delay 3 --lifetime 200 \
    --log "$T/dns.log" &
PIDS="$PIDS $!"
printf 'nameserver 127.0.0.1:%s\noptions timeout:8 attempts:1\n' "$DP" > "$T/resolv.conf"

step "verifier using it; two agents named fast.test and slow.test"
VPORT=$(free_port)
verifier_start "resolv_conf: resolv.conf"
agent_start f1 ecc
agent_start s1 ecc
wait_registered f1 30 || fail "f1 did not enroll"
wait_registered s1 30 || fail "s1 did not enroll"
policy_pin pin16 "$T/tpm-f1" 16
printf 'name: any\nbank: sha256\n' > "$T/any.yaml"
api PUT /v1/policies/any "$(cat "$T/any.yaml")" >/dev/null || fail "policy any"
api PUT /v1/agents/f1 "{\"policy\":\"any\",\"address\":\"fast.test:$(agent_port f1)\"}" \
    >/dev/null || fail "admit f1: $(cat "$T/resp")"
api PUT /v1/agents/s1 "{\"policy\":\"any\",\"address\":\"slow.test:$(agent_port s1)\"}" \
    >/dev/null || fail "admit s1: $(cat "$T/resp")"
wait_state f1 trusted 20 || fail "f1 not trusted"
wait_state s1 trusted 30 || fail "s1 not trusted through the slow resolver"
grep -q "slow.test slow" "$T/dns.log" || fail "the slow name was not looked up"

step "while slow.test takes 3 s a lookup, fast.test keeps a round a second"
a0=$(counter f1 attest_ok)
worst=0
for i in 1 2 3 4 5 6 7 8; do
	t0=$(date +%s%N)
	api GET /v1/health >/dev/null || fail "health failed"
	dt=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$dt" -gt "$worst" ] && worst=$dt
	sleep 1
done
a1=$(counter f1 attest_ok)
echo "f1 rounds in ~8 s: $((a1 - a0)); slowest /v1/health: ${worst} ms"
[ $((a1 - a0)) -ge 5 ] || fail "f1 slowed down by another agent's DNS: $((a1 - a0)) rounds"
[ "$worst" -lt 1000 ] || fail "/v1/health took ${worst} ms"
[ "$(agent_state s1)" = trusted ] || fail "s1 is $(agent_state s1)"
echo "PASS"
