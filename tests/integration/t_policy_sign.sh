#!/bin/sh
# Signed policies (DSSE envelopes, assay-policy(5) SIGNED POLICIES),
# offline: keys and certificates made by openssl; what `assayctl policy
# sign` writes verifies with an independent implementation
# (tests/tools/dsse_check.py, python3-cryptography) and what that signs
# verifies with `assayctl policy verify`, for P-256, Ed25519 and X.509
# chains. Refused, each with its message and a non-zero exit: a tampered
# payload, another key, another CA, a wrong name (verify, sign, upload),
# unsigned YAML, a P-384 key. `policy upload` sends an envelope as is with
# its own Content-Type (to a stand-in for the verifier that records it).
. "$(dirname "$0")/../lib/assay.sh"

PY=${PYTHON:-/usr/bin/python3}
"$PY" -c 'import cryptography' || fail "python3-cryptography missing (tools/deps.sh)"
CTL="$ASSAY_BIN/assayctl"

dsse()
{
	"$PY" "$ROOT/tests/tools/dsse_check.py" "$@"
}

# refused WHAT MESSAGE CMD...: CMD exits non-zero and says MESSAGE.
refused()
{
	what=$1 msg=$2
	shift 2
	"$@" > "$T/out" 2>&1 && fail "$what: accepted: $(cat "$T/out")"
	grep -qF -- "$msg" "$T/out" || fail "$what: message: $(cat "$T/out")"
	# (a sanitizer build must refuse cleanly, not crash or leak)
	grep -q "Sanitizer" "$T/out" && fail "$what: $(cat "$T/out")"
	echo "refused ($what): $(head -n 1 "$T/out")"
}

