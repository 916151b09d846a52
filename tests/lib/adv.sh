# adv.sh — shared helpers of the adversarial integration suite
# (tests/integration/t_adv_*.sh). Source after tests/lib/assay.sh.
#
# Each script runs scenarios: a benign control that must stay trusted,
# exactly one attack, the expected verdict (failure id as `reason`, or an
# HTTP refusal), then a restore. A scenario that does not hold is recorded
# (with what was observed) and the script goes on with the next one after
# the restore; adv_summary prints every result and fails the script if any
# scenario failed. Everything started here is in $PIDS (assay.sh's cleanup
# kills only those), every wait has a timeout.

ADV_TOOLS=$ROOT/tests/tools
command -v python3 >/dev/null || fail "python3 is required"
ADV_RESULTS=$T/adv-results
: > "$ADV_RESULTS"

# ---- JSON --------------------------------------------------------------

# pyj EXPR — evaluate the Python expression EXPR with d = JSON on stdin;
# prints the result ('' for None, JSON for lists/dicts).
pyj()
{
	python3 -c '
import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
if r is None: r = ""
print(json.dumps(r) if isinstance(r, (list, dict)) else r)
' "$1"
}

agent_json()
{
	api GET "/v1/agents/$1" 2>/dev/null
}

agent_get()
{
	agent_json "$1" | pyj "d.get('$2')" 2>/dev/null
}

# rounds ID — verification rounds that reached a verdict so far
rounds()
{
	agent_json "$1" | pyj "d['counters']['attest_ok'] + d['counters']['attest_fail']" \
	    2>/dev/null || echo 0
}

# wait_rounds ID N [SECONDS] — N more verdicts
wait_rounds()
{
	_r0=$(rounds "$1")
	_lim=$((${3:-20} * 10)) _i=0
	while [ "$(rounds "$1")" -lt $((_r0 + $2)) ]; do
		_i=$((_i + 1))
		[ "$_i" -lt "$_lim" ] || { echo "no $2 rounds for $1" >&2; return 1; }
		sleep 0.1
	done
}

# last_seq ID — the newest event's seq (0 without events)
last_seq()
{
	api GET "/v1/agents/$1/events?limit=1" 2>/dev/null |
	    pyj "d['events'][0]['seq'] if d['events'] else 0" 2>/dev/null || echo 0
}

# events_since ID SEQ — JSON list of the events after SEQ
events_since()
{
	api GET "/v1/agents/$1/events?limit=500" 2>/dev/null |
	    pyj "[e for e in d['events'] if e['seq'] > $2]"
}

# ---- scenarios -----------------------------------------------------------

ADV_NPASS=0 ADV_NFAIL=0

# sfail MESSAGE — a scenario check failed (returns 1; the caller returns).
sfail()
{
	echo "SCENARIO CHECK FAILED: $*" >&2
	printf '%s\n' "$*" > "$T/adv-why"
	return 1
}

# observed ID — one line: state, reason and detail of an agent
observed()
{
	agent_json "$1" | pyj "'state=%s reason=%s detail=%s' % (d.get('state'), d.get('reason'), (d.get('reason_detail') or '')[:160])" 2>/dev/null
}

# scenario NAME FUNCTION [RESTORE] — run one scenario and record it; the
# restore function runs afterwards whatever happened.
scenario()
{
	_name=$1 _fn=$2 _restore=${3:-}
	step "scenario: $_name"
	: > "$T/adv-why"
	_t0=$(date +%s)
	if "$_fn"; then
		ADV_NPASS=$((ADV_NPASS + 1))
		_obs=""
		[ -n "${ADV_AGENT:-}" ] && _obs=$(observed "$ADV_AGENT")
		printf 'PASS | %s | %ss | %s\n' "$_name" "$(($(date +%s) - _t0))" \
		    "$_obs" >> "$ADV_RESULTS"
		echo "    PASS: $_name"
	else
		ADV_NFAIL=$((ADV_NFAIL + 1))
		printf 'FAIL | %s | %s\n' "$_name" "$(cat "$T/adv-why")" >> "$ADV_RESULTS"
		echo "    FAIL: $_name: $(cat "$T/adv-why")"
	fi
	if [ -n "$_restore" ]; then
		"$_restore" || fail "restore after '$_name' failed"
	fi
}

adv_summary()
{
	echo "=== adversarial results ($(basename "$0")): $ADV_NPASS passed, $ADV_NFAIL failed"
	sed 's/^/    /' "$ADV_RESULTS"
	if [ -n "${ADV_RESULTS_OUT:-}" ]; then
		sed "s|^|$(basename "$0") | |" "$ADV_RESULTS" >> "$ADV_RESULTS_OUT"
	fi
	[ "$ADV_NFAIL" -eq 0 ] || exit 1
	echo "PASS"
}

