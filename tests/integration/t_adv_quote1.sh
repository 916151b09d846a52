#!/bin/sh
# Adversarial quotes, part 1 — root on an attested host controls every
# byte its agent sends. A man in the middle (tests/tools/adv_mitm.py)
# listens where the agent's advertised address points, presents the
# agent's certificate to the verifier and asks the real agent (as the
# verifier would) for evidence, rewriting requests and responses per a
# mode file. Each scenario: pass-through stays trusted, one rewrite must
# make the host untrusted with the expected failure id, then pass-through
# and an admin reset bring it back.
#
#   replayed old evidence (old nonce)                 quote.nonce
#   another agent's evidence (other AK)               quote.signature | quote.signer
#   pcrs= selection rewritten (pinned PCR dropped)    quote.pcr_select
#   reported PCR value tampered                       quote.pcr_digest
#   extra reported PCR value outside the selection    quote.pcr_select
#   unquoted value standing in for an extended pin    quote.pcr_select
#   IMA list stripped                                 ima.format
#   IMA list cut inside an entry                      ima.format
#   newest extended IMA entry hidden                  ima.replay
#   new IMA entries hidden (empty fragment)           ima.replay
#   IMA page over the bytes asked (ima_bytes ignored)  ima.format
#   answer over what the request allows               refused as it
#                                                     arrives: unreachable
. "$(dirname "$0")/../lib/assay.sh"
. "$ROOT/tests/lib/adv.sh"

pki_init q1 q2
adv_host -m q1
agent_start q2			# the other agent, for its AK's evidence
wait_registered q2 30 || fail "q2 did not enroll"
adv_policy qpol -p "15 16" -a "sh ls cat" '  exclude: ["/bulk/**"]'
adv_admit q1 qpol

restore()
{
	mitm_mode q1 pass
	timeout 10 tpm2_pcrreset -T "$(swtpm_tcti "$T/tpm-q1")" 16 >/dev/null 2>&1
	back_to_trusted q1 30
}

sc_replay()
{
	stays_trusted q1 || return 1
	cp "$T/mitm-q1/last.json" "$T/old.json"
	stays_trusted q1 1 || return 1
	mitm_mode q1 replay "$T/old.json"
	expect_reason q1 quote.nonce
}

sc_other_ak()
{
	stays_trusted q1 || return 1
	mitm_mode q1 other "127.0.0.1:$(agent_port q2)"
	expect_reason q1 "quote.signature quote.signer"
}

sc_pcrsel()
{
	stays_trusted q1 || return 1
	mitm_mode q1 pcrs-drop 16
	expect_reason q1 quote.pcr_select
}

sc_pcr_tamper()
{
	stays_trusted q1 || return 1
	mitm_mode q1 pcr-tamper sha256 16
	expect_reason q1 quote.pcr_digest
}

sc_pcr_extra()
{
	stays_trusted q1 || return 1
	mitm_mode q1 pcr-add sha256 23 "$Z64"
	expect_reason q1 quote.pcr_select
}

sc_pcr_standin()
{
	stays_trusted q1 || return 1
	# PCR 16 leaves its pinned value; the quote is asked without it and
	# the pinned value reported for it, outside what the TPM signed.
	timeout 10 tpm2_pcrextend -T "$(swtpm_tcti "$T/tpm-q1")" \
	    "16:sha256=$(printf '%064d' 1)" >/dev/null || { sfail "pcrextend"; return 1; }
	mitm_mode q1 pcr-drop-add 16 "$Z64"
	expect_reason q1 quote.pcr_select
}

sc_ima_strip()
{
	ima q1 file "$F/usr/bin/cat"
	stays_trusted q1 || return 1
	mitm_mode q1 ima-strip
	expect_reason q1 ima.format
}

sc_ima_cut()
{
	ima q1 file "$F/usr/bin/cat"
	stays_trusted q1 || return 1
	mitm_mode q1 ima-cut 5
	ima q1 file "$F/usr/bin/ls"
	expect_reason q1 "ima.format ima.replay"
}

sc_ima_drop()
{
	ima q1 file "$F/usr/bin/cat"
	stays_trusted q1 || return 1
	mitm_mode q1 ima-drop-last
	ima q1 file "$F/usr/bin/ls"
	expect_reason q1 ima.replay
}

# The verifier asks a 256 KiB page of a host with no more pending; root
# strips the cap and its agent sends 320 KB of new (excluded) entries.
sc_ima_page_over()
{
	ima q1 file "$F/usr/bin/cat"
	stays_trusted q1 || return 1
	mitm_mode q1 ima-bytes-drop
	ima q1 bulk 80 4000
	expect_reason q1 ima.format || return 1
	detail_has q1 "over the 262144 asked"
}

# 1.6 MB of list for a 256 KiB page: the answer is cut off at the
# transport limit (doc_max_size), never buffered, never judged.
sc_ima_answer_over()
{
	ima q1 file "$F/usr/bin/cat"
	stays_trusted q1 || return 1
	mitm_mode q1 ima-bytes-drop
	ima q1 bulk 400 4000
	wait_state q1 unreachable 20 ||
	    { sfail "not unreachable: $(observed q1)"; return 1; }
	grep -q "poll failed.*response over the" "$T/verifier.log" ||
	    { sfail "no oversized-answer failure in the log"; return 1; }
}

sc_ima_empty()
{
	ima q1 file "$F/usr/bin/cat"
	stays_trusted q1 || return 1
	mitm_mode q1 ima-empty
	ima q1 file "$F/usr/bin/ls"
	expect_reason q1 ima.replay
}

scenario "replayed old evidence" sc_replay restore
scenario "evidence from another agent (other AK)" sc_other_ak restore
scenario "pcrs= selection rewritten" sc_pcrsel restore
scenario "reported PCR value tampered" sc_pcr_tamper restore
scenario "extra reported PCR value outside the quoted selection" sc_pcr_extra restore
scenario "unquoted PCR value standing in for a pinned one" sc_pcr_standin restore
scenario "IMA list stripped" sc_ima_strip restore
scenario "IMA list cut inside an entry" sc_ima_cut restore
scenario "newest IMA entry hidden" sc_ima_drop restore
scenario "new IMA entries hidden (empty fragment)" sc_ima_empty restore
scenario "IMA page over the bytes asked" sc_ima_page_over restore
scenario "answer over what the request allows" sc_ima_answer_over restore
adv_summary
