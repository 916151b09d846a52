#!/bin/sh
# Adversarial IMA, part 1 — root on an attested host edits the
# measurement list the agent serves (ima.path) and plays the kernel's PCR
# 10 extends, but cannot make the TPM forget an extend. Each scenario: a
# benign change that keeps the host trusted, then one attack that must
# make it untrusted with the expected failure id, then a reboot with a
# clean list and an admin reset.
#
#   unknown file                                  ima.not_allowed
#   tampered entry (template hash wrong)          ima.template_hash
#   truncated list (an extended entry removed)    ima.replay
#   truncated list (cut inside the last entry)    ima.replay | ima.format
#   reordered entries                             ima.replay
#   duplicated entry                              ima.replay
#   entry not extended, then the list rewritten   ima.replay
#   TPM reset, list continues the old one         ima.replay | ima.boot_aggregate
#   boot_aggregate that does not match            ima.boot_aggregate
. "$(dirname "$0")/../lib/assay.sh"
. "$ROOT/tests/lib/adv.sh"

pki_init h
verifier_start
F=$T/files
mkdir -p "$F/usr/bin" "$F/tmp"
for f in sh ls cat rogue; do
	printf '#!/bin/true %s\n' "$f" > "$F/usr/bin/$f"
done
adv_tpm h
swtpm_start "$T/tpm-h" || fail "swtpm h"
TPMS="$TPMS $T/tpm-h"
ima_build h "$F/usr/bin/sh" "$F/usr/bin/ls"
IMA_LIST=$T/ima-h.list
adv_agent_conf h
agent_start h
wait_registered h 30 || fail "h did not enroll"
{
	echo "name: fleet"
	echo "bank: sha256"
	echo "ima:"
	echo "  allow:"
	for f in sh ls cat; do
		echo "    $F/usr/bin/$f: [\"sha256:$(sha256 "$F/usr/bin/$f")\"]"
	done
	echo "  exclude: [\"$F/tmp/**\"]"
	echo "  unknown: fail"
} > "$T/fleet.yaml"
put_policy fleet "$T/fleet.yaml"
admit h fleet
wait_state h trusted 30 || fail "h not trusted at the start"
ADV_AGENT=h

restore()
{
	host_reboot h "$F/usr/bin/sh" "$F/usr/bin/ls" && back_to_trusted h 30
}

LIST=$T/ima-h.list

sc_unknown()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	ima h file "$F/usr/bin/rogue"
	expect_reason h ima.not_allowed || return 1
	detail_has h "usr/bin/rogue"
}

sc_tampered()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	# Appended, bytes of its name changed, then extended as measured.
	ima h -n file "$F/usr/bin/ls"
	size=$(stat -c %s "$LIST")
	printf 'X' | dd of="$LIST" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
	ima h -e file "$F/usr/bin/ls"
	expect_reason h ima.template_hash
}

sc_truncated()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	ima h file "$F/usr/bin/ls"
	wait_rounds h 1 || return 1
	ima h drop
	expect_reason h ima.replay
}

sc_cut()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	ima h file "$F/usr/bin/ls"
	truncate -s -7 "$LIST"
	expect_reason h "ima.replay ima.format"
}

sc_reordered()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	ima h -n file "$F/usr/bin/ls"
	ima h -n file "$F/usr/bin/sh"
	ima h swap
	ima h -e file "$F/usr/bin/ls"
	ima h -e file "$F/usr/bin/sh"
	expect_reason h ima.replay
}

sc_duplicated()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	ima h dup
	ima h file "$F/usr/bin/ls"
	expect_reason h ima.replay
}

sc_rewritten()
{
	# Benign: an entry appended before its extend waits for the next round.
	ima h -n file "$F/usr/bin/cat"
	stays_trusted h || return 1
	ima h -e file "$F/usr/bin/cat"
	stays_trusted h 1 || return 1
	# Attack: rogue appended (not yet extended: not judged yet), the list
	# rewritten to show an allowed file there, the kernel extends rogue.
	ima h -n file "$F/usr/bin/rogue"
	stays_trusted h 1 || return 1
	ima h drop
	ima h -n file "$F/usr/bin/cat"
	ima h -e file "$F/usr/bin/rogue"
	expect_reason h ima.replay
}

sc_reset_midlist()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	# The TPM resets (PCRs cleared), the list is not restarted.
	agent_stop h
	swtpm_reset "$T/tpm-h" || return 1
	ima h file "$F/usr/bin/ls"
	IMA_LIST=$LIST agent_start h
	expect_reason h "ima.replay ima.boot_aggregate" 20
}

sc_boot_aggregate()
{
	# Benign: a reboot with a list that starts over correctly.
	host_reboot h "$F/usr/bin/sh" || return 1
	stays_trusted h 2 || return 1
	# Attack: a list from another boot (its boot_aggregate is not this one's).
	agent_stop h
	swtpm_reset "$T/tpm-h" || return 1
	rm -f "$T/ima-h.new"
	"$ASSAY_BIN/testtools/ima_kernel" -t "$(swtpm_tcti "$T/tpm-h")" -l "$T/ima-h.new" \
	    digest boot_aggregate "$(printf '%064d' 7)" || return 1
	"$ASSAY_BIN/testtools/ima_kernel" -t "$(swtpm_tcti "$T/tpm-h")" -l "$T/ima-h.new" \
	    file "$F/usr/bin/sh" || return 1
	mv "$T/ima-h.new" "$LIST"
	IMA_LIST=$LIST agent_start h
	expect_reason h ima.boot_aggregate 20
}

scenario "unknown file" sc_unknown restore
scenario "tampered entry (template hash wrong)" sc_tampered restore
scenario "truncated list (an extended entry removed)" sc_truncated restore
scenario "truncated list (cut inside the last entry)" sc_cut restore
scenario "reordered entries" sc_reordered restore
scenario "duplicated entry" sc_duplicated restore
scenario "entry not extended, then the list rewritten" sc_rewritten restore
scenario "TPM reset, the list continues the old one" sc_reset_midlist restore
scenario "boot_aggregate that does not match" sc_boot_aggregate
adv_summary