step "keys and certificates (openssl)"
cd "$T" || fail "cd $T"
for k in p256:EC:ec_paramgen_curve:P-256 other:EC:ec_paramgen_curve:P-256 \
    p384:EC:ec_paramgen_curve:P-384 ed:ED25519; do
	name=${k%%:*} rest=${k#*:} alg=${rest%%:*} opt=${rest#*:}
	if [ "$alg" = "$rest" ]; then
		openssl genpkey -algorithm "$alg" -out "$name.key" 2>/dev/null
	else
		openssl genpkey -algorithm "$alg" -pkeyopt "$opt" -out "$name.key" 2>/dev/null
	fi || fail "genpkey $name"
	openssl pkey -in "$name.key" -pubout -out "$name.pub" || fail "pubout $name"
done
cat > ca.ext <<EOF
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
cat > leaf.ext <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
# ca (self-signed) -> inter -> signer (P-256); otherca for the refusal.
for c in ca otherca; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$c.key" -out "$c.csr" -subj "/CN=Policy $c" 2>/dev/null &&
	openssl x509 -req -in "$c.csr" -signkey "$c.key" -days 2 \
	    -extfile ca.ext -out "$c.pem" 2>/dev/null || fail "CA $c"
done
issue()
{
	# issue NAME ISSUER EXTFILE: NAME.key (P-256) certified by ISSUER
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null &&
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
	    -CAcreateserial -days 1 -extfile "$3" -out "$1.pem" 2>/dev/null ||
	    fail "certificate $1"
}
issue inter ca ca.ext
issue signer inter leaf.ext
printf 'name: web\nbank: sha256\n' > web.yaml

step "assayctl signs (P-256, Ed25519); Python verifies"
for k in p256 ed; do
	"$CTL" policy sign --key "$k.key" web.yaml -o "web.$k.dsse" > sign.out ||
	    fail "sign $k: $(cat sign.out)"
	grep -q "policy web signed by sha256:" sign.out || fail "sign: $(cat sign.out)"
	[ "$(stat -c %a "web.$k.dsse")" = 644 ] || fail "mode of web.$k.dsse"
	dsse verify "web.$k.dsse" "$k.pub" > py.out || fail "python refused $k"
	grep -q "^name: web$" py.out || fail "python: $(cat py.out)"
	grep -q "^sha256: $(sha256sum web.yaml | cut -d' ' -f1)$" py.out ||
	    fail "python digest: $(cat py.out)"
done
# The Python verifier can fail: the P-256 envelope is not Ed25519's.
dsse verify web.p256.dsse ed.pub > py.out 2>&1 && fail "python verified under the wrong key"

step "assayctl verifies its own envelope and writes the policy back"
"$CTL" policy verify --signer ed.pub --signer p256.pub --name web web.p256.dsse \
    -o web.out > v.out || fail "verify: $(cat v.out)"
cmp web.yaml web.out || fail "policy text differs"
grep -q "^signed_at: [0-9-]*T[0-9:]*Z$" v.out || fail "signed_at: $(cat v.out)"
grep -q "^signer: key sha256:" v.out || fail "signer: $(cat v.out)"

step "Python signs (P-256, Ed25519, x5c); assayctl verifies"
for k in p256 ed; do
	dsse sign web.yaml web "$k.key" > "py.$k.dsse" || fail "python sign $k"
	"$CTL" policy verify --signer "$k.pub" "py.$k.dsse" > v.out ||
	    fail "assayctl refused python's $k envelope: $(cat v.out)"
	grep -q "^name: web$" v.out || fail "verify: $(cat v.out)"
done
dsse sign web.yaml web signer.key signer.pem inter.pem > py.x5c.dsse || fail "python x5c"
"$CTL" policy verify --signer ca.pem py.x5c.dsse > v.out || fail "x5c: $(cat v.out)"
grep -q "^signer: x509 CN=signer (CA CN=Policy ca)$" v.out || fail "x5c signer: $(cat v.out)"

step "assayctl signs with --cert and --chain; the CA verifies"
"$CTL" policy sign --key signer.key --cert signer.pem --chain inter.pem \
    web.yaml -o web.x5c.dsse > sign.out || fail "sign x5c: $(cat sign.out)"
"$CTL" policy verify --signer ca.pem web.x5c.dsse > v.out || fail "x5c: $(cat v.out)"
grep -q "^signer: x509 CN=signer (CA CN=Policy ca)$" v.out || fail "signer: $(cat v.out)"
openssl x509 -in signer.pem -pubkey -noout > signer.pub || fail "leaf key"
dsse verify web.x5c.dsse signer.pub > py.out || fail "python refused the x5c envelope"
refused "x5c without the intermediate" "x5c: unable to get local issuer certificate" \
    sh -c "'$CTL' policy sign --key signer.key --cert signer.pem web.yaml -o leafonly.dsse &&
    '$CTL' policy verify --signer ca.pem leafonly.dsse"
refused "--cert of another key" "the certificate is not for the signing key" \
    "$CTL" policy sign --key p256.key --cert signer.pem web.yaml -o x.dsse

step "refusals"
dsse tamper web.p256.dsse > tampered.dsse || fail "tamper"
refused "tampered payload" "no signature verifies under the 1 trusted signer" \
    "$CTL" policy verify --signer p256.pub tampered.dsse
refused "tampered payload (python)" "no signature verifies" \
    dsse verify tampered.dsse p256.pub
refused "another key" "keyids seen: sha256:" \
    "$CTL" policy verify --signer other.pub web.p256.dsse
refused "another CA" "unable to get local issuer certificate" \
    "$CTL" policy verify --signer otherca.pem web.x5c.dsse
refused "wrong name (verify)" "the signed policy is named web, not db" \
    "$CTL" policy verify --signer p256.pub --name db web.p256.dsse
refused "wrong name (sign)" "policy name 'web' does not match 'db'" \
    "$CTL" policy sign --key p256.key --name db web.yaml -o x.dsse
refused "unsigned YAML" "not a DSSE envelope" \
    "$CTL" policy verify --signer p256.pub web.yaml
refused "P-384 key" "EC key on curve secp384r1" \
    "$CTL" policy sign --key p384.key web.yaml -o x.dsse
refused "P-384 signer" "EC key on curve secp384r1" \
    "$CTL" policy verify --signer p384.pub web.p256.dsse
refused "private key as signer" "a signer is a PUBLIC KEY or a CERTIFICATE" \
    "$CTL" policy verify --signer p256.key web.p256.dsse
[ ! -e x.dsse ] || fail "a refused sign wrote x.dsse"

step "upload: an envelope goes as is (application/vnd.dsse+json), YAML as YAML"
# A stand-in for the verifier's API (mTLS, test PKI) that records each PUT.
"$CTL" certs init pki > /dev/null || fail "certs init"
"$PY" "$ROOT/tests/tools/dsse_check.py" capture pki > capture.log 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s port ] || fail "capture server did not start: $(cat capture.log)"
up()
{
	timeout 20 "$CTL" --verifier "127.0.0.1:$(cat port)" --cert pki/admin.pem \
	    --key pki/admin.key --ca pki/ca.pem policy upload "$@"
}
up web web.p256.dsse > up.out 2>&1 || fail "upload envelope: $(cat up.out)"
cmp put.1.body web.p256.dsse || fail "the envelope was not sent as is"
[ "$(cat put.1.ctype)" = application/vnd.dsse+json ] || fail "ctype: $(cat put.1.ctype)"
up web web.yaml > up.out 2>&1 || fail "upload yaml: $(cat up.out)"
cmp put.2.body web.yaml || fail "the YAML was not sent as is"
[ "$(cat put.2.ctype)" = application/yaml ] || fail "ctype: $(cat put.2.ctype)"
refused "upload under another name" "the signed policy is named web, not db" \
    up db web.p256.dsse
[ ! -e put.3.body ] || fail "an envelope under another name was sent"

echo "PASS t_policy_sign"
