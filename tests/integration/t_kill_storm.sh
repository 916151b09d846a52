#!/bin/sh
# kill -9 of the verifier in the middle of a storm of state changes loses
# nothing it acknowledged: two agents flip between trusted and untrusted
# (PCR 16 extended, then a policy allowing the new value) while the test
# records every event the API showed; the verifier is killed with -9 at
# three points of the storm and restarted; afterwards every acknowledged
# event (seq, state, failure id) is still in the history, each agent's
# state is what the API last said or a later one, and a webhook for every
# acknowledged state change arrives.
. "$(dirname "$0")/../lib/assay.sh"

HOOKS=$T/hooks.jsonl
ACK=$T/acked.tsv

# events ID — "seq<TAB>type<TAB>new_state<TAB>failure_id" lines, oldest first
events()
{
	api GET "/v1/agents/$1/events?limit=10000" | python3 -c '
import json, sys
for e in reversed(json.load(sys.stdin)["events"]):
    print("%d\t%s\t%s\t%s" % (e["seq"], e["type"], e["new_state"], e["failure_id"]))'
}

ack()	# record what the API acknowledged so far
{
	for a in k1 k2; do
		events "$a" | sed "s/^/$a\t/" >> "$ACK"
	done
}

flip()	# ID N: extend PCR 16 (untrusted), then allow the new value
{
	timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-$1")" \
	    "16:sha256=$(printf '%064x' "$2")" || fail "pcrextend $1"
	wait_state "$1" untrusted 20 || fail "$1 not untrusted (flip $2)"
	policy_pin "pol-$1" "$T/tpm-$1" 16
	wait_state "$1" trusted 20 || fail "$1 not trusted again (flip $2)"
}

crash()
{
	ack
	kill -9 "$VPID"
	wait "$VPID" 2>/dev/null
	verifier_start
}

step "verifier with a webhook, two agents trusted"
pki_init k1 k2 hookrx
HPORT=$(free_port)
webhook_rx_start
VPORT=$(free_port)
verifier_start "$(webhook_yaml)"
agent_start k1 ecc
agent_start k2 ecc
wait_registered k1 30 || fail "k1 did not enroll"
wait_registered k2 30 || fail "k2 did not enroll"
policy_pin pol-k1 "$T/tpm-k1" 16
policy_pin pol-k2 "$T/tpm-k2" 16
admit k1 pol-k1
admit k2 pol-k2
wait_state k1 trusted 20 || fail "k1 not trusted"
wait_state k2 trusted 20 || fail "k2 not trusted"

step "a storm of state changes with three kill -9 of the verifier"
n=1
for round in 1 2 3; do
	flip k1 $n; n=$((n + 1))
	flip k2 $n; n=$((n + 1))
	# a change in flight: PCR extended, killed before or while it is judged
	timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-k1")" \
	    "16:sha256=$(printf '%064x' "$n")" || fail "pcrextend"
	n=$((n + 1))
	sleep 0.$((round * 3))
	crash
	wait_state k1 untrusted 30 || fail "k1 not untrusted after restart $round"
	policy_pin pol-k1 "$T/tpm-k1" 16
	wait_state k1 trusted 20 || fail "k1 not trusted after restart $round"
done
ack

step "every acknowledged event is still in the history"
for a in k1 k2; do
	events "$a" | sed "s/^/$a\t/" > "$T/final-$a.tsv"
done
cat "$T/final-k1.tsv" "$T/final-k2.tsv" > "$T/final.tsv"
sort -u "$ACK" > "$T/acked.sorted"
sort -u "$T/final.tsv" > "$T/final.sorted"
lost=$(comm -23 "$T/acked.sorted" "$T/final.sorted" | wc -l)
acked=$(wc -l < "$T/acked.sorted")
echo "acknowledged events: $acked, lost: $lost"
[ "$lost" -eq 0 ] || fail "acknowledged events lost: $(comm -23 "$T/acked.sorted" "$T/final.sorted" | head -5)"
[ "$acked" -ge 20 ] || fail "too few events acknowledged ($acked)"

step "a webhook for every acknowledged state change"
i=0
while :; do
	missing=$(python3 - "$T/acked.sorted" "$HOOKS" <<'EOF'
import json, sys
want = set()
for line in open(sys.argv[1]):
    agent, seq, typ, new, fid = line.rstrip("\n").split("\t")
    if typ == "state":
        want.add((agent, int(seq)))
got = set()
try:
    for line in open(sys.argv[2]):
        b = json.loads(line)
        got.add((b["agent"], b["event_seq"]))
except FileNotFoundError:
    pass
print(len(want - got))
EOF
)
	[ "$missing" = 0 ] && break
	i=$((i + 1))
	[ "$i" -lt 300 ] || fail "$missing acknowledged state changes never notified"
	sleep 0.1
done
echo "PASS"
