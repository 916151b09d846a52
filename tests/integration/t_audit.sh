#!/bin/sh
# The audit trail end to end: a host (an IMA list asked in pages of 3, so
# some rounds are held pages, and a policy pinning PCR 16) goes trusted ->
# untrusted (PCR 16 extended) -> reset -> trusted again (PCR 16 reset
# first); `assayctl audit export` then `assayctl audit verify` re-runs
# every round offline and passes, and an independent recomputation
# (Python) of every record hash agrees with the man page's rule (the
# rounds' evidence stored as received, binary form 3), also
# after a spell of failing store writes (the rounds queued meanwhile land
# in order with their records). Then each tampering is detected: an edited
# verdict (with and without its hash recomputed), a deleted middle record,
# a deleted last record, a changed evidence byte, and a row deleted from
# the database. A deleted agent's trail stays, its delete record last.
. "$(dirname "$0")/../lib/assay.sh"

ctl() {
	"$ASSAY_BIN/assayctl" --verifier "127.0.0.1:$VPORT" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" --ca "$T/pki/ca.pem" "$@"
}
F=$T/files

step "verifier with the audit trail, one agent with an IMA list"
pki_init h
# IMA pages of 3 entries: a longer list comes in held pages (their
# carried state recorded and re-run too).
verifier_start "audit_retention: 3600
ima_page_entries: 3"
IMA_LIST="$T/ima-h.list" agent_start h ecc
wait_registered h 30 || fail "h did not enroll"
mkdir -p "$F"
for f in sh ls; do
	printf '#!/bin/true %s\n' "$f" > "$F/$f"
done
ima h boot
ima h file "$F/sh"

step "admit with a policy (IMA allowlist, PCR 16 pinned): trusted"
val=$(timeout 10 tpm2_pcrread -T "$(swtpm_tcti "$T/tpm-h")" sha256:16 |
    sed -n 's/^ *16 *: *0x\([0-9A-Fa-f]*\).*/\1/p')
