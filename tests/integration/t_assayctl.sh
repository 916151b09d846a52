#!/bin/sh
# assayctl as the admin client: policy upload/list/show, admit, show,
# events, attest, stop/start, --json; and an agent the verifier forgot
# (deleted by the admin) enrolls again by itself.
. "$(dirname "$0")/../lib/assay.sh"

pki_init c1
verifier_start
agent_start c1
wait_registered c1 30 || fail "c1 did not enroll"
ctl() {
	"$ASSAY_BIN/assayctl" --verifier "127.0.0.1:$VPORT" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" --ca "$T/pki/ca.pem" "$@"
}

step "policy upload (YAML and JSON), list, show"
printf 'name: base\nbank: sha256\npcrs:\n  16: ["%064d"]\n' 0 > "$T/base.yaml"
ctl policy upload base "$T/base.yaml" | grep -q "policy base version 1 uploaded" || fail "upload yaml"
printf '{"name":"basej","bank":"sha256","pcrs":{"16":["%064d"]}}' 0 > "$T/basej.json"
ctl policy upload basej "$T/basej.json" >/dev/null || fail "upload json"
ctl policy list | grep -q "^basej " || fail "policy list"
ctl policy show base | grep -q "^bank: sha256" || fail "policy show"
printf 'name: other\n' > "$T/bad.yaml"
ctl policy upload base "$T/bad.yaml" 2>"$T/err" && fail "name mismatch accepted"
grep -q "HTTP 400" "$T/err" || fail "name mismatch: $(cat "$T/err")"

step "admit, show, list, events, attest, --json"
ctl agents admit c1 --policy basej --interval 1 | grep -q "c1: pending" || fail "admit"
wait_state c1 trusted 20 || fail "c1 not trusted"
ctl agents show c1 | grep -q "^state: *trusted" || fail "show"
ctl agents list | grep -q "^c1 .*trusted *pull *basej" || fail "list table"
ctl --json agents list | grep -q '"agents"' || fail "list --json"
ctl agents events c1 | grep -q "pending *-> trusted" || fail "events"
ctl agents attest c1 | grep -q "attestation scheduled" || fail "attest now"
ctl policy delete basej 2>"$T/err" && fail "deleted a policy in use"
grep -q "HTTP 409" "$T/err" || fail "policy in use: $(cat "$T/err")"

step "stop pauses polling, start resumes it"
ctl agents stop c1 | grep -q "c1: stopped" || fail "stop"
n1=$(api GET /v1/agents/c1 | sed -n 's/.*"attest_ok": *\([0-9]*\).*/\1/p')
sleep 2
n2=$(api GET /v1/agents/c1 | sed -n 's/.*"attest_ok": *\([0-9]*\).*/\1/p')
[ "$n1" = "$n2" ] || fail "a stopped agent was polled ($n1 -> $n2)"
ctl agents start c1 >/dev/null || fail "start"
wait_state c1 trusted 20 || fail "c1 not trusted after start"

step "assayctl refuses a server whose certificate is not the verifier's name"
ctl --verifier-name someone-else agents list 2>"$T/err" && fail "wrong verifier name accepted"
grep -q "verifier" "$T/err" || fail "wrong name error: $(cat "$T/err")"

step "a deleted agent enrolls again by itself"
ctl agents delete c1 | grep -q "c1: deleted" || fail "delete"
api GET /v1/agents/c1 >/dev/null 2>&1 && fail "still there after delete"
wait_registered c1 30 || fail "c1 did not re-enroll"
[ "$(agent_state c1)" = registered ] || fail "re-enrolled agent should be registered"
ctl agents events c1 --limit 50 | grep -q "deleted" || fail "delete event kept in history"
echo "PASS"
