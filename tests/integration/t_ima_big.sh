#!/bin/sh
# A 200 MB IMA delta (issue 10): a trusted host's list grows by ~50,000
# entries of ~4 KB names (the longest paths a kernel records) at once, then
# one unknown file. The verifier takes it in pages (40 MiB of list at most
# per document) over several rounds, each replayed against the quote, and
# catches the unknown file at the very end, which only a complete replay
# can reach; the host is never unreachable and no poll fails. Then the
# same list again from its start (the policy re-uploaded) under a budget
# of 16 MiB of list in flight (ima_inflight_mb, reloaded by SIGHUP): more,
# smaller pages, the same end, and a smaller peak RSS. Prints the pages,
# the time and the verifier's peak RSS of each. Loopback only.
. "$(dirname "$0")/../lib/assay.sh"

COUNT=${IMA_BIG_COUNT:-50000}
NAMELEN=4000
pki_init h
INTERVAL=30 verifier_start
IMA_LIST="$T/ima-h.list" agent_start h
wait_registered h 30 || fail "h did not enroll"
F=$T/files
mkdir -p "$F"
printf '#!/bin/true sh\n' > "$F/sh"
printf '#!/bin/true rogue\n' > "$F/rogue"
ima h boot
ima h file "$F/sh"
cat > "$T/fleet.yaml" <<EOY
name: fleet
bank: sha256
ima:
  allow:
    $F/sh: ["sha256:$(sha256 "$F/sh")"]
  exclude: ["/bulk/**"]
  unknown: fail
EOY
code=$(curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" -X PUT \
    --data-binary "@$T/fleet.yaml" "https://127.0.0.1:$VPORT/v1/policies/fleet")
[ "$code" -lt 300 ] || fail "policy upload: $code $(cat "$T/resp")"
admit h fleet
wait_state h trusted 20 || fail "h not trusted"

step "the list grows by $COUNT entries of $NAMELEN-byte names, then a rogue file"
t0=$(date +%s)
ima h bulk "$COUNT" "$NAMELEN"
ima h file "$F/rogue"
size=$(stat -c %s "$T/ima-h.list")
echo "list: $size bytes ($(( size / 1048576 )) MiB) after $(( $(date +%s) - t0 )) s"
[ "$size" -gt 200000000 ] || fail "list is only $size bytes"

# verified_to_the_end LABEL MINPAGES — attest now, wait for the rogue
# file's verdict with the host never leaving trusted before it; print the
# pages held, the time and the peak RSS ($maxrss - $rss0 in kB after).
verified_to_the_end() {
	rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$VPID/status")
	maxrss=$rss0
	held0=$(grep -c "agent h: IMA page held" "$T/verifier.log")
	t0=$(date +%s)
	api POST /v1/agents/h/attest >/dev/null || fail "attest now"
	i=0
	while [ "$i" -lt 600 ]; do
		s=$(agent_state h)
		[ "$s" = untrusted ] && break
		[ "$s" = trusted ] || [ "$s" = pending ] ||
		    fail "h became '$s' while its list was paged"
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$VPID/status")
		[ "$r" -gt "$maxrss" ] && maxrss=$r
		i=$((i + 1))
		sleep 0.5
	done
	took=$(( $(date +%s) - t0 ))
	[ "$(agent_state h)" = untrusted ] || fail "$1: rogue file not reached in 300 s"
	api GET /v1/agents/h | grep -q '"reason": *"ima.not_allowed"' ||
	    fail "$1: wanted ima.not_allowed: $(api GET /v1/agents/h)"
	api GET /v1/agents/h | grep -q "$F/rogue" ||
	    fail "$1: detail does not name the rogue file"
	held=$(( $(grep -c "agent h: IMA page held" "$T/verifier.log") - held0 ))
	echo "$1: $held pages held before the last, ${took}s; verifier RSS" \
	    "${rss0} kB -> max ${maxrss} kB (+$(( maxrss - rss0 )) kB)"
	[ "$held" -ge "$2" ] || fail "$1: only $held held pages for $size bytes"
	if api GET "/v1/agents/h/events?limit=1000" | grep -q "unreachable"; then
		fail "h was unreachable: $(api GET "/v1/agents/h/events?limit=1000")"
	fi
	! grep -q "agent h: poll failed" "$T/verifier.log" ||
	    fail "a poll failed: $(grep "agent h: poll failed" "$T/verifier.log" | head -3)"
}

step "verified page by page to the rogue file at the end, never unreachable"
verified_to_the_end "default budget" 4
grow1=$(( maxrss - rss0 ))

step "again from the start under a 16 MiB budget: smaller pages, less memory"
echo "ima_inflight_mb: 16" >> "$T/verifier.yaml"
kill -HUP "$VPID"
sleep 0.5
code=$(curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" -X PUT \
    --data-binary "@$T/fleet.yaml" "https://127.0.0.1:$VPORT/v1/policies/fleet")
[ "$code" -lt 300 ] || fail "policy re-upload: $code $(cat "$T/resp")"
verified_to_the_end "16 MiB budget" 11
curl -sS --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" \
    --key "$T/pki/admin.key" "https://127.0.0.1:$VPORT/metrics" > "$T/metrics"
grep -q '^assay_ima_inflight_bytes ' "$T/metrics" || fail "no IMA budget gauge"
[ $(( maxrss - rss0 )) -lt 131072 ] ||
    fail "RSS grew by $(( maxrss - rss0 )) kB under a 16 MiB budget"
echo "PASS t_ima_big"
