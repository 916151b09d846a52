#!/bin/sh
# Adversarial enrollment, part 1 — holders of CA-issued agent
# certificates call the registrar by hand (curl) with real test TPMs'
# keys and crafted ones. Each scenario: the same kind of request done
# right is accepted (200), then one attack that must be refused.
#
#   agent cert web2 registers id web1                   403
#   ... or the EK-derived id of another TPM's EK          403
#   EK certificate from an untrusted CA                 403
#   EK certificate not matching the EK                  403
#   AK without fixedTPM/restricted (crafted public)     403
#   AK with a SHA-1 nameAlg (made by the TPM)           403
#   agent certificate on admin endpoints                403
#   agent certificate on another agent's activate route 403 | 404, agent undisturbed
#   no client certificate (verifier, agent), agent cert asking an agent
#   for a quote, admin cert registering              TLS refusal / 403
. "$(dirname "$0")/../lib/assay.sh"
. "$ROOT/tests/lib/adv.sh"

command -v tpm2_createprimary >/dev/null || fail "tpm2-tools are required"
pki_init n1 web2 rogue weak shaak
verifier_start
agent_start n1
step "test TPMs: x and y from the trusted TPM CA, o from another CA"
tpm_keys x
tpm_keys y
swtpm_make_ca "$T/otherca" || fail "other CA"
swtpm_make "$T/tpm-o" rsa "$T/otherca" || fail "swtpm o"
tpm_keys o
wait_registered n1 30 || fail "n1 did not enroll"
K=$T/k

# refused CERT ID EK AK EKCERT [TEXT] — registration answered 403 (and
# its message names TEXT)
refused()
{
	_c=$(register_as "$@")
	[ "$_c" = 403 ] || { sfail "register $2 as $1: HTTP $_c, wanted 403: $(cat "$T/resp")"; return 1; }
	if [ -n "${6:-}" ] && ! grep -q -- "$6" "$T/resp"; then
		sfail "refusal does not say '$6': $(cat "$T/resp")"
		return 1
	fi
}

# accepted CERT ID EK AK EKCERT — the control: 200 with a credential
accepted()
{
	_c=$(register_as "$@")
	[ "$_c" = 200 ] && grep -q '"credential"' "$T/resp" ||
	    { sfail "control: register $2 as $1: HTTP $_c: $(cat "$T/resp")"; return 1; }
}

sc_other_id()
{
	accepted agent-web2 web2 "$K-x/ek.pub" "$K-x/ak.pub" "$K-x/ek.crt" || return 1
	accepted agent-web2 "$(ek_id "$K-x/ek.pub")" "$K-x/ek.pub" "$K-x/ak.pub" \
	    "$K-x/ek.crt" || return 1
	refused agent-web2 web1 "$K-x/ek.pub" "$K-x/ak.pub" "$K-x/ek.crt" || return 1
	refused agent-web2 n1 "$K-x/ek.pub" "$K-x/ak.pub" "$K-x/ek.crt" || return 1
	# the EK id of y's EK while registering x's EK
	refused agent-web2 "$(ek_id "$K-y/ek.pub")" "$K-x/ek.pub" "$K-x/ak.pub" \
	    "$K-x/ek.crt"
}

sc_untrusted_ca()
{
	accepted agent-rogue rogue "$K-y/ek.pub" "$K-y/ak.pub" "$K-y/ek.crt" || return 1
	refused agent-rogue rogue "$K-o/ek.pub" "$K-o/ak.pub" "$K-o/ek.crt" "EK not trusted"
}

sc_ek_mismatch()
{
	accepted agent-rogue rogue "$K-y/ek.pub" "$K-y/ak.pub" "$K-y/ek.crt" || return 1
	refused agent-rogue rogue "$K-x/ek.pub" "$K-x/ak.pub" "$K-y/ek.crt" "does not match"
}

sc_weak_ak()
{
	accepted agent-weak weak "$K-y/ek.pub" "$K-y/ak.pub" "$K-y/ek.crt" || return 1
	# fixedTPM (0x2) and restricted (0x10000) cleared: a key that could
	# live outside the TPM and sign anything
	python3 "$ADV_TOOLS/adv_tpm.py" set-attrs "$K-y/ak.pub" "$T/ak-weak.pub" 00010002 0
	[ "$(python3 "$ADV_TOOLS/adv_tpm.py" attrs "$T/ak-weak.pub")" = 00040070 ] ||
	    { sfail "crafted AK attributes: $(python3 "$ADV_TOOLS/adv_tpm.py" attrs "$T/ak-weak.pub")"; return 1; }
	refused agent-weak weak "$K-y/ek.pub" "$T/ak-weak.pub" "$K-y/ek.crt" "AK"
}

