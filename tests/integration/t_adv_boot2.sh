#!/bin/sh
# Adversarial measured boot, part 2: a log that hides what the TPM
# recorded, and PCRs that move after the verifier accepted a boot. The
# agent's log drops every event of PCR 8, 9, 12 or 14 (the TPM still has
# them); the attacker extends PCR 14 after boot; after a reboot into the
# very same PCRs 0-9 the agent withholds the log the verifier asks for.
# See docs/adversarial-boot.md.
. "$(dirname "$0")/../lib/adv_boot.sh"

BASE="-s 1 -a shim -a grub -x $DBX"
# shellcheck disable=SC2086
adv_setup $BASE -c "$GOOD" -e "loadopts=$GOOD"

# extend14 — the attacker extends PCR 14 on the running host
extend14()
{
	timeout 10 tpm2_pcrextend -T "$TCTI" \
	    14:sha1=0000000000000000000000000000000000000014,sha256=0000000000000000000000000000000000000000000000000000000000000014 ||
	    fail "pcrextend 14"
}

# shellcheck disable=SC2086
{
# A GRUB line in PCR 8 and an EFI stub LoadOptions tag in PCR 9.
genuine_policy p89 $BASE -c "$GOOD" -e "loadopts=$GOOD"

scenario 6 "the log drops every PCR 8 event (still extended)"
attack untrusted eventlog.replay "PCR 8" -- $BASE -c "$GOOD" -e "loadopts=$GOOD" -D 8

scenario 6b "the log drops every PCR 9 event (still extended)"
attack untrusted eventlog.replay "PCR 9" -- $BASE -c "$GOOD" -e "loadopts=$GOOD" -D 9

# shim's MokList in PCR 14, systemd-stub's load options in PCR 12.
MOK="ipl=MokList"
SDSTUB="utf16=$GOOD"
genuine_policy p1214 $BASE -c "$GOOD" -e "$MOK" -e "$SDSTUB"

scenario 7 "the log drops every PCR 14 event (still extended)"
attack untrusted eventlog.replay "PCR 14" -- \
    $BASE -c "$GOOD" -e "$MOK" -e "$SDSTUB" -D 14

scenario 7b "the log drops every PCR 12 event (still extended)"
attack untrusted eventlog.replay "PCR 12" -- \
    $BASE -c "$GOOD" -e "$MOK" -e "$SDSTUB" -D 12

scenario 9 "PCR 14 (which the log extends) extended after boot, PCRs 0-9 unchanged"
late eventlog.replay "PCR 14" extend14

scenario 9b "PCR 14 extended after boot on a host whose log never extends it"
genuine_policy p89b $BASE -c "$GOOD" -e "loadopts=$GOOD"
late eventlog.replay "PCR 14" extend14

scenario 10 "reboot into identical PCRs 0-9, the agent withholds the log asked for"
control && {
	agent_stop m
	sed -i "s|path: \"$T/fw-m.log\"|path: \"$T/no-such.log\"|" "$T/agent-m.yaml"
	swtpm_reset "$T/tpm-m" || fail "swtpm reset"
	fw $BASE -c "$GOOD" -e "loadopts=$GOOD"
	EVENTLOG="$T/no-such.log" agent_start m
	expect_untrusted 15 eventlog.format && good
	grep -q "no-such.log" "$T/agent-m.log" ||
	    bad "the verifier never asked for the event log"
	agent_stop m
	sed -i "s|path: \"$T/no-such.log\"|path: \"$T/fw-m.log\"|" "$T/agent-m.yaml"
	EVENTLOG="$T/fw-m.log" agent_start m
}
}

adv_finish