[ -n "$val" ] || fail "cannot read PCR 16"
{
	echo "name: fleet"
	echo "bank: sha256"
	echo "pcrs:"
	echo "  16: [\"$val\"]"
	echo "ima:"
	echo "  allow:"
	echo "    $F/sh: [\"sha256:$(sha256 "$F/sh")\"]"
	echo "    $F/ls: [\"sha256:$(sha256 "$F/ls")\"]"
	echo "  unknown: fail"
} > "$T/fleet.yaml"
code=$(curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" -X PUT \
    --data-binary "@$T/fleet.yaml" "https://127.0.0.1:$VPORT/v1/policies/fleet")
[ "$code" -lt 300 ] || fail "policy upload: $code $(cat "$T/resp")"
admit h fleet
wait_state h trusted 20 || fail "h not trusted"
ima h file "$F/ls" "$F/sh" "$F/ls" "$F/sh" "$F/ls" "$F/sh" "$F/ls"
sleep 3			# the carried IMA state moves on, page by page

step "PCR 16 extended: untrusted"
timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-h")" \
    16:sha256=0000000000000000000000000000000000000000000000000000000000000001 ||
    fail "pcrextend"
wait_state h untrusted 20 || fail "h not untrusted"
sleep 2

step "PCR 16 reset, admin reset: trusted again"
timeout 10 tpm2_pcrreset -T "$(swtpm_tcti "$T/tpm-h")" 16 || fail "pcrreset"
api POST /v1/agents/h/reset >/dev/null || fail "reset"
wait_state h trusted 20 || fail "h not trusted after the reset"
sleep 2

step "store writes fail for a while: the queued rounds land with their records"
command -v chattr >/dev/null || fail "chattr (e2fsprogs) is not installed"
IMMUTABLE="$T/verifier.db $T/verifier.db-wal"
trap 'r=$?; chattr -i $IMMUTABLE 2>/dev/null; (exit $r); cleanup' EXIT
n0=$(sqlite3 -cmd ".timeout 5000" "$T/verifier.db" "SELECT COUNT(*) FROM audit")
# shellcheck disable=SC2086
chattr +i $IMMUTABLE || fail "chattr +i"
sleep 3
# shellcheck disable=SC2086
chattr -i $IMMUTABLE
grep -q "store write failed\|round writes did not land" "$T/verifier.log" ||
    fail "store writes did not fail"
i=0
until api GET /v1/health >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "the store did not recover"
	sleep 0.1
done
sleep 1
n1=$(sqlite3 -cmd ".timeout 5000" "$T/verifier.db" "SELECT COUNT(*) FROM audit")
[ "$n1" -ge $((n0 + 2)) ] || fail "rounds while writes failed were not recorded ($n0 -> $n1)"

step "export and verify offline"
ctl audit export --agent h -o "$T/h.ndjson" || fail "audit export"
ctl audit verify "$T/h.ndjson" > "$T/verify.out" 2>&1 ||
    fail "audit verify: $(cat "$T/verify.out")"
cat "$T/verify.out"
grep -q "rounds re-verified" "$T/verify.out" || fail "no summary"
rounds=$(sed -n 's/.*; \([0-9]*\) rounds re-verified, \([0-9]*\) verdicts matched; 0 problems$/\1 \2/p' \
    "$T/verify.out")
set -- $rounds
[ "${1:-0}" -ge 4 ] && [ "$1" = "$2" ] || fail "rounds re-verified: $rounds"
python3 - "$T/h.ndjson" <<'EOF' || fail "the chain does not tell the story"
import json, sys
story = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["kind"] == "round":
        story.append(o["verdict"]["state"])
    elif o["kind"] not in ("agent", "policy", "head"):
        story.append(o["kind"])
want = ["enroll", "admit", "trusted", "untrusted", "reset", "trusted"]
i = 0
for s in story:
    if i < len(want) and s == want[i]:
        i += 1
assert i == len(want), "story %s" % story
print("story: " + " ".join(want))
EOF
grep -q '"failure_ids":\["pcr.value"\]' "$T/h.ndjson" || fail "no pcr.value round"
grep -q '"state":"held"' "$T/h.ndjson" || fail "no held IMA page round"
# the evidence is stored as received: binary form 3 (and re-verified above)
python3 - "$T/h.ndjson" <<'EOF' || fail "round evidence not in binary form 3"
import base64, json, sys
forms = set()
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["kind"] == "round":
        forms.add(base64.b64decode(o["evidence"])[:8])
assert forms == {b"ASSAYEV3"}, forms
EOF

step "the export in pages of 4 records is the same export"
api GET "/v1/agents/h/audit?after=2&limit=4" > "$T/page.ndjson" || fail "page"
tail -n 1 "$T/page.ndjson" | grep -q '"last":6' || fail "page: $(tail -n 1 "$T/page.ndjson")"
tail -n 1 "$T/page.ndjson" | grep -q '"more":true' || fail "page: no more"
ctl audit export --agent h --limit 4 -o "$T/paged.ndjson" || fail "paged export"
ctl audit verify "$T/paged.ndjson" > "$T/vp.out" 2>&1 ||
    fail "paged verify: $(cat "$T/vp.out")"
python3 - "$T/h.ndjson" "$T/paged.ndjson" <<'EOF' || fail "paged records differ"
import json, sys
def recs(path):
    return [l for l in open(path)
            if json.loads(l)["kind"] not in ("agent", "policy", "head")]
a, b = recs(sys.argv[1]), recs(sys.argv[2])
assert len(a) > 4 and b[:len(a)] == a, "%d vs %d records" % (len(a), len(b))
EOF

step "every hash recomputes independently (sorted compact JSON, SHA-256)"
python3 - "$T/h.ndjson" <<'EOF' || fail "independent hash check"
import hashlib, json, sys
prev = "0" * 64
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["kind"] in ("agent", "policy"):
        continue
    if o["kind"] == "head":
        assert o["hash"] == prev, "head"
        continue
    h = o.pop("hash")
    t = json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(t.encode()).hexdigest() == h, "seq %d" % o["seq"]
    assert n == 0 or o["prev"] == prev, "prev of seq %d" % o["seq"]
    prev, n = h, n + 1
print("%d hashes recomputed" % n)
EOF

# tamper PYCODE OUT — a copy of the export changed by PYCODE (on `lines`,
# a list of the parsed lines; `rounds`: indexes of round records).
tamper()
{
	python3 - "$T/h.ndjson" "$2" "$1" <<'EOF' || fail "tamper script"
import base64, hashlib, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
rounds = [i for i, o in enumerate(lines) if o.get("kind") == "round"]
recs = [i for i, o in enumerate(lines) if "seq" in o and o["kind"] != "head"]
def rehash(o):
    o.pop("hash", None)
    t = json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    o["hash"] = hashlib.sha256(t.encode()).hexdigest()
exec(sys.argv[3])
with open(sys.argv[2], "w") as f:
    for o in lines:
        f.write(json.dumps(o, sort_keys=True, separators=(",", ":")) + "\n")
EOF
}

# detected FILE PATTERN — verify fails and says PATTERN
detected()
{
	if ctl audit verify "$1" > "$T/v.out" 2>&1; then
		fail "$1: tampering not detected: $(cat "$T/v.out")"
	fi
	grep -q "$2" "$T/v.out" || fail "$1: wanted '$2': $(cat "$T/v.out")"
}

step "an edited verdict is detected (hash, and the re-run)"
bad='[i for i in rounds if lines[i]["verdict"]["state"] == "untrusted"][0]'
tamper "o = lines[$bad]; o['verdict']['state'] = 'trusted'; o['verdict']['failure_ids'] = []" \
    "$T/t1.ndjson"
detected "$T/t1.ndjson" "hash mismatch"
grep -q "re-run: verdict differs" "$T/v.out" || fail "re-run did not object: $(cat "$T/v.out")"

step "an edited verdict with its hash recomputed breaks the chain"
tamper "o = lines[$bad]; o['verdict']['state'] = 'trusted'; o['verdict']['failure_ids'] = []; rehash(o)" \
    "$T/t2.ndjson"
detected "$T/t2.ndjson" "prev does not match"
grep -q "re-run: verdict differs" "$T/v.out" || fail "re-run did not object: $(cat "$T/v.out")"

step "a deleted middle record is detected"
tamper "del lines[recs[len(recs) // 2]]" "$T/t3.ndjson"
detected "$T/t3.ndjson" "missing"

step "a deleted last record is detected (the head)"
tamper "del lines[recs[-1]]" "$T/t4.ndjson"
detected "$T/t4.ndjson" "head is seq"

step "a changed evidence byte is detected"
tamper "o = lines[rounds[-1]]; b = bytearray(base64.b64decode(o['evidence'])); b[len(b) // 2] ^= 1; o['evidence'] = base64.b64encode(bytes(b)).decode()" \
    "$T/t5.ndjson"
detected "$T/t5.ndjson" "hash mismatch"

step "a row deleted in the database is detected by the next export"
mid=$(sqlite3 -cmd ".timeout 5000" "$T/verifier.db" "SELECT seq FROM audit WHERE agent_id = 'h' ORDER BY seq LIMIT 1 OFFSET 3")
[ -n "$mid" ] || fail "no audit rows in the database"
sqlite3 -cmd ".timeout 5000" "$T/verifier.db" "DELETE FROM audit WHERE agent_id = 'h' AND seq = $mid" ||
    fail "sqlite3 delete"
ctl audit export --agent h -o "$T/h2.ndjson" || fail "audit export 2"
detected "$T/h2.ndjson" "seq $((mid + 1)) follows seq $((mid - 1))"

step "export --since leaves older records out and says where the chain starts"
ctl audit export --agent h --since 2s -o "$T/h3.ndjson" || fail "audit export --since"
ctl audit verify "$T/h3.ndjson" > "$T/v3.out" 2>&1 || true
grep -q "the chain starts after" "$T/v3.out" || fail "since: $(cat "$T/v3.out")"
step "a deleted agent's trail stays, ending with its delete record"
api DELETE /v1/agents/h >/dev/null || fail "delete"
ctl audit export --agent h --since 10s -o "$T/h4.ndjson" || fail "export after delete"
head -n 1 "$T/h4.ndjson" | grep -q '"deleted":true' || fail "header: not deleted"
grep -v '"kind":"head"' "$T/h4.ndjson" | tail -n 1 | grep -q '"kind":"delete"' ||
    fail "no delete record last"
grep -q '"actor":"admin"' "$T/h4.ndjson" || fail "delete record without its actor"
ctl audit verify "$T/h4.ndjson" > "$T/v4.out" 2>&1 || fail "verify after delete: $(cat "$T/v4.out")"
echo "PASS"
