#!/bin/sh
# Signed IMA entries (ima-sig template, signatures made by evmctl): with
# the signing key in the policy and require_signature, correctly signed
# files keep the host trusted; a file signed by another key, a file whose
# content no longer matches its signature, or an unsigned file makes it
# untrusted with ima.signature.
. "$(dirname "$0")/../lib/assay.sh"

command -v evmctl >/dev/null || fail "evmctl (ima-evm-utils) is required"
pki_init s
verifier_start
IMA_LIST="$T/ima-s.list" agent_start s
wait_registered s 30 || fail "s did not enroll"
F=$T/files
mkdir -p "$F"

openssl ecparam -name prime256v1 -genkey -noout -out "$T/ima.key" 2>/dev/null
openssl pkey -in "$T/ima.key" -pubout -out "$T/ima.pub"
openssl ecparam -name prime256v1 -genkey -noout -out "$T/other.key" 2>/dev/null

# sign FILE KEY -> hex of the IMA signature
sign()
{
	cp "$1" "$1.tosign"
	evmctl ima_sign --sigfile --key "$2" -a sha256 "$1.tosign" >/dev/null 2>&1 ||
	    fail "evmctl ima_sign"
	od -An -v -tx1 "$1.tosign.sig" | tr -d ' \n'
	rm -f "$1.tosign" "$1.tosign.sig"
}

step "policy: our key, signatures required"
{
	echo "name: signed"
	echo "bank: sha256"
	echo "ima:"
	echo "  keys:"
	echo "    - |"
	sed 's/^/      /' "$T/ima.pub"
	echo "  require_signature: true"
	echo "  unknown: fail"
} > "$T/signed.yaml"
code=$(curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" -X PUT \
    --data-binary "@$T/signed.yaml" "https://127.0.0.1:$VPORT/v1/policies/signed")
[ "$code" -lt 300 ] || fail "policy upload: $code $(cat "$T/resp")"

step "correctly signed files -> trusted"
printf 'good one\n' > "$F/good1"
printf 'good two\n' > "$F/good2"
ima s boot
ima s -s "$(sign "$F/good1" "$T/ima.key")" file "$F/good1"
ima s -s "$(sign "$F/good2" "$T/ima.key")" file "$F/good2"
admit s signed
wait_state s trusted 20 || fail "signed files not trusted"

step "a file signed by another key -> ima.signature"
printf 'stranger\n' > "$F/stranger"
ima s -s "$(sign "$F/stranger" "$T/other.key")" file "$F/stranger"
wait_state s untrusted 20 || fail "foreign signature not caught"
api GET /v1/agents/s | grep -q '"reason": *"ima.signature"' || fail "reason"
api GET /v1/agents/s | grep -q "stranger" || fail "detail does not name the file"

step "a signature that does not match the content -> ima.signature"
agent_stop s
swtpm_reset "$T/tpm-s" || fail "reset"
: > "$T/ima-s.list"
ima s boot
sig=$(sign "$F/good1" "$T/ima.key")
printf 'changed\n' >> "$F/good1"
ima s -s "$sig" file "$F/good1"
IMA_LIST="$T/ima-s.list" agent_start s
api POST /v1/agents/s/reset >/dev/null
wait_state s untrusted 30 || fail "bad signature not caught"
api GET /v1/agents/s | grep -q '"reason": *"ima.signature"' || fail "reason (bad sig)"
api GET /v1/agents/s | grep -q "good1" || fail "detail does not name good1"

step "an unsigned file with signatures required -> ima.signature"
agent_stop s
swtpm_reset "$T/tpm-s" || fail "reset"
: > "$T/ima-s.list"
ima s boot
ima s file "$F/good2"
IMA_LIST="$T/ima-s.list" agent_start s
api POST /v1/agents/s/reset >/dev/null
wait_state s untrusted 30 || fail "unsigned file not caught"
api GET /v1/agents/s | grep -q '"reason": *"ima.signature"' || fail "reason (unsigned)"
api GET /v1/agents/s | grep -q "good2" || fail "detail does not name good2"
echo "PASS"