sc_sha1_ak()
{
	accepted agent-shaak shaak "$K-y/ek.pub" "$K-y/ak.pub" "$K-y/ek.crt" || return 1
	# An AK whose nameAlg is SHA-1, made by the TPM (endorsement primary).
	swtpm_start "$T/tpm-y" || { sfail "swtpm y"; return 1; }
	timeout 30 tpm2_createprimary -T "$(swtpm_tcti "$T/tpm-y")" -C e -g sha1 \
	    -G ecc256:ecdsa-sha1:null \
	    -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign' \
	    -c "$T/ak1.ctx" -o "$T/ak-sha1.pub" >/dev/null 2>&1
	_r=$?
	swtpm_stop "$T/tpm-y"
	[ "$_r" -eq 0 ] || { sfail "tpm2_createprimary (SHA-1 AK) failed"; return 1; }
	[ "$(python3 "$ADV_TOOLS/adv_tpm.py" name-alg "$T/ak-sha1.pub")" = 0004 ] ||
	    { sfail "the AK's nameAlg is not SHA-1"; return 1; }
	refused agent-shaak shaak "$K-y/ek.pub" "$T/ak-sha1.pub" "$K-y/ek.crt" "AK"
}

# as_agent CERT METHOD PATH [BODY] — status code of the call
as_agent()
{
	api_as "$@" >/dev/null 2>&1
	cat "$T/status"
}

sc_admin_endpoints()
{
	[ "$(as_agent admin GET /v1/agents)" = 200 ] || { sfail "control: admin GET /v1/agents"; return 1; }
	for call in "GET /v1/agents" "GET /v1/agents/n1" "GET /v1/agents/n1/events" \
	    "GET /v1/policies" "POST /v1/agents/n1/reset" "POST /v1/agents/n1/attest" \
	    "POST /v1/agents/n1/stop" "DELETE /v1/agents/n1" "GET /metrics"; do
		# shellcheck disable=SC2086
		c=$(as_agent agent-n1 $call)
		[ "$c" = 403 ] || { sfail "agent cert: $call -> $c"; return 1; }
	done
	c=$(as_agent agent-n1 PUT /v1/agents/n1 '{"policy":"mine"}')
	[ "$c" = 403 ] || { sfail "agent cert admitted itself: $c"; return 1; }
	c=$(as_agent agent-n1 PUT /v1/policies/mine 'name: mine')
	[ "$c" = 403 ] || { sfail "agent cert uploaded a policy: $c"; return 1; }
	api GET /v1/policies | grep -q '"mine"' && { sfail "policy 'mine' exists"; return 1; }
	[ "$(agent_get n1 state)" = registered ] || { sfail "n1 disturbed: $(observed n1)"; return 1; }
}

sc_activate_other()
{
	[ "$(as_agent agent-n1 GET /v1/register/n1)" = 200 ] ||
	    { sfail "control: n1 reads its own enrollment"; return 1; }
	c=$(as_agent agent-web2 POST /v1/register/n1/activate \
	    "{\"proof\":\"$(printf '%064d' 0)\"}")
	case $c in
	403|404) ;;
	*) sfail "activate for n1 as web2: $c $(cat "$T/resp")"; return 1 ;;
	esac
	echo "    (activate for another agent: HTTP $c)"
	c=$(as_agent agent-web2 GET /v1/register/n1)
	[ "$c" = 404 ] || { sfail "web2 reads n1's enrollment: $c"; return 1; }
	[ "$(agent_get n1 activated)" = True ] && [ "$(agent_get n1 state)" = registered ] &&
	    [ "$(agent_get n1 certificate_cn)" = n1 ] ||
	    { sfail "n1 disturbed: $(agent_json n1 | head -c 300)"; return 1; }
}

sc_port()
{
	ap=$(agent_port n1)
	q="https://127.0.0.1:$ap/v1/quote?nonce=00112233445566778899aabbccddeeff&pcrs=sha256:0"
	c=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$T/pki/ca.pem" \
	    --cert "$T/pki/verifier.pem" --key "$T/pki/verifier.key" "$q")
	[ "$c" = 200 ] || { sfail "control: the verifier's certificate gets $c from n1"; return 1; }
	c=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$T/pki/ca.pem" \
	    --cert "$T/pki/agent-web2.pem" --key "$T/pki/agent-web2.key" "$q")
	[ "$c" = 403 ] || { sfail "agent cert web2 asked n1 for a quote: $c"; return 1; }
	if curl -sS -o "$T/nocert.out" --max-time 5 --cacert "$T/pki/ca.pem" \
	    -X POST -H 'Content-Type: application/json' --data-binary '{}' \
	    "https://127.0.0.1:$VPORT/v1/register" 2>/dev/null; then
		sfail "register without a client certificate got an answer: $(cat "$T/nocert.out")"
		return 1
	fi
	if curl -sS -o "$T/nocert.out" --max-time 5 --cacert "$T/pki/ca.pem" "$q" 2>/dev/null; then
		sfail "quote without a client certificate: $(head -c 200 "$T/nocert.out")"
		return 1
	fi
	c=$(register_as admin admin "$K-x/ek.pub" "$K-x/ak.pub" "$K-x/ek.crt")
	[ "$c" = 403 ] || { sfail "the admin certificate registered an agent: $c"; return 1; }
}

scenario "agent cert web2 registers id web1 (or another EK's id)" sc_other_id
scenario "EK certificate from an untrusted CA" sc_untrusted_ca
scenario "EK certificate not matching the EK" sc_ek_mismatch
scenario "AK without fixedTPM/restricted (crafted)" sc_weak_ak
scenario "AK with a SHA-1 nameAlg" sc_sha1_ak
scenario "agent certificate on admin endpoints" sc_admin_endpoints
scenario "agent certificate on another agent's activate route" sc_activate_other
scenario "no client certificate, or the wrong role, at either port" sc_port
adv_summary