# ---- verdict checks (return 1 with a recorded reason) --------------------

# stays_trusted ID [ROUNDS] — the control: trusted over ROUNDS more verdicts
stays_trusted()
{
	_s0=$(last_seq "$1")
	wait_rounds "$1" "${2:-2}" 20 || { sfail "control: no verdicts ($(observed "$1"))"; return 1; }
	_st=$(agent_get "$1" state)
	[ "$_st" = trusted ] || { sfail "control not trusted: $(observed "$1")"; return 1; }
	if events_since "$1" "$_s0" | grep -q '"new_state": "untrusted"'; then
		sfail "control: went untrusted meanwhile: $(events_since "$1" "$_s0" | head -c 400)"
		return 1
	fi
}

# expect_reason ID "ID1 [ID2...]" [SECONDS] — turns untrusted with one of
# the failure ids as reason.
expect_reason()
{
	_lim=$((${3:-15} * 10)) _i=0
	while :; do
		_st=$(agent_get "$1" state)
		[ "$_st" = untrusted ] && break
		_i=$((_i + 1))
		if [ "$_i" -ge "$_lim" ]; then
			sfail "not untrusted after ${3:-15}s (wanted $2): $(observed "$1")"
			return 1
		fi
		sleep 0.1
	done
	_rs=$(agent_get "$1" reason)
	for _w in $2; do
		[ "$_rs" = "$_w" ] && return 0
	done
	sfail "untrusted with reason $_rs, wanted $2: $(observed "$1")"
}

# detail_has ID TEXT — the recorded detail mentions TEXT
detail_has()
{
	agent_get "$1" reason_detail | grep -qF -- "$2" ||
	    { sfail "detail does not name '$2': $(observed "$1")"; return 1; }
}

# ---- restoring -----------------------------------------------------------

# back_to_trusted ID [SECONDS] — reset if needed, wait for trusted
back_to_trusted()
{
	_st=$(agent_get "$1" state)
	case $_st in
	untrusted|unreachable) api POST "/v1/agents/$1/reset" >/dev/null ||
	    { echo "reset $1: $(cat "$T/resp")" >&2; return 1; } ;;
	esac
	wait_state "$1" trusted "${2:-30}"
}

# ---- agents, IMA lists, reboots -------------------------------------------

# adv_agent_conf NAME — write $T/agent-NAME.yaml before agent_start uses it.
# ADV_ADVERTISE (host:port the verifier polls; default the listen port),
# ADV_VADDR (verifier address the agent talks to; default the verifier),
# ADV_ID (id; '-' = none, the agent's EK-derived default), IMA_LIST.
adv_agent_conf()
{
	_n=$1
	_p=$(free_port)
	echo "$_p" > "$T/agent-$_n.port"
	{
		[ "${ADV_ID:-$_n}" = - ] || echo "id: ${ADV_ID:-$_n}"
		echo "tcti: $(swtpm_tcti "$T/tpm-$_n" 2>/dev/null || echo "swtpm:path=$T/tpm-$_n/tpm.sock")"
		echo "ak_alg: ecc"
		echo "listen: 127.0.0.1:$_p"
		echo "advertise: ${ADV_ADVERTISE:-127.0.0.1:$_p}"
		echo "verifier:"
		echo "  address: ${ADV_VADDR:-127.0.0.1:$VPORT}"
		echo "  name: verifier"
		echo "tls:"
		echo "  cert: pki/agent-$_n.pem"
		echo "  key: pki/agent-$_n.key"
		echo "  ca: pki/ca.pem"
		echo "quote_rate: 50"
		echo "recheck: 5"
		echo "ima:"
		echo "  path: \"${IMA_LIST:-}\""
		echo "eventlog:"
		echo "  path: \"\""
	} > "$T/agent-$_n.yaml"
}

# adv_tpm NAME — manufacture the agent's swtpm now (so the TCTI exists)
adv_tpm()
{
	[ -d "$T/tpm-$1/tpm" ] || swtpm_make "$T/tpm-$1" rsa "$T/tpmca" || fail "swtpm_make $1"
}

