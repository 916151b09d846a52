#!/bin/sh
# Adversarial quotes, part 2 — root on an attested host uses its TPM the
# way it may: extends PCRs, reboots, stops the TPM and puts back an old
# copy of its state (the clock goes back); meanwhile an admin re-uploads
# the policy while rounds are in flight. Each scenario: a benign control,
# one action, the expected verdict, then a restore.
#
#   PCR extended that the policy pins              pcr.value
#   reboot (TPM reset, list restarts)              tpm.reboot notice, stays trusted
#   policy re-uploaded 3 x 20 times during rounds  stays trusted
#   ... alternating two equivalent forms (one
#       also pins PCR 14 at its value)            stays trusted
#   TPM state rolled back (clock goes back)        quote.clock
. "$(dirname "$0")/../lib/assay.sh"
. "$ROOT/tests/lib/adv.sh"

pki_init q1
adv_host q1
adv_policy qpol -p "15 16" -a "sh ls cat"
adv_admit q1 qpol
TC=$(swtpm_tcti "$T/tpm-q1")

sc_pinned()
{
	# PCR 14 is neither pinned nor quoted
	timeout 10 tpm2_pcrextend -T "$TC" "14:sha256=$(printf '%064d' 1)" >/dev/null ||
	    { sfail "pcrextend 14"; return 1; }
	stays_trusted q1 || return 1
	timeout 10 tpm2_pcrextend -T "$TC" "15:sha256=$(printf '%064d' 1)" >/dev/null ||
	    { sfail "pcrextend 15"; return 1; }
	expect_reason q1 pcr.value || return 1
	detail_has q1 "PCR 15"
}

sc_reboot()
{
	ima q1 file "$F/usr/bin/cat"
	stays_trusted q1 || return 1
	s0=$(last_seq q1)
	# TPM reset under the running agent, then a new list with the same
	# first entries (whatever the verifier reads meanwhile is consistent).
	swtpm_reset "$T/tpm-q1" || { sfail "swtpm_reset"; return 1; }
	ima_build q1 "$F/usr/bin/sh" "$F/usr/bin/ls"
	i=0
	until events_since q1 "$s0" | grep -q '"failure_id": "tpm.reboot"'; do
		i=$((i + 1))
		[ "$i" -lt 150 ] || { sfail "no tpm.reboot event: $(observed q1)"; return 1; }
		sleep 0.1
	done
	stays_trusted q1 2 || return 1
	if events_since q1 "$s0" | grep -q '"new_state": "untrusted"'; then
		sfail "went untrusted on a reboot: $(events_since q1 "$s0" | head -c 400)"
		return 1
	fi
}

# policy_burst N FILE... — N uploads of qpol back to back (one curl
# process, one kept-alive connection), cycling through the files.
policy_burst()
{
	_n=$1
	shift
	_files="$*"
	set --
	_i=0
	while [ "$_i" -lt "$_n" ]; do
		for _pf in $_files; do
			[ "$_i" -lt "$_n" ] || break
			[ $# -eq 0 ] || set -- "$@" --next
			set -- "$@" -sS -o /dev/null -w '%{http_code}\n' --max-time 10 -X PUT \
			    --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" \
			    --key "$T/pki/admin.key" --data-binary "@$_pf" \
			    "https://127.0.0.1:$VPORT/v1/policies/qpol"
			_i=$((_i + 1))
		done
	done
	curl "$@" > "$T/burst.codes" || { sfail "policy burst: curl failed"; return 1; }
	if grep -qv '^20[01]$' "$T/burst.codes"; then
		sfail "policy burst: $(sort "$T/burst.codes" | uniq -c | tr '\n' ' ')"
		return 1
	fi
}

# race_uploads ID FILE... — 3 bursts of 20 uploads of qpol, cycling
# through the files, while the honest host keeps measuring; never
# untrusted.
race_uploads()
{
	_id=$1
	shift
	stays_trusted "$_id" || return 1
	s0=$(last_seq "$_id")
	for k in 1 2 3; do
		ima "$_id" file "$F/usr/bin/cat"	# the honest host keeps measuring
		policy_burst 20 "$@" || return 1
		wait_rounds "$_id" 1 || { sfail "no rounds after the uploads"; return 1; }
	done
	put_policy qpol "$1"
	stays_trusted "$_id" 2 || return 1
	if events_since "$_id" "$s0" | grep -q '"new_state": "untrusted"'; then
		sfail "went untrusted: $(events_since "$_id" "$s0" | pyj "[(e['failure_id'], (e['detail'] or '')[:120]) for e in d if e['new_state'] == 'untrusted']")"
		return 1
	fi
}

sc_policy_race()
{
	race_uploads q1 "$T/qpol.yaml"
}

sc_policy_race2()
{
	# The same rules written two ways: the second also pins PCR 14 to the
	# value it has (so it quotes one more PCR); both hold on this host.
	v14=$(pcr_value "$T/tpm-q1" 14)
	[ -n "$v14" ] || { sfail "cannot read PCR 14"; return 1; }
	sed "s/^pcrs:\$/pcrs:\n  14: [\"$v14\"]/" "$T/qpol.yaml" > "$T/qpol14.yaml"
	grep -q "^  14:" "$T/qpol14.yaml" || { sfail "qpol14.yaml"; return 1; }
	race_uploads q1 "$T/qpol.yaml" "$T/qpol14.yaml"
}

# power_cycle FROM TO WHAT — q1's host powers off: agent and swtpm stop,
# the state directory TO becomes a copy of FROM (WHAT names that step),
# then the swtpm, a new list (sh) and the agent start.
power_cycle()
{
	agent_stop q1
	swtpm_stop "$T/tpm-q1"
	rm -rf "$2"
	cp -a "$1" "$2" || { sfail "$3"; return 1; }
	swtpm_start "$T/tpm-q1" || { sfail "swtpm start"; return 1; }
	ima_build q1 "$F/usr/bin/sh"
	IMA_LIST=$T/ima-q1.list agent_start q1
}

sc_clock()
{
	# Save the TPM state while trusted (the TPM stops and starts: a reboot).
	power_cycle "$T/tpm-q1/tpm" "$T/tpm-q1.saved" "save state" || return 1
	back_to_trusted q1 30 || { sfail "not trusted after the restart"; return 1; }
	stays_trusted q1 3 || return 1
	sleep 2
	# Attack: the old state back (same resetCount, earlier clock).
	power_cycle "$T/tpm-q1.saved" "$T/tpm-q1/tpm" "restore state" || return 1
	expect_reason q1 quote.clock 20
}

scenario "PCR extended that the policy pins" sc_pinned clean_reboot
scenario "reboot is a notice, not a failure" sc_reboot clean_reboot
scenario "policy re-uploaded while rounds are in flight" sc_policy_race clean_reboot
scenario "policy re-uploaded in two forms while rounds are in flight" sc_policy_race2 clean_reboot
scenario "TPM state rolled back (clock goes back)" sc_clock
adv_summary
