#!/bin/sh
# /metrics parsed by the real Prometheus parser (python3-prometheus-client)
# has every family; state changes reach an mTLS webhook receiver (CA-pinned,
# client certificate) and the command hook (JSON on stdin, ASSAY_* env):
# registered -> pending -> trusted, then untrusted with pcr.value after a
# PCR extend. A notification queued while the receiver is down survives a
# kill -9 of the verifier and is delivered after the restart.
. "$(dirname "$0")/../lib/assay.sh"

PY=""
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import prometheus_client.parser' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || fail "python3-prometheus-client is not installed (tools/deps.sh)"

HOOKS=$T/hooks.jsonl
CMDOUT=$T/cmd.out


# hook_seen OLD NEW FAILURE|- MINSEQ — a received body with these states
# (and failure id, "-" for null) and event_seq > MINSEQ; prints its seq.
hook_seen()
{
	[ -f "$HOOKS" ] || return 1
	"$PY" - "$HOOKS" "$@" <<'EOF'
import json, sys
path, old, new, fid, minseq = sys.argv[1:6]
for line in open(path):
    b = json.loads(line)
    if set(b) != {"agent", "old_state", "new_state", "failure_id", "detail",
                  "time", "event_seq"}:
        print("bad body keys: %s" % sorted(b), file=sys.stderr)
        sys.exit(2)
    if (b["agent"] == "a1" and b["old_state"] == old and b["new_state"] == new
            and b["failure_id"] == (None if fid == "-" else fid)
            and b["event_seq"] > int(minseq) and b["time"].endswith("Z")):
        print(b["event_seq"])
        sys.exit(0)
sys.exit(1)
EOF
}

wait_hook()
{
	i=0
	until hook_seen "$@" >"$T/seq"; do
		i=$((i + 1))
		[ "$i" -lt 300 ] || return 1
		sleep 0.1
	done
}

step "PKI, webhook receiver, command hook, verifier with notify.*"
pki_init a1 hookrx
HPORT=$(free_port)
webhook_rx_start
cat > "$T/hook.sh" <<EOF
#!/bin/sh
cat >> "$CMDOUT"
echo "" >> "$CMDOUT"
echo "env \$ASSAY_AGENT \$ASSAY_OLD_STATE \$ASSAY_NEW_STATE \$ASSAY_FAILURE_ID" >> "$CMDOUT"
EOF
chmod +x "$T/hook.sh"
verifier_start "$(webhook_yaml "  command: $T/hook.sh")"

step "agent enrolls, is admitted, becomes trusted"
agent_start a1 ecc
wait_registered a1 30 || fail "a1 did not enroll"
policy_pin pin16 "$T/tpm-a1" 16
admit a1 pin16
wait_state a1 trusted 20 || fail "a1 not trusted"

step "webhook got registered -> pending -> trusted"
wait_hook registered pending - 0 || fail "no registered -> pending webhook"
wait_hook pending trusted - 0 || fail "no pending -> trusted webhook"

step "/metrics parses with prometheus_client and has every family"
api GET /metrics > "$T/metrics.txt" || fail "GET /metrics"
"$PY" - "$T/metrics.txt" <<'EOF' || fail "metrics check"
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
want = {
    "assay_agents": "gauge",
    "assay_attestations": "counter",
    "assay_failures": "counter",
    "assay_poll_errors": "counter",
    "assay_verify_duration_seconds": "histogram",
    "assay_verify_queue": "gauge",
    "assay_polls_inflight": "gauge",
    "assay_db_write_duration_seconds": "histogram",
    "assay_notifications_pending": "gauge",
    "assay_notifications_inflight": "gauge",
    "assay_notifications_sent": "counter",
    "assay_notifications_failed": "counter",
    "assay_notification_errors": "counter",
}
bad = [n for n, t in want.items() if n not in fams or fams[n].type != t]
if bad:
    print("missing or mistyped families:", bad, file=sys.stderr)
    sys.exit(1)
def value(fam, name, **labels):
    for s in fams[fam].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None
ok = value("assay_attestations", "assay_attestations_total", result="ok")
if not ok or ok < 1:
    print("no ok attestation counted", file=sys.stderr); sys.exit(1)
if value("assay_agents", "assay_agents", state="trusted") != 1:
    print("assay_agents{state=trusted} != 1", file=sys.stderr); sys.exit(1)
if not value("assay_verify_duration_seconds", "assay_verify_duration_seconds_count"):
    print("verify histogram empty", file=sys.stderr); sys.exit(1)
if not value("assay_db_write_duration_seconds", "assay_db_write_duration_seconds_count"):
    print("db write histogram empty", file=sys.stderr); sys.exit(1)
if not value("assay_notifications_sent", "assay_notifications_sent_total"):
    print("no notification counted as sent", file=sys.stderr); sys.exit(1)
EOF

step "PCR extend -> untrusted: webhook with pcr.value, command hook ran"
timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-a1")" \
    16:sha256=0000000000000000000000000000000000000000000000000000000000000001 ||
    fail "pcrextend"
wait_state a1 untrusted 20 || fail "a1 not untrusted"
wait_hook trusted untrusted pcr.value 0 || fail "no trusted -> untrusted webhook"
i=0
until grep -q "^env a1 trusted untrusted pcr.value$" "$CMDOUT" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "command hook did not run with ASSAY_* env"
	sleep 0.1
done
grep -q '"new_state":"untrusted"' "$CMDOUT" || fail "command hook stdin lacks the body"
api GET /metrics | grep -q '^assay_failures_total{id="pcr.value"} [1-9]' ||
    fail "assay_failures_total{id=pcr.value} not counted"
LASTSEQ=$(hook_seen trusted untrusted pcr.value 0)

step "receiver down: a state change is queued, the verifier is killed -9"
kill "$RXPID"
wait "$RXPID" 2>/dev/null
policy_pin pin16b "$T/tpm-a1" 16
admit a1 pin16b
wait_state a1 trusted 20 || fail "a1 not trusted under the new policy"
i=0
until grep -q "notify https://127.0.0.1:$HPORT/hook: notification .* failed" \
    "$T/verifier.log"; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "no failed delivery attempt logged"
	sleep 0.1
done
hook_seen pending trusted - "$LASTSEQ" >/dev/null && fail "delivered while down?"
kill -9 "$VPID"
wait "$VPID" 2>/dev/null

step "restart receiver and verifier: the queued notification arrives"
webhook_rx_start
verifier_start
wait_hook pending trusted - "$LASTSEQ" || fail "queued notification lost across kill -9"
echo "PASS"