# ima_build NAME FILE... — a fresh list for the agent's TPM as it is now:
# boot_aggregate, then the files (written to a new file renamed over the
# old one, so the agent's reader starts over).
ima_build()
{
	_n=$1
	shift
	rm -f "$T/ima-$_n.new"
	"$ASSAY_BIN/testtools/ima_kernel" -t "$(swtpm_tcti "$T/tpm-$_n")" \
	    -l "$T/ima-$_n.new" boot || fail "ima_kernel boot"
	if [ $# -gt 0 ]; then
		"$ASSAY_BIN/testtools/ima_kernel" -t "$(swtpm_tcti "$T/tpm-$_n")" \
		    -l "$T/ima-$_n.new" file "$@" || fail "ima_kernel file"
	fi
	mv "$T/ima-$_n.new" "$T/ima-$_n.list"
}

# host_reboot NAME FILE... — the host reboots: agent down, TPM reset
# (PCRs cleared, resetCount + 1), a new IMA list, agent up again.
host_reboot()
{
	_hn=$1
	shift
	agent_stop "$_hn"
	swtpm_reset "$T/tpm-$_hn" || return 1
	ima_build "$_hn" "$@"
	IMA_LIST="$T/ima-$_hn.list" agent_start "$_hn"
}

# pcr_value TPMDIR PCR — sha256 value, lowercase hex
pcr_value()
{
	timeout 10 tpm2_pcrread -T "$(swtpm_tcti "$1")" "sha256:$2" |
	    sed -n "s/^ *$2 *: *0x\([0-9A-Fa-f]*\).*/\1/p" | tr 'A-F' 'a-f'
}

# ---- the attested host of the IMA and quote scripts ----------------------

Z64=0000000000000000000000000000000000000000000000000000000000000000

# adv_host [-m] NAME [FILE...] — the verifier, and agent NAME started on its
# own swtpm: small scripts $F/usr/bin/{sh,ls,cat,FILE...} ($F/tmp empty),
# the IMA list $LIST with boot_aggregate, sh and ls. -m: the agent
# advertises a man in the middle (mitm NAME, pass-through, see mitm_start)
# that the verifier polls. PKI first (pki_init); then adv_admit.
adv_host()
{
	_mport=""
	if [ "$1" = -m ]; then
		_mport=$(free_port)
		shift
	fi
	_hn=$1
	shift
	verifier_start
	F=$T/files
	mkdir -p "$F/usr/bin" "$F/tmp"
	for _f in sh ls cat "$@"; do
		printf '#!/bin/true %s\n' "$_f" > "$F/usr/bin/$_f"
	done
	adv_tpm "$_hn"
	swtpm_start "$T/tpm-$_hn" || fail "swtpm $_hn"
	TPMS="$TPMS $T/tpm-$_hn"
	LIST=$T/ima-$_hn.list
	ima_build "$_hn" "$F/usr/bin/sh" "$F/usr/bin/ls"
	IMA_LIST=$LIST ADV_ADVERTISE=${_mport:+127.0.0.1:$_mport} adv_agent_conf "$_hn"
	IMA_LIST=$LIST agent_start "$_hn"
	[ -z "$_mport" ] || mitm_start "$_hn" "$_mport" "127.0.0.1:$(agent_port "$_hn")" \
	    "agent-$_hn" verifier
}

# adv_policy NAME [-p "PCR..."] [-a "FILE..."] [LINE...] — $T/NAME.yaml,
# uploaded: bank sha256, the PCRs pinned to zeros, an ima section with the
# FILEs (under $F/usr/bin) allowed by their sha256, the LINEs, unknown: fail.
adv_policy()
{
	_pn=$1 _pins="" _allow=""
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-p) _pins=$2; shift 2 ;;
		-a) _allow=$2; shift 2 ;;
		*) break ;;
		esac
	done
	{
		echo "name: $_pn"
		echo "bank: sha256"
		[ -z "$_pins" ] || echo "pcrs:"
		for _f in $_pins; do
			echo "  $_f: [\"$Z64\"]"
		done
		echo "ima:"
		[ -z "$_allow" ] || echo "  allow:"
		for _f in $_allow; do
			echo "    $F/usr/bin/$_f: [\"sha256:$(sha256 "$F/usr/bin/$_f")\"]"
		done
		[ $# -eq 0 ] || printf '%s\n' "$@"
		echo "  unknown: fail"
	} > "$T/$_pn.yaml"
	put_policy "$_pn" "$T/$_pn.yaml"
}

# adv_admit NAME POLICY — once NAME has enrolled: POLICY assigned, NAME
# trusted (through its man in the middle, if any); the scenarios' agent.
adv_admit()
{
	wait_registered "$1" 30 || fail "$1 did not enroll"
	admit "$1" "$2"
	wait_state "$1" trusted 30 || fail "$1 not trusted at the start"
	if [ -d "$T/mitm-$1" ]; then
		grep -q "GET /v1/quote" "$T/mitm-$1/log" ||
		    fail "the verifier does not go through the mitm"
	fi
	ADV_AGENT=$1
}

# clean_reboot — a restore: ADV_AGENT's host reboots with a clean list
# (sh, ls), an admin reset if needed, trusted again.
clean_reboot()
{
	host_reboot "$ADV_AGENT" "$F/usr/bin/sh" "$F/usr/bin/ls" &&
	    back_to_trusted "$ADV_AGENT" 30
}

