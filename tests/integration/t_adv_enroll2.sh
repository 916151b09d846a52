#!/bin/sh
# Adversarial enrollment, part 2 — another agent certificate's holder
# races a real agent's enrollment, and one certificate floods the
# registrar.
#
#   pending-enrollment takeover: while the victim's activation is held
#   (a proxy between the victim agent and the verifier holds its POST
#   .../activate), another certificate tries the victim's activate route
#   (refused) and registers the victim's EK-derived id with the victim's
#   EK and its own AK; released, the victim's first activation succeeds,
#   it enrolls bound to its own certificate and attests trusted.
#   pending flood: one agent certificate registers many EK-derived ids
#   (EKs certified by the trusted TPM CA): 429 after a few; another agent
#   still enrolls.
. "$(dirname "$0")/../lib/assay.sh"
. "$ROOT/tests/lib/adv.sh"

pki_init vic mal flood oth
verifier_start
tpm_keys m			# the attacker's own TPM: its AK

step "victim: its own TPM, EK public read before the agent starts"
adv_tpm vic
swtpm_start "$T/tpm-vic" || fail "swtpm vic"
TPMS="$TPMS $T/tpm-vic"
timeout 20 tpm2_readpublic -T "$(swtpm_tcti "$T/tpm-vic")" -c 0x81010001 \
    -o "$T/vic-ek.pub" >/dev/null || fail "readpublic vic EK"
VID=$(ek_id "$T/vic-ek.pub")
PPORT=$(free_port)
mitm_start hold "$PPORT" "127.0.0.1:$VPORT" verifier agent-vic
mitm_mode hold hold-activate
ADV_ID=- ADV_VADDR=127.0.0.1:$PPORT adv_agent_conf vic
agent_start vic

# as_cert CERT METHOD PATH [BODY] — status code
as_cert()
{
	api_as "$@" >/dev/null 2>&1
	cat "$T/status"
}

sc_takeover()
{
	i=0
	until [ -f "$T/mitm-hold/held" ]; do
		i=$((i + 1))
		[ "$i" -lt 300 ] || { sfail "the victim never asked to activate: $(tail -n 5 "$T/agent-vic.log")"; return 1; }
		sleep 0.1
	done
	held=$(cat "$T/mitm-hold/held")
	[ "$held" = "/v1/register/$VID/activate" ] ||
	    { sfail "victim activates $held, expected id $VID"; return 1; }
	# The activate route of the victim's pending enrollment, as mal.
	c=$(as_cert agent-mal POST "/v1/register/$VID/activate" \
	    "{\"proof\":\"$(printf '%064d' 0)\"}")
	case $c in
	403|404) echo "    (mal on the victim's activate route: HTTP $c)" ;;
	*) sfail "mal's activate for $VID: HTTP $c $(cat "$T/resp")"; return 1 ;;
	esac
	# The takeover attempt: the victim's id, EK and EK certificate, mal's AK.
	c=$(register_as agent-mal "$VID" "$T/vic-ek.pub" "$T/k-m/ak.pub" \
	    "$T/tpm-vic/tpm/ek-rsa2048.crt")
	echo "    (mal registering the victim's id: HTTP $c)"
	touch "$T/mitm-hold/go"
	wait_registered "$VID" 20 || { sfail "victim did not enroll: $(tail -n 5 "$T/agent-vic.log")"; return 1; }
	first=$(grep " POST /v1/register/$VID/activate" "$T/mitm-hold/log" | head -n 1)
	case $first in
	*"-> 200") ;;
	*) sfail "the victim's first activation was disturbed: $first"; return 1 ;;
	esac
	[ "$(agent_get "$VID" certificate_cn)" = vic ] ||
	    { sfail "enrolled bound to $(agent_get "$VID" certificate_cn)"; return 1; }
	# Its own AK is the one bound: it attests.
	policy_pin pin16 "$T/tpm-vic" 16
	admit "$VID" pin16
	wait_state "$VID" trusted 20 || { sfail "victim not trusted: $(observed "$VID")"; return 1; }
}

sc_flood()
{
	step "  20 EKs certified by the trusted TPM CA"
	mkdir -p "$T/flood"
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyAgreement\nextendedKeyUsage=2.23.133.8.1\n' \
	    > "$T/flood/ext"
	n=0
	while [ "$n" -lt 20 ]; do
		n=$((n + 1))
		b=$T/flood/ek$n
		openssl ecparam -name prime256v1 -genkey -noout -out "$b.key" 2>/dev/null &&
		openssl pkey -in "$b.key" -pubout -out "$b.pem" &&
		python3 "$ADV_TOOLS/adv_tpm.py" ecc-ek "$b.pem" "$b.pub" &&
		openssl req -new -key "$b.key" -subj "/CN=ek$n" -out "$b.csr" 2>/dev/null &&
		openssl x509 -req -in "$b.csr" -CA "$T/tpmca/issuercert.pem" \
		    -CAkey "$T/tpmca/signkey.pem" -set_serial $((1000 + n)) -days 30 \
		    -extfile "$T/flood/ext" -outform DER -out "$b.der" 2>/dev/null ||
		    { sfail "making EK $n"; return 1; }
	done
	codes=""
	n=0
	while [ "$n" -lt 20 ]; do
		n=$((n + 1))
		b=$T/flood/ek$n
		c=$(register_as agent-flood "$(ek_id "$b.pub")" "$b.pub" "$T/k-m/ak.pub" "$b.der")
		codes="$codes $c"
		[ "$n" -eq 1 ] && [ "$c" != 200 ] &&
		    { sfail "control: the first registration got $c: $(cat "$T/resp")"; return 1; }
	done
	echo "    (flood answers:$codes)"
	case "$codes" in
	*" 429"*) ;;
	*) sfail "no 429 in 20 pending registrations:$codes"; return 1 ;;
	esac
	for c in $codes; do
		case $c in
		200|429) ;;
		*) sfail "unexpected answer $c in:$codes"; return 1 ;;
		esac
	done
	# still 429 for this certificate; another agent enrolls
	agent_start oth
	wait_registered oth 30 || { sfail "another agent could not enroll after the flood"; return 1; }
	[ "$(agent_get oth activated)" = True ] || { sfail "oth not activated"; return 1; }
}

scenario "pending-enrollment takeover attempt" sc_takeover
scenario "pending-enrollment flood from one certificate" sc_flood
adv_summary
