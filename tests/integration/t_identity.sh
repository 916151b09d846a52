#!/bin/sh
# Host identities that live only while the host is trusted (issue 14.2):
# the verifier is an identity CA; the agent makes a signing key inside its
# TPM, the AK certifies it in each round (TPM2_Certify over the round's
# nonce), and while the host is trusted the verifier issues a short X.509
# certificate (spiffe://example.org/host/ID) that the agent writes beside
# its TSS2 PRIVATE KEY file. An unmodified `openssl s_client` with the
# tpm2 provider then passes a relying party (openssl s_server) that
# demands a client certificate from the identity CA; once the host turns
# untrusted no certificate is issued and, the lifetime past, the handshake
# fails. Attacks: root imports a key it knows into the TPM and offers it
# as the identity key (refused: identity.key, untrusted, nothing issued);
# another agent asks for this host's identity (404); the key file holds no
# usable private key. Push mode gets its identity in the verdict.
. "$(dirname "$0")/../lib/assay.sh"
. "$ROOT/tests/lib/relying.sh"

INTERVAL=2		# identity lifetime: 3 intervals after the last round
export INTERVAL
command -v openssl >/dev/null || fail "openssl missing"
[ -n "$(find /usr/lib -name 'tpm2.so' -path '*ossl-modules*' 2>/dev/null | head -n 1)" ] ||
    fail "OpenSSL's tpm2 provider is missing (tpm2-openssl; tools/deps.sh)"

# The identity CA (P-256) and a CA nobody trusts.
mkca()
{
	openssl ecparam -genkey -name prime256v1 -noout -out "$T/$1.key" 2>/dev/null &&
	openssl req -new -x509 -key "$T/$1.key" -out "$T/$1.pem" -days 30 \
	    -subj "/CN=$1" -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
	    fail "CA $1"
}

# ident_yaml NAME — the agent's identity files
ident_yaml()
{
	printf 'identity:\n  key: %s.key\n  cert: %s.crt\n  chain: %s.chain\n' \
	    "$1" "$1" "$1" >> "$T/agent-$1.yaml"
}

# wait_file PATH [SECONDS]
wait_file()
{
	i=0 lim=$((${2:-20} * 10))
	until [ -s "$1" ]; do
		i=$((i + 1))
		[ "$i" -lt "$lim" ] || return 1
		sleep 0.1
	done
}

serial() { openssl x509 -in "$1" -noout -serial 2>/dev/null; }

step "configuration: identity.* go together; a CA certificate that is not a CA is refused"
pki_init h1 x1 p1
mkca idca
mkca otherca
verifier_start
kill "$VPID"; wait "$VPID" 2>/dev/null
cp "$T/verifier.yaml" "$T/verifier.yaml.base"
# refused YAML MESSAGE — the base configuration plus YAML does not start
refused()
{
	cp "$T/verifier.yaml.base" "$T/verifier.yaml"
	printf '%b' "$1" >> "$T/verifier.yaml"
	timeout 10 "$ASSAY_BIN/assay-verifier" -f -c "$T/verifier.yaml" > "$T/bad.log" 2>&1 &&
	    fail "started with: $1"
	grep -q "$2" "$T/bad.log" || fail "message: $(cat "$T/bad.log")"
}
refused 'identity:\n  ca_cert: idca.pem\n  ca_key: idca.key\n' "go together"
refused 'identity:\n  ca_cert: pki/agent-h1.pem\n  ca_key: pki/agent-h1.key\n  trust_domain: example.org\n' \
    "is not a CA"
cp "$T/verifier.yaml.base" "$T/verifier.yaml"
printf 'identity:\n  ca_cert: idca.pem\n  ca_key: idca.key\n  trust_domain: example.org\n  intervals: 3\n' \
    >> "$T/verifier.yaml"
openssl ecparam -genkey -name prime256v1 -noout -out "$T/ear.pem" 2>/dev/null || fail "ear key"
printf 'results:\n  key: ear.pem\n' >> "$T/verifier.yaml"
verifier_start

