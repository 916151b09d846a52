#!/bin/sh
# policy_dir is the truth for the names it holds: the API cannot replace
# or delete them (409); a changed file re-evaluates the agents that use it
# on SIGHUP, exactly as an upload does (trusted -> untrusted with the new
# rule; untrusted -> pending -> trusted when the file allows it again);
# a file whose name an API upload used replaces that policy (logged); an
# unchanged file on SIGHUP re-evaluates nothing.
. "$(dirname "$0")/../lib/assay.sh"

pcr16()
{
	timeout 10 tpm2_pcrread -T "$(swtpm_tcti "$T/tpm-d1")" sha256:16 |
	    sed -n 's/^ *16 *: *0x\([0-9A-Fa-f]*\).*/\1/p'
}
write_pin()	# FILE NAME VALUE
{
	printf 'name: %s\nbank: sha256\npcrs:\n  16: ["%s"]\n' "$2" "$3" > "$1.tmp" &&
	    mv "$1.tmp" "$1"
}
reload()
{
	kill -HUP "$VPID"
	i=0
	until grep -q "policies reloaded" "$T/verifier.log" &&
	    [ "$(grep -c "policies reloaded" "$T/verifier.log")" -ge "$1" ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "no reload logged"
		sleep 0.1
	done
}

step "verifier with a policy_dir, one agent"
pki_init d1
mkdir -p "$T/policies"
VPORT=$(free_port)
verifier_start "policy_dir: policies"
agent_start d1 ecc
wait_registered d1 30 || fail "d1 did not enroll"
GOOD=$(pcr16)
[ -n "$GOOD" ] || fail "cannot read PCR 16"
BAD=0000000000000000000000000000000000000000000000000000000000000016
write_pin "$T/policies/dirpol.yaml" dirpol "$GOOD"
reload 1
api GET /v1/policies/dirpol >/dev/null || fail "dirpol not loaded"
admit d1 dirpol
wait_state d1 trusted 20 || fail "d1 not trusted"

step "the API cannot replace or delete a policy_dir policy"
api PUT /v1/policies/dirpol "$(printf 'name: dirpol\npcrs:\n  16: ["%s"]\n' "$BAD")" \
    >/dev/null 2>&1 && fail "PUT over a policy_dir policy accepted"
[ "$(cat "$T/status")" = 409 ] || fail "PUT: status $(cat "$T/status")"
grep -q "managed by policy_dir" "$T/resp" || fail "PUT: $(cat "$T/resp")"
api DELETE /v1/policies/dirpol >/dev/null 2>&1 && fail "DELETE accepted"
[ "$(cat "$T/status")" = 409 ] || fail "DELETE: status $(cat "$T/status")"
[ "$(agent_state d1)" = trusted ] || fail "d1 disturbed"

step "an unchanged file on SIGHUP re-evaluates nothing"
n0=$(grep -c "judged again" "$T/verifier.log")
reload 2
sleep 1
[ "$(grep -c "judged again" "$T/verifier.log")" = "$n0" ] ||
    fail "unchanged file re-evaluated"
[ "$(agent_state d1)" = trusted ] || fail "d1 not trusted after an unchanged reload"

step "a stricter file on SIGHUP re-evaluates its agents -> untrusted"
write_pin "$T/policies/dirpol.yaml" dirpol "$BAD"
reload 3
wait_state d1 untrusted 20 || fail "changed file did not re-evaluate d1"
api GET /v1/agents/d1 | grep -q '"reason": *"pcr.value"' || fail "reason not pcr.value"
grep -q "policy dirpol changed in" "$T/verifier.log" || fail "change not logged"

step "the file allowing the value again -> pending -> trusted"
write_pin "$T/policies/dirpol.yaml" dirpol "$GOOD"
reload 4
wait_state d1 trusted 20 || fail "d1 not trusted again"

step "a policy_dir file takes over a name an API upload used (logged)"
printf 'name: apipol\npcrs:\n  16: ["%s"]\n' "$BAD" > "$T/apipol.yaml"
api PUT /v1/policies/apipol "$(cat "$T/apipol.yaml")" >/dev/null ||
    fail "upload apipol: $(cat "$T/resp")"
write_pin "$T/policies/apipol.yaml" apipol "$GOOD"
reload 5
grep -q "apipol from .* replaces the one uploaded through the API" "$T/verifier.log" ||
    fail "takeover not logged"
api GET /v1/policies/apipol | grep -q "$GOOD" || fail "apipol not the directory's"

step "a file removed: its policy stays, managed through the API again"
rm -f "$T/policies/apipol.yaml"
reload 6
api PUT /v1/policies/apipol "$(cat "$T/apipol.yaml")" >/dev/null ||
    fail "apipol still refused after its file was removed: $(cat "$T/resp")"
echo "PASS"
