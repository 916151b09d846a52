#!/bin/sh
# Measured boot end to end: a test helper plays the firmware (writes a TCG
# event log and extends the agent's swtpm PCRs). A policy generated from
# the known-good log (assayctl policy from-eventlog) makes the host
# trusted and the log is read only when the boot PCRs change; a log whose
# event digest was altered -> eventlog.replay; secure boot off ->
# eventlog.secureboot; another kernel command line -> eventlog.cmdline; a
# PCR extended after boot -> eventlog.replay.
. "$(dirname "$0")/../lib/assay.sh"

pki_init m
verifier_start
EVENTLOG="$T/fw-m.log" agent_start m
tcti=$(swtpm_tcti "$T/tpm-m")
DBX=$(printf 'revoked bootloader' | sha256sum | cut -d' ' -f1)
firmware() { "$ASSAY_BIN/testtools/fw_eventlog" -t "$tcti" -o "$T/fw-m.log" "$@" ||
    fail "fw_eventlog $*"; }
reboot_with()
{
	agent_stop m
	swtpm_reset "$T/tpm-m" || fail "reset"
	firmware "$@"
	EVENTLOG="$T/fw-m.log" agent_start m
	api POST /v1/agents/m/reset >/dev/null 2>&1
}
reason_is()
{
	api GET /v1/agents/m | grep -q "\"reason\": *\"$1\"" ||
	    fail "wanted reason $1: $(api GET /v1/agents/m)"
}

step "boot with secure boot on, two boot applications, a command line"
agent_stop m
firmware -s 1 -a shim -a grub -c "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet" -x "$DBX"
EVENTLOG="$T/fw-m.log" agent_start m
wait_registered m 30 || fail "m did not enroll"

step "policy from the known-good log"
"$ASSAY_BIN/assayctl" policy from-eventlog --name boot -o "$T/boot.yaml" "$T/fw-m.log" ||
    fail "policy from-eventlog"
grep -q "secure_boot: *required" "$T/boot.yaml" || fail "generated policy: $(cat "$T/boot.yaml")"
code=$(curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" -X PUT \
    --data-binary "@$T/boot.yaml" "https://127.0.0.1:$VPORT/v1/policies/boot")
[ "$code" -lt 300 ] || fail "policy upload: $code $(cat "$T/resp")"
admit m boot
wait_state m trusted 20 || fail "m not trusted"

step "unchanged boot PCRs: the event log is not fetched again"
n1=$(grep -c "with the event log" "$T/agent-m.log")
sleep 3
n2=$(grep -c "with the event log" "$T/agent-m.log")
[ "$n1" = "$n2" ] || fail "event log fetched on every round ($n1 -> $n2)"
[ "$(agent_state m)" = trusted ] || fail "no longer trusted"

step "a log with an altered application digest -> eventlog.replay"
reboot_with -s 1 -a shim -a grub -c "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet" -x "$DBX" -T
wait_state m untrusted 30 || fail "altered log not caught"
reason_is eventlog.replay
api GET /v1/agents/m | grep -q "PCR 4" || fail "detail does not name PCR 4"

step "secure boot off -> eventlog.secureboot"
reboot_with -s 0 -a shim -a grub -c "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet" -x "$DBX"
wait_state m untrusted 30 || fail "secure boot off not caught"
reason_is eventlog.secureboot

step "another kernel command line -> eventlog.cmdline"
reboot_with -s 1 -a shim -a grub -c "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro init=/bin/sh" -x "$DBX"
wait_state m untrusted 30 || fail "command line not caught"
reason_is eventlog.cmdline
api GET /v1/agents/m | grep -q "init=/bin/sh" || fail "detail does not name the command line"

step "the known-good boot again -> trusted"
reboot_with -s 1 -a shim -a grub -c "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet" -x "$DBX"
wait_state m trusted 30 || fail "good boot not trusted"

step "a boot PCR extended after boot -> eventlog.replay"
timeout 10 tpm2_pcrextend -T "$tcti" \
    7:sha256=0000000000000000000000000000000000000000000000000000000000000007 ||
    fail "pcrextend"
wait_state m untrusted 30 || fail "extended PCR 7 not caught"
reason_is eventlog.replay
step "boot PCRs changed and the agent sends no event log -> eventlog.format"
agent_stop m
sed -i "s|path: \"$T/fw-m.log\"|path: \"$T/no-such.log\"|" "$T/agent-m.yaml"
swtpm_reset "$T/tpm-m" || fail "reset"
firmware -s 1 -a shim -a grub -c "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet" -x "$DBX"
EVENTLOG="$T/no-such.log" agent_start m
api POST /v1/agents/m/reset >/dev/null 2>&1
wait_state m untrusted 30 || fail "missing event log not caught"
reason_is eventlog.format
echo "PASS"
