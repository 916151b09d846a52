#!/bin/sh
# run.sh — make check-vm: attest a real QEMU guest. Debian's kernel (apt-get
# download, cached in $O/vm-cache) boots under q35 + OVMF + swtpm (tpm-tis)
# with ima_policy=tcb and its root on ramfs; the initramfs holds busybox and
# assay-agent, which quotes /dev/tpmrm0 and serves the firmware's event log
# and the kernel's IMA list. The verifier on the host enrolls the guest (EK
# certificate from a test CA), a policy generated from this known-good boot
# (measured boot + IMA) makes it trusted; a program outside the policy run
# in the guest -> ima.not_allowed naming it; a second boot with another
# kernel command line -> eventlog.cmdline. Usage: tests/vm/run.sh [BUILDDIR]
set -u
O=${1:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
[ -x "$O/assay-agent" ] || { echo "check-vm: build $O first (make O=$O all)" >&2; exit 1; }
ASSAY_BIN=$(cd "$O" && pwd)
export ASSAY_BIN ASSAY_ROOT="$ROOT"
START=$(date +%s)
LAST=$START
. "$ROOT/tests/lib/assay.sh"
. "$ROOT/tests/vm/lib.sh"

vm_exit()
{
	rc=$?
	[ -n "${QPID:-}" ] && kill "$QPID" 2>/dev/null
	if [ "$rc" -eq 0 ]; then
		echo "check-vm: PASS in $(($(date +%s) - START)) s"
	else
		echo "check-vm: FAILED after $(($(date +%s) - START)) s" >&2
	fi
	(exit "$rc")
	cleanup
}
trap vm_exit EXIT

step()
{
	_now=$(date +%s)
	echo "--- [+$((_now - LAST)) s, $((_now - START)) s] $*"
	LAST=$_now
}

reason_is()
{
	api GET /v1/agents/vm | grep -q "\"reason\": *\"$1\"" ||
	    fail "wanted reason $1: $(api GET /v1/agents/vm)"
}

# wait_reason REASON SECONDS — the agent is untrusted for REASON.
wait_reason()
{
	_i=0
	until api GET /v1/agents/vm 2>/dev/null | grep -q "\"reason\": *\"$1\""; do
		_i=$((_i + 1))
		if [ "$_i" -ge $(($2 * 2)) ]; then
			echo "no $1 verdict: $(api GET /v1/agents/vm)" >&2
			return 1
		fi
		sleep 0.5
	done
}

put_policy()
{
	code=$(curl -sS -o "$T/resp" -w '%{http_code}' --max-time 10 --cacert "$T/pki/ca.pem" \
	    --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" -X PUT \
	    --data-binary "@$2" "https://127.0.0.1:$VPORT/v1/policies/$1")
	[ "$code" -lt 300 ] || fail "policy upload: $code $(cat "$T/resp")"
}

step "host packages ($VM_PKGS)"
vm_deps || fail "cannot install $VM_PKGS"
for f in "$OVMF_CODE" "$OVMF_VARS"; do
	[ -f "$f" ] || fail "$f missing (package ovmf)"
done

step "Debian kernel (cache $ASSAY_BIN/vm-cache)"
vm_kernel "$ASSAY_BIN/vm-cache" || fail "no kernel"
echo "kernel: $VMLINUZ"

step "PKI, guest TPM with an EK certificate from the test CA, verifier"
pki_init vm
swtpm_make "$T/tpm-vm" rsa "$T/tpmca" || fail "swtpm_setup for the guest TPM"
verifier_start
# shellcheck disable=SC2034 # used by vm_boot in lib.sh
HOSTPORT=$(free_port)
# shellcheck disable=SC2034
CMDPORT=$(free_port)

step "initramfs: busybox, assay-agent and its libraries, virtio-net modules"
mkdir -p "$T/guestconf"
cp "$T/pki/agent-vm.pem" "$T/guestconf/agent.pem"
cp "$T/pki/agent-vm.key" "$T/guestconf/agent.key"
cp "$T/pki/ca.pem" "$T/guestconf/ca.pem"
cat > "$T/guestconf/agent.yaml" <<EOY
id: vm
tcti: device:/dev/tpmrm0
listen: 0.0.0.0:$GUEST_AGENT_PORT
advertise: 127.0.0.1:$HOSTPORT
verifier:
  address: 10.0.2.100:$VPORT
  name: verifier
tls:
  cert: /etc/assay/agent.pem
  key: /etc/assay/agent.key
  ca: /etc/assay/ca.pem
recheck: 5
ima:
  path: /sys/kernel/security/ima/binary_runtime_measurements
eventlog:
  path: /sys/kernel/security/tpm0/binary_bios_measurements
EOY
vm_initrd "$T/initrd.gz" "$ASSAY_BIN/assay-agent" "$T/guestconf" || fail "initramfs"
echo "initramfs: $(du -k "$T/initrd.gz" | cut -f1) KiB"

CMDLINE1="console=ttyS0 ima_policy=tcb rootfstype=ramfs"
CMDLINE2="$CMDLINE1 quiet"

step "boot 1 ($CMDLINE1)"
vm_boot 1 "$CMDLINE1" "$T/tpm-vm" "$T/initrd.gz" || fail "boot 1"
wait_console 1 "assay-vm: ready" 180 || fail "guest 1 did not reach userspace"
step "guest 1 in userspace; waiting for enrollment"
wait_registered vm 120 || fail "the guest agent did not enroll"
KCMD=$(sed -n 's/^assay-vm: cmdline: //p' "$T/guest1.log" | tr -d '\r' | head -n 1)
[ -n "$KCMD" ] || fail "guest did not print /proc/cmdline"
echo "guest /proc/cmdline: $KCMD"

step "known-good evidence from the guest agent (event log + IMA list)"
N=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
curl -sS --fail --max-time 30 --cacert "$T/pki/ca.pem" \
    --cert "$T/pki/verifier.pem" --key "$T/pki/verifier.key" \
    "https://127.0.0.1:$HOSTPORT/v1/quote?nonce=$N&pcrs=sha256:0-10&ima_from=0&eventlog=1" \
    > "$T/good.json" || fail "quote from the guest agent"
jq -r .eventlog "$T/good.json" | base64 -d > "$T/good.eventlog" || fail "no event log"
jq -r .ima.list "$T/good.json" | base64 -d > "$T/good.ima" || fail "no IMA list"
[ -s "$T/good.eventlog" ] || fail "empty event log"
[ -s "$T/good.ima" ] || fail "empty IMA list"
echo "event log $(stat -c %s "$T/good.eventlog") bytes, IMA list $(jq -r .ima.count "$T/good.json") entries"
"$ASSAY_BIN/assayctl" eventlog replay "$T/good.eventlog" > "$T/good.replay" 2>&1 ||
    fail "event log replay: $(cat "$T/good.replay")"

step "policy generated from the known-good boot (measured boot + IMA)"
"$ASSAY_BIN/assayctl" policy from-eventlog "$T/good.eventlog" --name mb \
    -o "$T/mb.yaml" || fail "policy from-eventlog"
"$ASSAY_BIN/assayctl" policy generate --name ima --ima-list "$T/good.ima" \
    -o "$T/ima.yaml" || fail "policy generate"
grep -q '"/rogue"' "$T/ima.yaml" && fail "/rogue ran before the policy snapshot"
{
	echo "name: vm"
	echo "bank: sha256"
	sed -n '/^ima:/,$p' "$T/ima.yaml"
	sed -n '/^measured_boot:/,$p' "$T/mb.yaml"
	printf '  kernel_cmdline: ["%s"]\n' "$KCMD"
} > "$T/vm.yaml"
put_policy vm "$T/vm.yaml"
admit vm vm
wait_state vm trusted 120 || fail "the known-good guest is not trusted"
sleep 5
[ "$(agent_state vm)" = trusted ] || fail "trust lost without a change: $(api GET /v1/agents/vm)"
echo "trusted"

step "a program outside the policy runs in the guest -> ima.not_allowed"
out=$(guest_cmd rogue) || fail "command channel"
case $out in
*"ran /rogue"*) ;;
*) fail "guest did not run /rogue: '$out'" ;;
esac
wait_state vm untrusted 120 || fail "rogue execution not caught"
reason_is ima.not_allowed
api GET /v1/agents/vm | grep -q '/rogue' || fail "verdict does not name /rogue: $(api GET /v1/agents/vm)"
api GET /v1/agents/vm | jq -c '{state, reason, reason_detail}' 2>/dev/null

step "boot 2 with another kernel command line ($CMDLINE2)"
vm_halt "$T/tpm-vm"
vm_boot 2 "$CMDLINE2" "$T/tpm-vm" "$T/initrd.gz" || fail "boot 2"
wait_console 2 "assay-vm: ready" 180 || fail "guest 2 did not reach userspace"
step "guest 2 in userspace; waiting for the measured boot verdict"
api POST /v1/agents/vm/reset >/dev/null || fail "reset: $(cat "$T/resp")"
wait_reason eventlog.cmdline 120 || fail "second command line not caught"
api GET /v1/agents/vm | grep -q 'kernel command line' ||
    fail "verdict does not name the kernel command line: $(api GET /v1/agents/vm)"
api GET /v1/agents/vm | jq -c '{state, reason, reason_detail}' 2>/dev/null

step "teardown"
vm_halt "$T/tpm-vm"