step "a trusted host: its TPM key gets a certificate"
agent_start h1
wait_registered h1 30 || fail "h1 did not enroll"
agent_stop h1
ident_yaml h1
agent_start h1
policy_pin p "$T/tpm-h1" 16
admit h1 p
wait_state h1 trusted 30 || fail "h1 not trusted"
wait_file "$T/h1.crt" 20 || fail "h1 wrote no identity certificate"
wait_file "$T/h1.chain" 5 || fail "h1 wrote no chain"
grep -q "BEGIN TSS2 PRIVATE KEY" "$T/h1.key" || fail "key file is not a TSS2 PRIVATE KEY"
openssl asn1parse -in "$T/h1.key" > "$T/h1.asn1" 2>&1 || fail "key file: $(cat "$T/h1.asn1")"
grep -q ":2.23.133.10.1.3" "$T/h1.asn1" || fail "not a loadable TPM key: $(cat "$T/h1.asn1")"
grep -q "BOOLEAN *:255" "$T/h1.asn1" || fail "emptyAuth not TRUE: $(cat "$T/h1.asn1")"
grep -q "INTEGER *:81000001" "$T/h1.asn1" || fail "parent not 0x81000001"
[ "$(stat -c %a "$T/h1.key")" = 600 ] || fail "key file mode $(stat -c %a "$T/h1.key")"
# Without the TPM the file is no key at all: the private half is TPM-wrapped.
env -u OPENSSL_CONF openssl pkey -in "$T/h1.key" -noout 2>/dev/null &&
    fail "the key file loads without the TPM"
openssl x509 -in "$T/h1.crt" -noout -text > "$T/h1.crt.txt" || fail "certificate"
grep -q "URI:spiffe://example.org/host/h1" "$T/h1.crt.txt" || fail "no SPIFFE SAN"
grep -q "Subject: CN *= *h1" "$T/h1.crt.txt" || fail "subject"
grep -q "CA:FALSE" "$T/h1.crt.txt" || fail "basicConstraints"
grep -q "TLS Web Client Authentication" "$T/h1.crt.txt" || fail "EKU"
openssl verify -CAfile "$T/h1.chain" "$T/h1.crt" >/dev/null || fail "does not chain to the identity CA"
cmp -s "$T/h1.chain" "$T/idca.pem" || fail "chain is not the identity CA"
nb=$(date -d "$(openssl x509 -in "$T/h1.crt" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$T/h1.crt" -noout -enddate | cut -d= -f2)" +%s)
[ $((na - nb)) -le $((3 * INTERVAL + 10)) ] || fail "lifetime $((na - nb)) s"
# The certified key is the TPM's: the provider reads the public half.
TCTI=$(swtpm_tcti "$T/tpm-h1")
OPENSSL_CONF= TPM2OPENSSL_TCTI=$TCTI timeout 20 openssl pkey -provider tpm2 -provider default -in "$T/h1.key" -pubout \
    -out "$T/h1.keypub" 2>"$T/pkey.log" || fail "tpm2 provider: $(cat "$T/pkey.log")"
openssl x509 -in "$T/h1.crt" -noout -pubkey > "$T/h1.certpub"
cmp -s "$T/h1.keypub" "$T/h1.certpub" || fail "certificate is not for the TPM key"

step "the signed result names the identity key (cnf.jkt, RFC 7638), checked by python3-jwt"
api GET /v1/keys > "$T/jwks.json" || fail "keys"
api GET /v1/agents/h1/result > "$T/h1.jwt" || fail "result"
/usr/bin/python3 "$ROOT/tests/tools/ear_check.py" cnf "$T/jwks.json" "$T/h1.jwt" \
    "$T/h1.crt" h1 || fail "cnf.jkt is not the identity key's thumbprint"

step "GET /v1/agents/ID/identity: admin and the agent itself; another agent 404"
api GET /v1/agents/h1/identity > "$T/id.json" || fail "identity as admin: $(cat "$T/status")"
grep -q '"spiffe_id": *"spiffe://example.org/host/h1"' "$T/id.json" || fail "$(cat "$T/id.json")"
api GET /v1/agents/h1 | grep -q '"identity_key": *{"public_sha256"' ||
    fail "agent detail does not show the certified identity key"
