#!/bin/sh
# Fail closed when the store cannot write: the database file and its WAL are
# made immutable (chattr +i: refuses writes even to root, through the
# verifier's open descriptors) while a PCR extend makes a trusted host fail.
# The API shows it untrusted with pcr.value at once, /v1/health answers 503
# "store":"failing", /metrics has assay_store_failing 1 and a pending write,
# and no webhook has gone out. Once the file is writable again the queued
# change lands: health is ok, the event is in the history, the webhook
# arrives, and a restarted verifier still has the host untrusted.
# Retention runs with a small per-agent limit (events.max_per_agent) and
# its metrics move.
. "$(dirname "$0")/../lib/assay.sh"

command -v chattr >/dev/null || fail "chattr (e2fsprogs) is not installed"
IMMUTABLE=""
unfreeze()
{
	# shellcheck disable=SC2086
	[ -z "$IMMUTABLE" ] || chattr -i $IMMUTABLE 2>/dev/null
	IMMUTABLE=""
}
trap 'unfreeze; cleanup' EXIT

HOOKS=$T/hooks.jsonl

# hook_seen OLD NEW — a webhook body for a1 with these states was received.
hook_seen()
{
	[ -f "$HOOKS" ] && grep '"agent": *"a1"' "$HOOKS" |
	    grep "\"old_state\": *\"$1\"" | grep -q "\"new_state\": *\"$2\""
}

wait_for()
{
	lim=$(($1 * 10))
	shift
	i=0
	until "$@"; do
		i=$((i + 1))
		[ "$i" -lt "$lim" ] || return 1
		sleep 0.1
	done
}

metric()
{
	api GET /metrics | sed -n "s/^$1 //p"
}

health_is()
{
	api GET /v1/health > "$T/health.json" 2>/dev/null
	[ "$(cat "$T/status")" = "$1" ]
}

step "PKI, webhook receiver, verifier with a webhook and event retention"
pki_init a1 hookrx
HPORT=$(free_port)
webhook_rx_start
verifier_start "$(webhook_yaml "events:" "  max_per_agent: 3" \
    "  prune_interval: 1")"
health_is 200 || fail "health not 200 at start: $(cat "$T/health.json")"
grep -q '"store": *"ok"' "$T/health.json" || fail "health lacks store ok"

step "agent enrolls, is admitted, becomes trusted"
agent_start a1 ecc
wait_registered a1 30 || fail "a1 did not enroll"
policy_pin pin16 "$T/tpm-a1" 16
admit a1 pin16
wait_state a1 trusted 20 || fail "a1 not trusted"
wait_for 30 hook_seen pending trusted || fail "no pending -> trusted webhook"

step "the database becomes unwritable; PCR 16 is extended"
[ -f "$T/verifier.db-wal" ] || fail "no WAL file"
IMMUTABLE="$T/verifier.db $T/verifier.db-wal"
# shellcheck disable=SC2086
chattr +i $IMMUTABLE || fail "chattr +i"
timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-a1")" \
    16:sha256=0000000000000000000000000000000000000000000000000000000000000001 ||
    fail "pcrextend"

step "fail closed: untrusted in the API at once, health and metrics say so"
wait_state a1 untrusted 20 || fail "a1 not untrusted while the store fails"
api GET /v1/agents/a1 | grep -q '"reason": *"pcr.value"' || fail "reason is not pcr.value"
wait_for 10 health_is 503 || fail "health not 503: $(cat "$T/health.json")"
grep -q '"store": *"failing"' "$T/health.json" || fail "health lacks store failing"
grep -q '"store_error": *"[^"]' "$T/health.json" || fail "health lacks the store error"
[ "$(metric assay_store_failing)" = 1 ] || fail "assay_store_failing is not 1"
[ "$(metric assay_store_pending_writes)" -ge 1 ] || fail "no pending write counted"
grep -q "store write failed, change kept in memory" "$T/verifier.log" ||
    fail "the failed write is not logged"
hook_seen trusted untrusted && fail "webhook sent before the change was stored"
api GET "/v1/agents/a1/events?limit=20" | grep -q '"failure_id": *"pcr.value"' &&
    fail "event in the history before it was written"
sleep 2		# a few more failing rounds queue behind (coalesced)

step "the disk is back: state, event and webhook land"
unfreeze
wait_for 40 health_is 200 || fail "health did not recover: $(cat "$T/health.json")"
grep -q '"store": *"ok"' "$T/health.json" || fail "health lacks store ok after recovery"
[ "$(metric assay_store_failing)" = 0 ] || fail "assay_store_failing is not 0"
[ "$(metric assay_store_pending_writes)" = 0 ] || fail "writes still pending"
api GET "/v1/agents/a1/events?limit=20" > "$T/events.json"
grep -q '"failure_id": *"pcr.value"' "$T/events.json" || fail "pcr.value event did not land"
wait_for 20 hook_seen trusted untrusted || fail "no trusted -> untrusted webhook"
grep -q "queued changes written" "$T/verifier.log" || fail "recovery not logged"

step "retention keeps at most 3 events for a1; size metrics are there"
i=0
until [ "$(metric assay_events_pruned_total)" -ge 1 ] 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || fail "nothing pruned with events.max_per_agent 3"
	sleep 0.1
done
n=$(api GET "/v1/agents/a1/events?limit=100" | grep -o '"seq"' | wc -l)
[ "$n" -le 3 ] || fail "a1 has $n events, max_per_agent is 3"
[ "$(metric assay_store_size_bytes)" -gt 0 ] || fail "assay_store_size_bytes"
[ -n "$(metric assay_store_events)" ] || fail "assay_store_events missing"

step "a restarted verifier has a1 untrusted from the store"
kill "$VPID"
wait "$VPID" 2>/dev/null
verifier_start
[ "$(agent_state a1)" = untrusted ] || fail "a1 is $(agent_state a1) after restart"
echo "PASS"
