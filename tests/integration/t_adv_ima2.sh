#!/bin/sh
# Adversarial IMA, part 2 — root rewrites the bytes of list entries that
# no hash binds: a violation's data (its template hash is all zeros), an
# entry's template name and its PCR field (outside the template hash), a
# name with terminal escape codes for the people reading failures, and a
# signature that does not verify. Each scenario: a benign entry that
# keeps the host trusted, one attack, the expected failure id, then a
# reboot with a clean list and an admin reset.
#
#   violation renamed into an excluded path        ima.not_allowed
#   violation relabelled ima-buf (allowed buffer)  ima.not_allowed
#   entry whose PCR field is 11                    ima.replay
#   ima-sig (empty signature) relabelled ima-buf   ima.not_allowed
#   ima-ng entry relabelled ima (other layout)     ima.format | ima.template_hash | ima.not_allowed
#   ima entry relabelled ima-ng (other layout)     ima.format | ima.template_hash | ima.not_allowed
#   escape codes + invalid UTF-8 in a name (unknown file, tampered entry):
#     the failure's detail is kept, in the agent and in its events, with
#     no raw control characters and no \u001b; assayctl prints no ESC
#   bad signature with require_signature          ima.signature
. "$(dirname "$0")/../lib/assay.sh"
. "$ROOT/tests/lib/adv.sh"

command -v evmctl >/dev/null || fail "evmctl (ima-evm-utils) is required"
pki_init h
adv_host h rogue buffy
printf 'scratch\n' > "$F/tmp/scratch"
KEXEC_HEX=$(printf 'root=/dev/vda ro' | od -An -v -tx1 | tr -d ' \n')
KEXEC_SHA=$(printf 'root=/dev/vda ro' | sha256sum | cut -d' ' -f1)
adv_policy fleet -a "sh ls cat" "  exclude: [\"$F/tmp/**\"]" "  buffers:" \
    "    kexec-cmdline: [\"sha256:$KEXEC_SHA\"]" \
    "    $F/usr/bin/buffy: [\"sha256:$(sha256 "$F/usr/bin/buffy")\"]"
adv_admit h fleet

sc_violation_excluded()
{
	ima h file "$F/tmp/scratch"		# excluded: ignored
	stays_trusted h || return 1
	ima h violation "$F/tmp/evil"
	expect_reason h ima.not_allowed
}

sc_violation_buf()
{
	ima h buf kexec-cmdline "$KEXEC_HEX"	# an allowed buffer
	stays_trusted h || return 1
	# A violation's data is bound by nothing: made to look like that buffer.
	ima h -L ima-sig -T ima-buf violation kexec-cmdline "$KEXEC_SHA"
	expect_reason h ima.not_allowed
}

sc_pcr11()
{
	ima h file "$F/usr/bin/ls"
	stays_trusted h || return 1
	ima h -P 11 file "$F/usr/bin/cat"	# header says PCR 11, extended there
	expect_reason h ima.replay
}

sc_sig_as_buf()
{
	ima h -L ima-sig file "$F/usr/bin/cat"	# ima-sig, empty signature, allowed
	stays_trusted h || return 1
	# buffy's digest is allowed only as a buffer of that name, not as a file
	ima h -L ima-sig -T ima-buf file "$F/usr/bin/buffy"
	expect_reason h ima.not_allowed
}

sc_ng_as_ima()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	ima h -T ima file "$F/usr/bin/ls"
	expect_reason h "ima.format ima.template_hash ima.not_allowed"
}

sc_ima_as_ng()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	ima h -L ima -T ima-ng file "$F/usr/bin/ls"
	expect_reason h "ima.format ima.template_hash ima.not_allowed"
}

EVIL=$(printf '/tmp/\033[31mevil\033[0m\377\376x')