api_as agent-h1 GET /v1/agents/h1/identity >/dev/null || fail "own identity"
api_as agent-x1 GET /v1/agents/h1/identity >/dev/null && fail "x1 read h1's identity"
[ "$(cat "$T/status")" = 404 ] || fail "other agent: $(cat "$T/status")"

step "the relying party accepts the host's TPM key while it is trusted"
RP_PORT=$(free_port)
rp_server_start "$RP_PORT" "$T/idca.pem"
rp_client "$RP_PORT" "$TCTI" "$T/h1.key" "$T/h1.crt" ||
    fail "relying party refused a trusted host: $(tail -n 5 "$T/rp/client.log")"
# The same certificate with a key the TPM does not hold: refused.
openssl ecparam -genkey -name prime256v1 -noout -out "$T/soft.key" 2>/dev/null
printf 'GET / HTTP/1.0\r\n\r\n' | env -u OPENSSL_CONF timeout 20 openssl s_client \
    -connect "127.0.0.1:$RP_PORT" -tls1_3 -key "$T/soft.key" -cert "$T/h1.crt" \
    -CAfile "$T/rp/server.pem" -ign_eof > "$T/soft.log" 2>&1 &&
    grep -q 'HTTP/1.0 200 ok' "$T/soft.log" && fail "a software key passed with h1's certificate"

step "renewed while trusted (a new certificate once half the lifetime is gone)"
s1=$(serial "$T/h1.crt")
sleep $((2 * INTERVAL + 1))
i=0	# a loaded machine may delay the round that renews it
while [ "$(serial "$T/h1.crt")" = "$s1" ]; do
	i=$((i + 1))
	[ "$i" -lt $((20 * INTERVAL)) ] || fail "certificate not renewed"
	sleep 0.5
done
# Certified once or twice (unasked after the start, asked while none on record), not per round.
n=$(grep -c "identity: key certified" "$T/agent-h1.log")
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || fail "the key was certified $n times"

step "the host's key replaced: the agent certifies the new one unasked, and gets its certificate"
agent_stop h1
rm -f "$T/h1.key" "$T/h1.crt"
agent_start h1
wait_file "$T/h1.crt" 20 || fail "no certificate for the new key"
OPENSSL_CONF= TPM2OPENSSL_TCTI=$TCTI timeout 20 openssl pkey -provider tpm2 -provider default \
    -in "$T/h1.key" -pubout -out "$T/h1.keypub2" 2>"$T/pkey.log" || fail "pkey: $(cat "$T/pkey.log")"
cmp -s "$T/h1.keypub" "$T/h1.keypub2" && fail "the new key is the old one"
openssl x509 -in "$T/h1.crt" -noout -pubkey > "$T/h1.certpub"
cmp -s "$T/h1.keypub2" "$T/h1.certpub" || fail "certificate is not for the new key"

step "untrusted: nothing issued any more, and the last certificate expires"
timeout 10 tpm2_pcrextend -T "$TCTI" \
    16:sha256=0000000000000000000000000000000000000000000000000000000000000001 ||
    fail "pcrextend"
wait_state h1 untrusted 30 || fail "h1 not untrusted"
api GET /v1/agents/h1/identity >/dev/null && fail "identity issued to an untrusted host"
[ "$(cat "$T/status")" = 409 ] || fail "untrusted: $(cat "$T/status")"
grep -q "untrusted" "$T/resp" || fail "reason: $(cat "$T/resp")"
api GET /v1/agents/h1/result > "$T/h1u.jwt" || fail "result"
/usr/bin/python3 -c 'import jwt,sys; c=jwt.decode(open(sys.argv[1]).read().strip(), options={"verify_signature": False}); assert "cnf" not in c, c' \
    "$T/h1u.jwt" || fail "an untrusted host's result still names its key"
