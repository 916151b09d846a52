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
adv_host h rogue
adv_policy fleet -a "sh ls cat" "  exclude: [\"$F/tmp/**\"]"
adv_admit h fleet

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

scenario "unknown file" sc_unknown clean_reboot
scenario "tampered entry (template hash wrong)" sc_tampered clean_reboot
scenario "truncated list (an extended entry removed)" sc_truncated clean_reboot
scenario "truncated list (cut inside the last entry)" sc_cut clean_reboot
scenario "reordered entries" sc_reordered clean_reboot
scenario "duplicated entry" sc_duplicated clean_reboot
scenario "entry not extended, then the list rewritten" sc_rewritten clean_reboot
scenario "TPM reset, the list continues the old one" sc_reset_midlist clean_reboot
scenario "boot_aggregate that does not match" sc_boot_aggregate
adv_summary
