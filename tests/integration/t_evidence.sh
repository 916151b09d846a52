#!/bin/sh
# Evidence captured from a real agent goes through the verifier's own
# check pipeline (assayctl evidence verify): accepted with its nonce;
# replayed against a new nonce -> quote.nonce; a tampered PCR value ->
# quote.pcr_digest. Interop both ways with tpm2-tools: tpm2_checkquote
# accepts our agent's quote, and assayctl quote verify accepts tpm2_quote's.
. "$(dirname "$0")/../lib/assay.sh"

pki_init e1
verifier_start
agent_start e1
wait_registered e1 30 || fail "e1 did not enroll"
ap=$(agent_port e1)
ctl() { "$ASSAY_BIN/assayctl" "$@"; }

quote_as_verifier()
{
	curl -sS --fail --max-time 10 --cacert "$T/pki/ca.pem" \
	    --cert "$T/pki/verifier.pem" --key "$T/pki/verifier.key" \
	    "https://127.0.0.1:$ap/v1/quote?nonce=$1&pcrs=$2"
}

step "capture evidence and the AK"
N1=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
N2=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
quote_as_verifier "$N1" "sha256:0,1,2,3,4,5,6,7,8,9,10" > "$T/ev1.json" || fail "quote"
curl -sS --fail --max-time 10 --cacert "$T/pki/ca.pem" --cert "$T/pki/verifier.pem" \
    --key "$T/pki/verifier.key" "https://127.0.0.1:$ap/v1/info" > "$T/info.json" ||
    fail "info"
sed -n 's/.*"ak_pub": *"\([^"]*\)".*/\1/p' "$T/info.json" | base64 -d > "$T/ak.tpm2b"
[ -s "$T/ak.tpm2b" ] || fail "no AK public from the agent"
sed -n 's/.*"ek_pub": *"\([^"]*\)".*/\1/p' "$T/info.json" | base64 -d > "$T/ek.tpm2b"
[ -s "$T/ek.tpm2b" ] || fail "no EK public from the agent"

step "the pipeline accepts the evidence with its own nonce"
ctl evidence verify --ak "$T/ak.tpm2b" --ek "$T/ek.tpm2b" --nonce "$N1" --pcrs sha256:0-10 "$T/ev1.json" ||
    fail "valid evidence rejected"

step "replayed evidence against a fresh nonce -> quote.nonce"
out=$(ctl evidence verify --ak "$T/ak.tpm2b" --ek "$T/ek.tpm2b" --nonce "$N2" --pcrs sha256:0-10 \
    "$T/ev1.json") && fail "replay accepted"
echo "$out" | grep -q "^FAIL: quote.nonce" || fail "replay: $out"
echo "$out" | grep -q "quote.signature" && fail "replay also failed the signature"

step "a quote made for another nonce -> quote.nonce"
quote_as_verifier "$N2" "sha256:0,1,2,3,4,5,6,7,8,9,10" > "$T/ev2.json" || fail "quote 2"
out=$(ctl evidence verify --ak "$T/ak.tpm2b" --ek "$T/ek.tpm2b" --nonce "$N1" --pcrs sha256:0-10 \
    "$T/ev2.json") && fail "other nonce accepted"
echo "$out" | grep -q "^FAIL: quote.nonce" || fail "other nonce: $out"

step "a tampered PCR value -> quote.pcr_digest"
sed 's/"5": *"[0-9a-f]\{64\}"/"5": "1111111111111111111111111111111111111111111111111111111111111111"/' \
    "$T/ev1.json" > "$T/ev1-tampered.json"
cmp -s "$T/ev1.json" "$T/ev1-tampered.json" && fail "tampering did not change the file"
out=$(ctl evidence verify --ak "$T/ak.tpm2b" --ek "$T/ek.tpm2b" --nonce "$N1" --pcrs sha256:0-10 \
    "$T/ev1-tampered.json") && fail "tampered PCR accepted"
echo "$out" | grep -q "^FAIL: quote.pcr_digest" || fail "tampered: $out"

step "a different PCR selection than asked -> quote.pcr_select"
out=$(ctl evidence verify --ak "$T/ak.tpm2b" --ek "$T/ek.tpm2b" --nonce "$N1" --pcrs sha256:0-9 \
    "$T/ev1.json") && fail "other selection accepted"
echo "$out" | grep -q "^FAIL: quote.pcr_select" || fail "selection: $out"

step "tpm2_checkquote accepts our agent's quote"
quote_as_verifier "$N1" "sha256:0,1,2,3,4,5,6" > "$T/ev3.json" || fail "quote 3"
sed -n 's/.*"message": *"\([^"]*\)".*/\1/p' "$T/ev3.json" | base64 -d > "$T/q.msg"
sed -n 's/.*"signature": *"\([^"]*\)".*/\1/p' "$T/ev3.json" | base64 -d > "$T/q.sig"
: > "$T/q.pcrs"
for i in 0 1 2 3 4 5 6; do
	h=$(sed -n "s/.*\"$i\": *\"\([0-9a-f]\{64\}\)\".*/\1/p" "$T/ev3.json")
	[ -n "$h" ] || fail "PCR $i missing"
	printf '%s' "$h" | tr a-f A-F | basenc --base16 -d >> "$T/q.pcrs"
done
timeout 20 tpm2_checkquote -u "$T/ak.tpm2b" -m "$T/q.msg" -s "$T/q.sig" \
    -f "$T/q.pcrs" -F values -l sha256:0,1,2,3,4,5,6 -g sha256 -q "$N1" \
    >"$T/checkquote.log" 2>&1 || fail "tpm2_checkquote rejected our quote: $(cat "$T/checkquote.log")"

step "assayctl quote verify accepts a tpm2_quote quote"
agent_stop e1
tcti=$(swtpm_tcti "$T/tpm-e1")
timeout 20 tpm2_createek -T "$tcti" -c "$T/ek.ctx" -G rsa -u "$T/ek.pub" >/dev/null ||
    fail "createek"
flush() { timeout 10 tpm2_flushcontext -T "$tcti" -t; timeout 10 tpm2_flushcontext -T "$tcti" -s; }
flush
timeout 20 tpm2_createak -T "$tcti" -C "$T/ek.ctx" -c "$T/ak.ctx" -G ecc -g sha256 \
    -s ecdsa -u "$T/tak.pub" -f pem >/dev/null || fail "createak"
flush
timeout 20 tpm2_quote -T "$tcti" -c "$T/ak.ctx" -l sha256:0,1,2,3,4,5,6,7,10 -q "$N2" \
    -m "$T/t.msg" -s "$T/t.sig" -o "$T/t.pcrs" -g sha256 >/dev/null || fail "tpm2_quote"
ctl quote verify --ak "$T/tak.pub" --nonce "$N2" --message "$T/t.msg" \
    --signature "$T/t.sig" --pcrs "$T/t.pcrs" || fail "assayctl rejected tpm2_quote"
out=$(ctl quote verify --ak "$T/tak.pub" --nonce "$N1" --message "$T/t.msg" \
    --signature "$T/t.sig" --pcrs "$T/t.pcrs") && fail "wrong nonce accepted"
echo "$out" | grep -q "quote.nonce" || fail "wrong nonce: $out"
echo "PASS"
