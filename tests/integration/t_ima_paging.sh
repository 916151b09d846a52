#!/bin/sh
# IMA lists in pages: a verifier asking 16 entries a round (ima_page_entries)
# attests a host whose list holds ~130 entries. Rounds whose page falls
# short of the quoted PCR 10 are held (nothing judged, the host keeps its
# state) and the next page is asked at once, not after the 30 s interval;
# the host becomes trusted once a page reaches the quote and is never
# unreachable. A second burst of entries pages again; an unknown file in
# its last page is still caught (ima.not_allowed, naming the file).
. "$(dirname "$0")/../lib/assay.sh"

PAGE=16
pki_init h
INTERVAL=30 verifier_start "ima_page_entries: $PAGE"
IMA_LIST="$T/ima-h.list" agent_start h
wait_registered h 30 || fail "h did not enroll"
F=$T/files

step "a list of ~130 entries, most under an excluded tree"
mkdir -p "$F/usr/bin" "$F/lib"
for f in sh rogue; do
	printf '#!/bin/true %s\n' "$f" > "$F/usr/bin/$f"
done
files=""
i=0
while [ "$i" -lt 128 ]; do
	printf 'lib %d\n' "$i" > "$F/lib/l$i.so"
	files="$files $F/lib/l$i.so"
	i=$((i + 1))
done
ima h boot
# shellcheck disable=SC2086
ima h file "$F/usr/bin/sh" $files
n=$(( $(stat -c %s "$T/ima-h.list") ))
[ "$n" -gt 0 ] || fail "empty list"

cat > "$T/fleet.yaml" <<EOY
name: fleet
bank: sha256
ima:
  allow:
    $F/usr/bin/sh: ["sha256:$(sha256 "$F/usr/bin/sh")"]
  exclude: ["$F/lib/**"]
  unknown: fail
EOY
code=$(curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" -X PUT \
    --data-binary "@$T/fleet.yaml" "https://127.0.0.1:$VPORT/v1/policies/fleet")
[ "$code" -lt 300 ] || fail "policy upload: $code $(cat "$T/resp")"

step "paged to trusted well within one 30 s interval"
start=$(date +%s)
admit h fleet
wait_state h trusted 20 || fail "h not trusted after paging"
took=$(( $(date +%s) - start ))
held=$(grep -c "agent h: IMA page held" "$T/verifier.log")
[ "$held" -ge 6 ] || fail "only $held held pages (130 entries / $PAGE a page)"
echo "trusted after $held held pages in ${took}s"

step "the agent serves one page: at most ima_max entries, \"more\" while some remain"
N=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
sleep 1	# the agent's quote rate
curl -sS --fail --max-time 10 --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/verifier.pem" --key "$T/pki/verifier.key" \
    "https://127.0.0.1:$(agent_port h)/v1/quote?nonce=$N&pcrs=sha256:10&ima_from=3&ima_max=$PAGE" \
    > "$T/page.json" || fail "quote from the agent"
[ "$(jq -r .ima.from "$T/page.json")" = 3 ] || fail "page from: $(jq -c .ima "$T/page.json" | cut -c1-200)"
[ "$(jq -r .ima.count "$T/page.json")" = "$PAGE" ] || fail "page count: $(jq -r .ima.count "$T/page.json")"
[ "$(jq -r .ima.more "$T/page.json")" = true ] || fail "no \"more\" on a middle page"
sleep 1
curl -sS --fail --max-time 10 --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/verifier.pem" --key "$T/pki/verifier.key" \
    "https://127.0.0.1:$(agent_port h)/v1/quote?nonce=$N&pcrs=sha256:10&ima_from=125&ima_max=$PAGE" \
    > "$T/page.json" || fail "quote from the agent"
[ "$(jq -r .ima.count "$T/page.json")" = 5 ] || fail "tail count: $(jq -r .ima.count "$T/page.json")"
[ "$(jq -r .ima.more "$T/page.json")" = null ] || fail "\"more\" on the last page"

step "a second burst pages again; an unknown file in its last page is caught"
files=""
i=200
while [ "$i" -lt 260 ]; do
	printf 'lib %d\n' "$i" > "$F/lib/l$i.so"
	files="$files $F/lib/l$i.so"
	i=$((i + 1))
done
# shellcheck disable=SC2086
ima h file $files
ima h file "$F/usr/bin/rogue"
before=$held
api POST /v1/agents/h/attest >/dev/null || fail "attest now"
wait_state h untrusted 20 || fail "rogue file in the last page not caught"
api GET /v1/agents/h | grep -q '"reason": *"ima.not_allowed"' ||
    fail "wanted ima.not_allowed: $(api GET /v1/agents/h)"
api GET /v1/agents/h | grep -q "usr/bin/rogue" || fail "detail does not name the file"
held=$(grep -c "agent h: IMA page held" "$T/verifier.log")
[ "$held" -ge $((before + 3)) ] || fail "second burst not paged ($before -> $held)"

step "never unreachable"
if api GET "/v1/agents/h/events?limit=1000" | grep -q "unreachable"; then
	fail "h was unreachable: $(api GET "/v1/agents/h/events?limit=1000")"
fi
! grep -q "agent h: poll failed" "$T/verifier.log" ||
    fail "a poll failed: $(grep "agent h: poll failed" "$T/verifier.log" | head -3)"

echo "PASS"
