#!/bin/sh
# Policy versions, canaries, rollback and signed uploads, end to end with
# two agents on swtpm: every upload is a numbered version (hash, uploader,
# signer); each agent's verdict names the version it was judged with; a
# canary version judges only the agents named; rollback and promotion put
# a stored version back in force and the verdicts follow; versions and
# canaries survive a restart. With policy_signers an unsigned, a tampered,
# a wrongly signed and a renamed upload are each refused, envelopes signed
# by assayctl and by an independent implementation (Python's
# cryptography) are taken, and an unsigned old version cannot be rolled
# back to.
. "$(dirname "$0")/../lib/assay.sh"

PY=${PYTHON:-/usr/bin/python3}
"$PY" -c 'import cryptography' || fail "python3-cryptography missing (tools/deps.sh)"
CTL=$ASSAY_BIN/assayctl
ZERO=0000000000000000000000000000000000000000000000000000000000000000
WRONG=00000000000000000000000000000000000000000000000000000000000000aa

# put NAME FILE [QUERY] — upload as admin; status in $T/status, body $T/resp.
put()
{
	code=$(curl -sS -o "$T/resp" -w '%{http_code}' --max-time 20 -X PUT \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" --data-binary "@$2" \
	    "https://127.0.0.1:$VPORT/v1/policies/$1${3:-}") || return 2
	echo "$code" > "$T/status"
	[ "$code" -lt 300 ]
}

# pol FILE PCR16-VALUE — policy p pinning PCR 16
pol()
{
	printf 'name: p\nbank: sha256\npcrs:\n  16: ["%s"]\n' "$2" > "$1"
}

# field JSON-FILE PYTHON-EXPR — evaluate on the parsed JSON "j"
field()
{
	"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

agent_version()
{
	api GET "/v1/agents/$1" > "$T/a.json" || fail "agent $1"
	field "$T/a.json" 'j["policy_version"]'
}

# wait_judged ID STATE VERSION — the agent reaches STATE judged with VERSION
wait_judged()
{
	i=0
	while :; do
		api GET "/v1/agents/$1" > "$T/a.json" 2>/dev/null
		s=$(field "$T/a.json" 'j["state"]')
		n=$(field "$T/a.json" 'j["policy_version"]')
		[ "$s" = "$2" ] && [ "$n" = "$3" ] && return 0
		i=$((i + 1))
		[ "$i" -lt 300 ] || fail "$1 is $s judged with version $n, wanted $2 with $3"
		sleep 0.1
	done
}

step "two agents judged with version 1"
INTERVAL=1
export INTERVAL
pki_init h1 h2
verifier_start
agent_start h1
agent_start h2
wait_registered h1 30 || fail "h1 did not enroll"
wait_registered h2 30 || fail "h2 did not enroll"
pol "$T/v1.yaml" "$ZERO"
put p "$T/v1.yaml" || fail "v1: $(cat "$T/status") $(cat "$T/resp")"
[ "$(field "$T/resp" 'j["version"]')" = 1 ] || fail "v1 answer: $(cat "$T/resp")"
admit h1 p
admit h2 p
wait_judged h1 trusted 1
wait_judged h2 trusted 1

step "a stricter version as a canary on h1 only"
pol "$T/v2.yaml" "$WRONG"
put p "$T/v2.yaml" "?canary=h1" || fail "canary: $(cat "$T/status") $(cat "$T/resp")"
[ "$(field "$T/resp" 'j["version"]')" = 2 ] || fail "v2 answer: $(cat "$T/resp")"
wait_judged h1 untrusted 2
api GET /v1/agents/h1 | grep -q '"reason": *"pcr.value"' || fail "h1 reason"
sleep 2
wait_judged h2 trusted 1
put p "$T/v2.yaml" "?canary=nobody" && fail "canary of an unknown agent"
[ "$(cat "$T/status")" = 400 ] || fail "unknown canary: $(cat "$T/status")"

step "versions: hashes, uploader, version in force, the canary"
api GET /v1/policies/p/versions > "$T/vers.json" || fail "versions"
[ "$(field "$T/vers.json" 'j["in_force"]')" = 1 ] || fail "in force: $(cat "$T/vers.json")"
[ "$(field "$T/vers.json" 'j["canary"]["version"]')" = 2 ] || fail "canary version"
[ "$(field "$T/vers.json" 'j["canary"]["agents"]')" = h1 ] || fail "canary agents"
[ "$(field "$T/vers.json" 'len(j["versions"])')" = 2 ] || fail "two versions"
[ "$(field "$T/vers.json" 'j["versions"][1]["sha256"]')" = "$(sha256 "$T/v2.yaml")" ] ||
    fail "v2 hash: $(cat "$T/vers.json")"
[ "$(field "$T/vers.json" 'j["versions"][0]["uploader"]')" = admin ] || fail "uploader"
api GET /v1/policies/p/versions/1 > "$T/got1.yaml" || fail "version 1 text"
cmp -s "$T/got1.yaml" "$T/v1.yaml" || fail "version 1 text differs"
api GET /v1/policies/p/versions/9 >/dev/null && fail "version 9"
[ "$(cat "$T/status")" = 404 ] || fail "version 9: $(cat "$T/status")"

step "versions and the canary survive a restart"
kill "$VPID"; wait "$VPID" 2>/dev/null
verifier_start
api GET /v1/policies/p/versions > "$T/vers.json" || fail "versions after restart"
[ "$(field "$T/vers.json" 'j["canary"]["version"]')" = 2 ] || fail "canary lost"
wait_judged h1 untrusted 2
wait_judged h2 trusted 1

step "rollback to version 1 drops the canary: h1 trusted again with 1"
api POST /v1/policies/p/rollback '{"version": 1}' > "$T/rb.json" ||
    fail "rollback: $(cat "$T/resp")"
wait_judged h1 trusted 1
api GET /v1/policies/p/versions > "$T/vers.json"
[ "$(field "$T/vers.json" 'j["canary"]')" = None ] || fail "canary stays"
api POST /v1/policies/p/rollback '{"version": 7}' >/dev/null && fail "rollback to 7"
[ "$(cat "$T/status")" = 404 ] || fail "rollback 7: $(cat "$T/status")"
api POST /v1/policies/p/promote >/dev/null && fail "promote without a canary"
[ "$(cat "$T/status")" = 409 ] || fail "promote: $(cat "$T/status")"

step "a canary promoted judges everyone; rollback restores the old verdicts"
put p "$T/v2.yaml" "?canary=h2" || fail "canary v3"
wait_judged h2 untrusted 3
api POST /v1/policies/p/promote > /dev/null || fail "promote: $(cat "$T/resp")"
wait_judged h1 untrusted 3
api POST /v1/policies/p/rollback '{"version": 1}' > /dev/null || fail "rollback"
wait_judged h1 trusted 1
wait_judged h2 trusted 1

step "policy_signers: only envelopes a trusted signer made for this name"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/sign.key" 2>/dev/null ||
    fail "key"
openssl pkey -in "$T/sign.key" -pubout -out "$T/sign.pub" || fail "pub"
openssl genpkey -algorithm ed25519 -out "$T/ed.key" 2>/dev/null || fail "ed key"
openssl pkey -in "$T/ed.key" -pubout -out "$T/ed.pub" || fail "ed pub"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/evil.key" 2>/dev/null ||
    fail "evil key"
kill "$VPID"; wait "$VPID" 2>/dev/null
printf 'policy_signers:\n  p: [sign.pub, ed.pub]\n' >> "$T/verifier.yaml"
verifier_start
put p "$T/v1.yaml" && fail "unsigned upload taken"
[ "$(cat "$T/status")" = 403 ] && grep -q "must be signed" "$T/resp" ||
    fail "unsigned: $(cat "$T/status") $(cat "$T/resp")"
"$CTL" policy sign --key "$T/sign.key" -o "$T/v1.dsse" "$T/v1.yaml" || fail "sign"
put p "$T/v1.dsse" || fail "signed upload: $(cat "$T/status") $(cat "$T/resp")"
[ "$(field "$T/resp" 'j["signer"]')" != None ] || fail "no signer: $(cat "$T/resp")"
signed=$(field "$T/resp" 'j["version"]')
"$CTL" policy sign --key "$T/evil.key" -o "$T/evil.dsse" "$T/v1.yaml" || fail "sign evil"
put p "$T/evil.dsse" && fail "wrongly signed upload taken"
[ "$(cat "$T/status")" = 403 ] || fail "evil: $(cat "$T/status") $(cat "$T/resp")"
# the payload's policy text changed after signing (re-encoded, signature kept)
"$PY" - "$T/v1.dsse" "$T/tampered.dsse" <<'EOF' || fail "tamper"
import base64, json, sys
e = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(e["payload"]))
st["policy"] = st["policy"].replace("0000000000000000", "00000000000000ff", 1)
e["payload"] = base64.b64encode(json.dumps(st, separators=(",", ":")).encode()).decode()
json.dump(e, open(sys.argv[2], "w"))
EOF
put p "$T/tampered.dsse" && fail "tampered upload taken"
[ "$(cat "$T/status")" = 403 ] || fail "tampered: $(cat "$T/status") $(cat "$T/resp")"
sed 's/^name: p$/name: q/' "$T/v1.yaml" > "$T/q.yaml"
"$CTL" policy sign --key "$T/sign.key" -o "$T/q.dsse" "$T/q.yaml" || fail "sign q"
put p "$T/q.dsse" && fail "envelope for q taken as p"
[ "$(cat "$T/status")" = 403 ] && grep -q "signs policy 'q'" "$T/resp" ||
    fail "renamed: $(cat "$T/status") $(cat "$T/resp")"
sleep 1.1	# signing times are seconds
"$PY" "$ROOT/tests/tools/dsse_check.py" sign "$T/v1.yaml" p "$T/ed.key" > "$T/py.dsse" ||
    fail "python sign"
put p "$T/py.dsse" || fail "python-signed: $(cat "$T/status") $(cat "$T/resp")"
put p "$T/v1.dsse" && fail "a superseded signed release uploaded again"
[ "$(cat "$T/status")" = 409 ] && grep -q "superseded" "$T/resp" ||
    fail "replay: $(cat "$T/status") $(cat "$T/resp")"
api GET /v1/policies/p/versions > "$T/vers.json"
"$PY" - "$T/vers.json" "$signed" <<'EOF' || fail "signers listed: $(cat "$T/vers.json")"
import json, sys
j = json.load(open(sys.argv[1]))
v = {x["version"]: x for x in j["versions"]}
s = v[int(sys.argv[2])]
assert s["signer"] and s["signed_at"], s
assert v[1]["signer"] is None, v[1]
assert j["versions"][-1]["signer"] and j["versions"][-1]["signer"] != s["signer"]
EOF
api POST /v1/policies/p/rollback '{"version": 1}' >/dev/null && fail "rollback to unsigned"
[ "$(cat "$T/status")" = 403 ] || fail "unsigned rollback: $(cat "$T/status")"
api POST /v1/policies/p/rollback "{\"version\": $signed}" >/dev/null ||
    fail "rollback to signed: $(cat "$T/resp")"
wait_judged h1 trusted "$signed"
echo "PASS"
