#!/bin/sh
# Runtime integrity end to end: a test helper plays the kernel (appends to
# the agent's IMA list, extends PCR 10 in its swtpm). A host running only
# allowed files is trusted; an unknown file makes it untrusted with
# ima.not_allowed naming it; tampered, truncated and reordered lists give
# ima.template_hash / ima.replay; excluded paths are ignored; entries
# appended but not yet extended wait for the next round; a TPM reset with
# a new list restarts the incremental state. The agent answers in binary
# form 3, and made to answer as older agents do (forms 2, 1) still attests.
. "$(dirname "$0")/../lib/assay.sh"

pki_init h
verifier_start
IMA_LIST="$T/ima-h.list" agent_start h
wait_registered h 30 || fail "h did not enroll"
F=$T/files

put_policy()
{
	code=$(curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/pki/ca.pem" \
	    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" -X PUT \
	    --data-binary "@$1" "https://127.0.0.1:$VPORT/v1/policies/fleet")
	[ "$code" -lt 300 ] || fail "policy upload: $code $(cat "$T/resp")"
}

write_policy()
{
	{
		echo "name: fleet"
		echo "bank: sha256"
		echo "ima:"
		echo "  allow:"
		for f in "$@"; do
			echo "    $F/usr/bin/$f: [\"sha256:$(sha256 "$F/usr/bin/$f")\"]"
		done
		echo "  exclude: [\"$F/tmp/**\"]"
		echo "  unknown: fail"
	} > "$T/fleet.yaml"
	put_policy "$T/fleet.yaml"
}

reason_is()
{
	api GET /v1/agents/h | grep -q "\"reason\": *\"$1\"" ||
	    fail "wanted reason $1: $(api GET /v1/agents/h)"
}

step "boot: boot_aggregate and three allowed files"
mkdir -p "$F/usr/bin" "$F/tmp"
for f in sh ls cat rogue; do
	printf '#!/bin/true %s\n' "$f" > "$F/usr/bin/$f"
done
printf 'scratch\n' > "$F/tmp/scratch"
ima h boot
ima h file "$F/usr/bin/sh" "$F/usr/bin/ls" "$F/usr/bin/cat"
write_policy sh ls cat
admit h fleet
wait_state h trusted 20 || fail "h not trusted"

step "an excluded path is ignored"
ima h file "$F/tmp/scratch" "$F/usr/bin/ls"
sleep 2
[ "$(agent_state h)" = trusted ] || fail "excluded entry broke trust"

step "appended but not yet extended: accepted once extended"
ima h -n file "$F/usr/bin/cat"
sleep 2
[ "$(agent_state h)" = trusted ] || fail "pending entry broke trust"
ima h -e file "$F/usr/bin/cat"
sleep 2
[ "$(agent_state h)" = trusted ] || fail "extended entry broke trust"

step "a file not in the policy -> untrusted, ima.not_allowed naming it"
ima h file "$F/usr/bin/rogue"
wait_state h untrusted 20 || fail "rogue file not caught"
reason_is ima.not_allowed
api GET /v1/agents/h | grep -q "usr/bin/rogue" || fail "detail does not name the file"

step "a policy allowing it re-evaluates the whole list -> trusted"
write_policy sh ls cat rogue
wait_state h trusted 30 || fail "h not trusted with rogue allowed"

step "tampered entry -> ima.template_hash"
cp "$T/ima-h.list" "$T/list.good"
ima h file "$F/usr/bin/ls"
size=$(stat -c %s "$T/ima-h.list")
printf 'X' | dd of="$T/ima-h.list" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
wait_state h untrusted 20 || fail "tampered entry not caught"
reason_is ima.template_hash

step "repaired list -> trusted after reset"
cp "$T/list.good" "$T/ima-h.list"
ima h -n file "$F/usr/bin/ls"
api POST /v1/agents/h/reset >/dev/null
wait_state h trusted 20 || fail "repaired list not trusted"

step "truncated list (an extended entry missing) -> ima.replay"
cp "$T/ima-h.list" "$T/list.good"
ima h file "$F/usr/bin/cat"
cp "$T/list.good" "$T/ima-h.list"
wait_state h untrusted 20 || fail "truncated list not caught"
reason_is ima.replay

step "reordered entries -> ima.replay"
ima h -n file "$F/usr/bin/cat"
api POST /v1/agents/h/reset >/dev/null
wait_state h trusted 20 || fail "not trusted before the reorder"
ima h file "$F/usr/bin/ls"
ima h file "$F/usr/bin/sh"
ima h swap
wait_state h untrusted 20 || fail "reordered list not caught"
reason_is ima.replay

step "swtpm reset with a new list -> state restarts, trusted again"
agent_stop h
swtpm_reset "$T/tpm-h" || fail "reset"
: > "$T/ima-h.list"
ima h boot
ima h file "$F/usr/bin/sh"
IMA_LIST="$T/ima-h.list" agent_start h
api POST /v1/agents/h/reset >/dev/null
wait_state h trusted 30 || fail "h not trusted after the reboot"
api GET "/v1/agents/h/events?limit=50" | grep -q '"failure_id": *"tpm.reboot"' ||
    fail "no tpm.reboot event"
ima h file "$F/usr/bin/cat"
sleep 2
[ "$(agent_state h)" = trusted ] || fail "incremental round after reboot"

# Rounds in form F with IMA entries in the agent's log.
form_rounds()
{
	grep -c "quote [0-9]* for verifier in form $1 with IMA entries" \
	    "$T/agent-h.log"
}

step "the agent answers binary form 3; made an older agent, forms 2 and 1"
[ "$(form_rounds 3)" -gt 0 ] || fail "no round answered in form 3"
for form in 2 1; do
	agent_stop h
	export ASSAY_AGENT_FORMAT_MAX=$form
	IMA_LIST="$T/ima-h.list" agent_start h
	unset ASSAY_AGENT_FORMAT_MAX
	ima h file "$F/usr/bin/cat"
	i=0
	while [ "$(form_rounds $form)" -lt 2 ] && [ $i -lt 60 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	[ "$(form_rounds $form)" -ge 2 ] || fail "no rounds in form $form"
	sleep 1
	[ "$(agent_state h)" = trusted ] ||
	    fail "h answering in form $form: $(agent_state h)"
done
echo "PASS"