# sanitized ID — the failure detail is there (agent and event) and carries
# no control characters, raw or escaped; assayctl status prints no ESC.
sanitized()
{
	api GET "/v1/agents/$1" > "$T/agent.raw" || { sfail "GET agent"; return 1; }
	api GET "/v1/agents/$1/events?limit=100" > "$T/events.raw" ||
	    { sfail "GET events"; return 1; }
	"$ASSAY_BIN/assayctl" --verifier "127.0.0.1:$VPORT" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" --ca "$T/pki/ca.pem" status "$1" > "$T/status.raw" 2>&1 ||
	    { sfail "assayctl status: $(cat "$T/status.raw")"; return 1; }
	for f in agent.raw events.raw status.raw; do
		if od -An -v -tx1 "$T/$f" | tr -s ' ' '\n' | grep -qx 1b; then
			sfail "raw ESC in $f: $(head -c 300 "$T/$f")"
			return 1
		fi
	done
	for f in agent.raw events.raw; do
		if grep -qiE '\\u00[01][0-9a-f]|\\u007f' "$T/$f"; then
			sfail "escaped control character in $f: $(head -c 300 "$T/$f")"
			return 1
		fi
	done
	_r=$(pyj "d.get('reason')" < "$T/agent.raw")
	_d=$(pyj "d.get('reason_detail') or ''" < "$T/agent.raw")
	[ -n "$_d" ] || { sfail "no reason_detail ($_r): $(head -c 300 "$T/agent.raw")"; return 1; }
	printf '%s' "$_d" | grep -q evil || { sfail "detail does not name the entry: $_d"; return 1; }
	_e=$(pyj "len([e for e in d['events'] if e.get('failure_id') == '$_r' and e.get('detail')])" \
	    < "$T/events.raw")
	[ "${_e:-0}" -ge 1 ] || { sfail "no $_r event with a detail: $(head -c 400 "$T/events.raw")"; return 1; }
	grep -q "evil" "$T/status.raw" || { sfail "assayctl status does not name it: $(cat "$T/status.raw")"; return 1; }
}

sc_escape_unknown()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	ima h digest "$EVIL" "$(sha256 "$F/usr/bin/rogue")"
	expect_reason h ima.not_allowed || return 1
	sanitized h
}

sc_escape_tampered()
{
	ima h file "$F/usr/bin/cat"
	stays_trusted h || return 1
	start=$(stat -c %s "$LIST")
	ima h -n digest "$EVIL" "$(sha256 "$F/usr/bin/cat")"
	# one byte of the file digest inside the template data (offset 50)
	printf 'Z' | dd of="$LIST" bs=1 seek=$((start + 50)) conv=notrunc 2>/dev/null
	ima h -e digest "$EVIL" "$(sha256 "$F/usr/bin/cat")"
	expect_reason h ima.template_hash || return 1
	sanitized h
}

openssl ecparam -name prime256v1 -genkey -noout -out "$T/ima.key" 2>/dev/null
openssl pkey -in "$T/ima.key" -pubout -out "$T/ima.pub"
adv_policy signed "  keys:" "    - |" "$(sed 's/^/      /' "$T/ima.pub")" \
    "  require_signature: true"

# sign FILE -> hex of its IMA signature by our key
sign()
{
	cp "$1" "$1.tosign"
	evmctl ima_sign --sigfile --key "$T/ima.key" -a sha256 "$1.tosign" >/dev/null 2>&1 ||
	    fail "evmctl ima_sign"
	od -An -v -tx1 "$1.tosign.sig" | tr -d ' \n'
	rm -f "$1.tosign" "$1.tosign.sig"
}

sc_bad_signature()
{
	host_reboot h || return 1			# boot_aggregate only
	back_to_trusted h 30 || { sfail "not trusted after the reboot"; return 1; }
	admit h signed
	wait_state h trusted 30 || { sfail "not trusted under the signed policy"; return 1; }
	printf 'good\n' > "$F/good"
	ima h -s "$(sign "$F/good")" file "$F/good"
	stays_trusted h || return 1
	printf 'was signed\n' > "$F/changed"
	sig=$(sign "$F/changed")
	printf 'changed after signing\n' >> "$F/changed"
	ima h -s "$sig" file "$F/changed"
	expect_reason h ima.signature || return 1
	detail_has h changed
}

scenario "violation renamed into an excluded path" sc_violation_excluded clean_reboot
scenario "violation relabelled ima-buf" sc_violation_buf clean_reboot
scenario "entry with PCR 11 in its header" sc_pcr11 clean_reboot
scenario "ima-sig entry relabelled ima-buf" sc_sig_as_buf clean_reboot
scenario "ima-ng entry relabelled ima (other layout)" sc_ng_as_ima clean_reboot
scenario "ima entry relabelled ima-ng (other layout)" sc_ima_as_ng clean_reboot
scenario "escape codes in an unknown file's name" sc_escape_unknown clean_reboot
scenario "escape codes in a tampered entry's name" sc_escape_tampered clean_reboot
scenario "bad signature with require_signature" sc_bad_signature
adv_summary