# put_policy NAME FILE — upload (fails the script on refusal)
put_policy()
{
	_code=$(curl -sS -o "$T/resp" -w '%{http_code}' --max-time 10 -X PUT \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" --key "$T/pki/admin.key" \
	    --data-binary "@$2" "https://127.0.0.1:$VPORT/v1/policies/$1")
	[ "$_code" -lt 300 ] || fail "policy $1 upload: $_code $(cat "$T/resp")"
}

# ---- the man in the middle -------------------------------------------------

# mitm_start NAME LISTENPORT UPSTREAM SERVERCERT CLIENTCERT — adv_mitm.py
# listening on 127.0.0.1:LISTENPORT, presenting pki/SERVERCERT.pem,
# forwarding to UPSTREAM (host:port) as pki/CLIENTCERT.pem; mode file
# $T/mitm-NAME/mode (pass to begin with).
mitm_start()
{
	_d=$T/mitm-$1
	mkdir -p "$_d"
	echo pass > "$_d/mode"
	rm -f "$_d/ready"
	python3 "$ADV_TOOLS/adv_mitm.py" --listen "127.0.0.1:$2" --upstream "$3" \
	    --cert "$T/pki/$4.pem" --key "$T/pki/$4.key" --ca "$T/pki/ca.pem" \
	    --client-cert "$T/pki/$5.pem" --client-key "$T/pki/$5.key" \
	    --mode-file "$_d/mode" --dir "$_d" >>"$T/mitm-$1.log" 2>&1 &
	PIDS="$PIDS $!"
	_i=0
	until [ -f "$_d/ready" ]; do
		_i=$((_i + 1))
		[ "$_i" -lt 100 ] || fail "mitm $1 did not come up"
		sleep 0.1
	done
}

# mitm_mode NAME MODE [ARGS...] — switch the man in the middle's behaviour
mitm_mode()
{
	_d=$T/mitm-$1
	shift
	echo "$*" > "$_d/mode.tmp" && mv "$_d/mode.tmp" "$_d/mode"
}

# ---- enrollment by hand (curl as an agent) ---------------------------------

# register_as CERT ID EKPUB AKPUB [EKCERT] — POST /v1/register as
# pki/CERT; prints the status code (body in $T/resp).
register_as()
{
	_ekc=""
	[ -n "${5:-}" ] && _ekc=",\"ek_cert\":\"$(base64 -w0 "$5")\""
	printf '{"id":"%s","ek_pub":"%s","ak_pub":"%s"%s}' "$2" "$(base64 -w0 "$3")" \
	    "$(base64 -w0 "$4")" "$_ekc" > "$T/register.json"
	curl -sS -o "$T/resp" -w '%{http_code}' --max-time 10 -X POST \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/$1.pem" --key "$T/pki/$1.key" \
	    -H 'Content-Type: application/json' --data-binary "@$T/register.json" \
	    "https://127.0.0.1:$VPORT/v1/register"
}

# ek_id TPM2B_PUBLIC-FILE — the EK-derived agent id
ek_id()
{
	python3 "$ADV_TOOLS/adv_tpm.py" ek-id "$1"
}

# tpm_keys NAME — EK public (TPM2B_PUBLIC), an AK under it and the EK
# certificate of a test TPM: $T/k-NAME/{ek.pub,ak.pub,ek.crt}. The swtpm
# is stopped again afterwards. ADV_AKHASH (sha256) picks the AK's hash.
tpm_keys()
{
	_k=$T/k-$1
	mkdir -p "$_k"
	adv_tpm "$1"
	swtpm_start "$T/tpm-$1" || fail "swtpm $1"
	case " $TPMS " in *" $T/tpm-$1 "*) ;; *) TPMS="$TPMS $T/tpm-$1" ;; esac
	_tc=$(swtpm_tcti "$T/tpm-$1")
	timeout 20 tpm2_createek -T "$_tc" -c "$_k/ek.ctx" -G rsa -u "$_k/ek.pub" \
	    >/dev/null || fail "createek $1"
	timeout 30 tpm2_createak -T "$_tc" -C "$_k/ek.ctx" -c "$_k/ak.ctx" -G ecc \
	    -g "${ADV_AKHASH:-sha256}" -s ecdsa -u "$_k/ak.pub" >/dev/null ||
	    fail "createak $1"
	timeout 10 tpm2_nvread -T "$_tc" -C o 0x01c00002 -o "$_k/ek.crt" \
	    >/dev/null 2>&1 || cp "$T/tpm-$1/tpm/ek-rsa2048.crt" "$_k/ek.crt"
	swtpm_stop "$T/tpm-$1"
}