s2=$(serial "$T/h1.crt")
na=$(date -d "$(openssl x509 -in "$T/h1.crt" -noout -enddate | cut -d= -f2)" +%s)
now=$(date +%s)
[ "$na" -gt "$now" ] && sleep $((na - now + 1))
[ "$(serial "$T/h1.crt")" = "$s2" ] || fail "a certificate was issued while untrusted"
rp_client "$RP_PORT" "$TCTI" "$T/h1.key" "$T/h1.crt" &&
    fail "relying party accepted an expired identity"
grep -q "certificate has expired" "$T/rp/server.log" ||
    fail "not refused for expiry: $(tail -n 5 "$T/rp/server.log")"

step "attack: an imported (known) key offered as the identity key is refused"
agent_start x1
wait_registered x1 30 || fail "x1 did not enroll"
agent_stop x1
XT=$(swtpm_tcti "$T/tpm-x1")
openssl ecparam -genkey -name prime256v1 -noout -out "$T/x1.soft" 2>/dev/null
{
	timeout 20 tpm2_createprimary -T "$XT" -C o -g sha256 -G ecc256:null:aes128cfb \
	    -a 'restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda' \
	    -c "$T/srk.ctx" &&
	timeout 20 tpm2_evictcontrol -T "$XT" -C o -c "$T/srk.ctx" 0x81000001 &&
	timeout 20 tpm2_flushcontext -T "$XT" -t &&
	timeout 20 tpm2_import -T "$XT" -C 0x81000001 -G ecc -i "$T/x1.soft" \
	    -u "$T/x1.pub" -r "$T/x1.priv" &&
	timeout 20 tpm2_encodeobject -T "$XT" -C 0x81000001 -u "$T/x1.pub" \
	    -r "$T/x1.priv" -p -o "$T/x1.key" &&
	timeout 20 tpm2_flushcontext -T "$XT" -l
} > "$T/import.log" 2>&1 || fail "import: $(cat "$T/import.log")"
ident_yaml x1
agent_start x1
policy_pin px "$T/tpm-x1" 16
admit x1 px
wait_state x1 untrusted 30 || fail "x1 with an imported key is not untrusted"
api GET /v1/agents/x1 | grep -q '"reason": *"identity.key"' ||
    fail "reason not identity.key: $(cat "$T/resp")"
grep -q "identity key attribute" "$T/resp" || fail "detail: $(cat "$T/resp")"
api GET /v1/agents/x1/identity >/dev/null && fail "identity issued for an imported key"
[ ! -s "$T/x1.crt" ] || fail "x1 holds a certificate"

step "push mode: the verdict carries the identity"
d=$T/tpm-p1
swtpm_make "$d" rsa "$T/tpmca" || fail "swtpm_make p1"
swtpm_start "$d" || fail "swtpm_start p1"
TPMS="$TPMS $d"
cat > "$T/agent-p1.yaml" <<EOY
id: p1
mode: push
tcti: $(swtpm_tcti "$d")
verifier:
  address: 127.0.0.1:$VPORT
  name: verifier
tls:
  cert: pki/agent-p1.pem
  key: pki/agent-p1.key
  ca: pki/ca.pem
quote_rate: 50
ima:
  path: ""
eventlog:
  path: ""
EOY
ident_yaml p1
"$ASSAY_BIN/assay-agent" -f -v -c "$T/agent-p1.yaml" >>"$T/agent-p1.log" 2>&1 &
PIDS="$PIDS $!"
wait_registered p1 30 || fail "p1 did not enroll"
policy_pin pp "$d" 16
admit p1 pp
wait_state p1 trusted 30 || fail "p1 not trusted"
wait_file "$T/p1.crt" 20 || fail "p1 wrote no identity certificate"
openssl x509 -in "$T/p1.crt" -noout -ext subjectAltName | grep -q "spiffe://example.org/host/p1" ||
    fail "p1's certificate"
rp_client "$RP_PORT" "$(swtpm_tcti "$d")" "$T/p1.key" "$T/p1.crt" ||
    fail "relying party refused p1: $(tail -n 5 "$T/rp/client.log")"
rp_server_stop
echo "PASS"
