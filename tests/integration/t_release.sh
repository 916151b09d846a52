#!/bin/sh
# From the build to the fleet with examples/ci/release-policy.sh against
# real daemons: each release builds a .deb, generates its reference values
# into the kept policy (an update window of two releases), signs them,
# checks the signature offline, previews, uploads (the verifier takes only
# envelopes of the release key) and tries it on a canary before promoting.
# Two hosts run the packaged program (IMA played on their swtpm). A third
# release would drop the version h2 still runs: the preview names h2, the
# failure id and the entry, the pipeline stops, and nothing changes (no
# new version, h2 still trusted, no state written).
. "$(dirname "$0")/../lib/assay.sh"

PY=${PYTHON:-/usr/bin/python3}
SCRIPT=$ROOT/examples/ci/release-policy.sh
SRC=$ROOT/examples/ci/demo-app
command -v dpkg-deb >/dev/null || fail "dpkg-deb missing"

field()
{
	"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# release VERSION [VAR=VALUE...] — run the pipeline as CI would
release()
{
	_v=$1
	shift
	env POLICY=demo-app POLICY_FILE="$T/demo-app.yaml" OUT="$T/out" \
	    SIGNING_KEY="$T/release.key" SIGNER_PUB="$T/release.pub" \
	    ASSAYCTL="$ASSAY_BIN/assayctl" ASSAY_VERIFIER="127.0.0.1:$VPORT" \
	    ASSAY_CERT="$T/pki/admin.pem" ASSAY_KEY="$T/pki/admin.key" \
	    ASSAY_CA="$T/pki/ca.pem" "$@" sh "$SCRIPT" "$SRC" "$_v"
}

# bin_digest VERSION — sha256 of the program the VERSION package installs
bin_digest()
{
	rm -rf "$T/x"
	dpkg-deb -x "$T/out/demo-app_$1_all.deb" "$T/x" || fail "extract $1"
	sha256 "$T/x/usr/bin/demo-app"
}

step "a release key the verifier trusts for demo-app"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$T/release.key" 2>/dev/null || fail "key"
openssl pkey -in "$T/release.key" -pubout -out "$T/release.pub" || fail "pub"
INTERVAL=1
export INTERVAL
pki_init h1 h2
verifier_start "$(printf 'policy_signers:\n  demo-app: release.pub')"
IMA_LIST="$T/ima-h1.list" agent_start h1
IMA_LIST="$T/ima-h2.list" agent_start h2
wait_registered h1 30 || fail "h1 did not enroll"
wait_registered h2 30 || fail "h2 did not enroll"

step "release 1.0-1: built, hashed, signed, previewed, uploaded"
release 1.0-1 > "$T/r1.log" 2>&1 || fail "release 1.0-1: $(cat "$T/r1.log")"
grep -q "version 1 uploaded" "$T/r1.log" || fail "r1: $(cat "$T/r1.log")"
d10=$(bin_digest 1.0-1)
grep -q "$d10" "$T/demo-app.yaml" || fail "policy lacks the 1.0-1 binary"
for h in h1 h2; do
	ima $h boot
	ima $h digest /usr/bin/demo-app "$d10"
	admit $h demo-app
done
wait_state h1 trusted 30 || fail "h1 not trusted with 1.0-1"
wait_state h2 trusted 30 || fail "h2 not trusted with 1.0-1"

step "release 1.1-1 on canary h1, promoted once h1 is trusted with it"
release 1.1-1 CANARY=h1 PROMOTE=1 > "$T/r2.log" 2>&1 ||
    fail "release 1.1-1: $(cat "$T/r2.log")"
d11=$(bin_digest 1.1-1)
[ "$d10" != "$d11" ] || fail "the two builds are the same binary"
grep -q "$d10" "$T/demo-app.yaml" && grep -q "$d11" "$T/demo-app.yaml" ||
    fail "the update window lacks a release: $(cat "$T/demo-app.yaml")"
api GET /v1/policies/demo-app/versions > "$T/vers.json"
[ "$(field "$T/vers.json" 'j["in_force"]')" = 2 ] || fail "1.1-1 not in force"
[ "$(field "$T/vers.json" 'j["versions"][1]["signer"] is not None')" = True ] ||
    fail "no signer recorded"
ima h1 digest /usr/bin/demo-app "$d11"	# h1 updates, h2 does not yet
sleep 3
wait_state h1 trusted 10 || fail "h1 untrusted after its update"
wait_state h2 trusted 10 || fail "h2 untrusted on the old release"

step "release 1.2-1 would drop 1.0-1, which both hosts measured this boot: preview stops it"
# h1 updated to 1.1-1 but has not rebooted: its measurement list still
# holds the 1.0-1 binary it ran, so closing the window fails it too.
before=$(api GET /v1/agents/h2)
release 1.2-1 > "$T/r3.log" 2>&1 && fail "release 1.2-1 went out: $(cat "$T/r3.log")"
grep -q "would fail hosts: not uploaded" "$T/r3.log" || fail "r3: $(cat "$T/r3.log")"
for h in h1 h2; do
	grep -q "^$h .*trusted *-> untrusted" "$T/r3.log" || fail "$h not named: $(cat "$T/r3.log")"
done
grep -q "ima.not_allowed: /usr/bin/demo-app: sha256:$d10" "$T/r3.log" ||
    fail "no failure id and entry: $(cat "$T/r3.log")"
grep -q "2 of 2 hosts would fail" "$T/r3.log" || fail "count: $(cat "$T/r3.log")"
api GET /v1/policies/demo-app/versions > "$T/vers.json"
[ "$(field "$T/vers.json" 'len(j["versions"])')" = 2 ] || fail "a version was added"
wait_state h2 trusted 5 || fail "the preview changed h2"
after=$(api GET /v1/agents/h2)
[ "$(echo "$before" | json_field policy_version)" = \
  "$(echo "$after" | json_field policy_version)" ] || fail "h2's version changed"
cmp -s "$T/demo-app.yaml" "$T/out/demo-app.yaml" && fail "the kept policy took the refused release"

step "release 1.2-1 keeping three releases passes the preview and goes out"
release 1.2-1 KEEP=3 > "$T/r4.log" 2>&1 || fail "release 1.2-1 (keep 3): $(cat "$T/r4.log")"
grep -q "0 of 2 hosts would fail" "$T/r4.log" || fail "r4 preview: $(cat "$T/r4.log")"
grep -q "version 3 uploaded" "$T/r4.log" || fail "r4: $(cat "$T/r4.log")"
wait_state h1 trusted 10 || fail "h1 with 1.2-1"
wait_state h2 trusted 10 || fail "h2 with 1.2-1"

step "the audit trail of h1 (versions 1, the canary, promoted, 3) re-verifies offline"
"$ASSAY_BIN/assayctl" --verifier "127.0.0.1:$VPORT" --cert "$T/pki/admin.pem" \
    --key "$T/pki/admin.key" --ca "$T/pki/ca.pem" audit export --agent h1 \
    -o "$T/h1.ndjson" || fail "audit export"
"$ASSAY_BIN/assayctl" audit verify "$T/h1.ndjson" > "$T/av.out" 2>&1 ||
    fail "audit verify: $(cat "$T/av.out")"
grep -q " 0 problems" "$T/av.out" || fail "audit: $(cat "$T/av.out")"
[ "$(grep -c '"kind":"policy"' "$T/h1.ndjson")" -ge 3 ] ||
    fail "the export lacks the versions' texts: $(grep -c '"kind":"policy"' "$T/h1.ndjson")"

step "a draft (unsigned) may be previewed, never uploaded; a forged envelope is refused"
printf 'name: demo-app\nbank: sha256\n' > "$T/open.yaml"
api POST /v1/policies/demo-app/preview "$(cat "$T/open.yaml")" > "$T/pv.json" ||
    fail "draft preview: $(cat "$T/resp")"
[ "$(field "$T/pv.json" 'j["would_fail"]')" = 0 ] || fail "draft: $(cat "$T/pv.json")"
[ "$(field "$T/pv.json" 'j["signer"]')" = None ] || fail "draft signer"
"$ASSAY_BIN/assayctl" policy sign --key "$T/pki/admin.key" -o "$T/forged.dsse" \
    "$T/open.yaml" 2>/dev/null ||
    openssl genpkey -algorithm ed25519 -out "$T/other.key" 2>/dev/null
[ -f "$T/forged.dsse" ] || "$ASSAY_BIN/assayctl" policy sign --key "$T/other.key" \
    -o "$T/forged.dsse" "$T/open.yaml" || fail "sign forged"
api POST /v1/policies/demo-app/preview "$(cat "$T/forged.dsse")" >/dev/null &&
    fail "forged envelope previewed"
[ "$(cat "$T/status")" = 403 ] || fail "forged: $(cat "$T/status")"
echo "PASS"
