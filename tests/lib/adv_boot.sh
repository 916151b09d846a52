# adv_boot.sh — shared helpers of the adversarial measured-boot suite
# (tests/integration/t_adv_boot*.sh, docs/adversarial-boot.md). Source it
# from a test script; it sources assay.sh (temp dir, ports, cleanup).
#
# One agent "m" with its own swtpm. The test plays the firmware with
# fw_eventlog (the log the agent serves from eventlog.path, the same
# digests extended into the swtpm) and then a root attacker on that host:
# it rewrites the log, extends PCRs 0-15, resets PCR 16/23, reboots.
#
# Each scenario is a benign control that must be trusted and an attack
# whose verdict is checked; a failed check is recorded, the script goes on
# with the next scenario (each one reboots into a known state first) and
# exits 1 at the end with a summary. Infrastructure errors exit at once.
#
#   adv_setup ARGS...        PKI, verifier, agent m booted with fw ARGS
#   adv_genuine NAME ARGS... adv_setup ARGS, genuine_policy NAME ARGS, and
#                            m trusted on that first boot
#   fw ARGS...               fw_eventlog on m's swtpm, log $T/fw-m.log
#   policy_set KEY VALUE     a measured_boot key for the next policy
#   genuine_policy NAME ARGS...
#                            policy NAME from the genuine log fw ARGS
#                            would write (assayctl policy from-eventlog),
#                            with the policy_set keys replacing the
#                            generated ones; uploaded and assigned to m;
#                            ARGS are the genuine log of what follows
#   boot ARGS...             reboot m's host with fw ARGS; the verifier
#                            judges it afresh (stop/start, or reset when
#                            m is untrusted)
#   scenario ID TEXT         start a scenario (for the summary)
#   control [ARGS...]        boot ARGS (none: the genuine log) and expect
#                            trusted
#   attack STATE [REASON [DETAIL]] -- ARGS...
#                            the body of most scenarios: the control, a
#                            reboot with fw ARGS, expect_boot STATE ...
#   late REASON DETAIL COMMAND...
#                            the control, then COMMAND (fw -B ...) changes
#                            the running host: untrusted within 10 s
#   expect_boot STATE [REASON [DETAIL]]
#                            the verdict on the last boot
#   expect_untrusted SECS REASON [DETAIL]
#                            m goes untrusted within SECS (no reboot)
#   adv_finish               summary; exit 1 if a scenario failed

. "$(dirname "$0")/../lib/assay.sh"

GOOD="BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet"
BAD="BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro init=/bin/sh"
DBX=$(printf 'revoked bootloader' | sha256sum | cut -d' ' -f1)
TCTI=""
SC_ID=""
SC_BAD=0
NSC=0
NBAD=0
: > "$T/summary"

fw()
{
	"$ASSAY_BIN/testtools/fw_eventlog" -t "$TCTI" -o "$T/fw-m.log" "$@" ||
	    fail "fw_eventlog $*"
}

adv_setup()
{
	pki_init m
	verifier_start
	mkdir -p "$T/tpm-m"
	swtpm_make "$T/tpm-m" rsa "$T/tpmca" || fail "swtpm_make m"
	swtpm_start "$T/tpm-m" || fail "swtpm_start m"
	TPMS="$TPMS $T/tpm-m"
	TCTI=$(swtpm_tcti "$T/tpm-m")
	fw "$@"
	EVENTLOG="$T/fw-m.log" agent_start m
	wait_registered m 30 || fail "m did not enroll"
}

adv_genuine()
{
	_gname=$1
	shift
	adv_setup "$@"
	genuine_policy "$_gname" "$@"
	wait_verdict 30 >/dev/null
	[ "$(agent_state m)" = trusted ] || fail "genuine boot not trusted: $(show_agent)"
}

# put_policy NAME FILE — upload, fail on error.
put_policy()
{
	code=$(curl -sS -o "$T/resp" -w '%{http_code}' --max-time 10 \
	    --cacert "$T/pki/ca.pem" --cert "$T/pki/admin.pem" \
	    --key "$T/pki/admin.key" -X PUT --data-binary "@$2" \
	    "https://127.0.0.1:$VPORT/v1/policies/$1") || fail "policy upload $1"
	[ "$code" -lt 300 ] || fail "policy $1 upload: $code $(cat "$T/resp")"
}

# policy_set KEY VALUE — a measured_boot key for the next genuine_policy
policy_set()
{
	printf '%s\n%s\n' "$1" "$2" >> "$T/kv"
}

genuine_policy()
{
	_name=$1
	shift
	printf '%s\n' "$@" > "$T/genuine.args"
	"$ASSAY_BIN/testtools/fw_eventlog" -n -o "$T/genuine-$_name.log" "$@" ||
	    fail "fw_eventlog -n $*"
	"$ASSAY_BIN/assayctl" policy from-eventlog --name "$_name" \
	    -o "$T/policy-$_name.yaml" "$T/genuine-$_name.log" ||
	    fail "policy from-eventlog $_name"
	# KEY VALUE pairs: drop the generated key (and its list lines), then
	# append ours; measured_boot is the last section of the file.
	touch "$T/kv"
	while IFS= read -r _key && IFS= read -r _val; do
		awk -v k="  $_key:" '
		    index($0, k) == 1 { skip = 1; next }
		    skip && /^    / { next }
		    { skip = 0; print }' "$T/policy-$_name.yaml" > "$T/policy.tmp" &&
		    mv "$T/policy.tmp" "$T/policy-$_name.yaml"
		printf '  %s: %s\n' "$_key" "$_val" >> "$T/policy-$_name.yaml"
	done < "$T/kv"
	: > "$T/kv"
	put_policy "$_name" "$T/policy-$_name.yaml"
	api PUT /v1/agents/m "{\"policy\":\"$_name\"}" >/dev/null ||
	    fail "assign policy $_name: $(cat "$T/resp")"
}

# reboot ARGS — the host reboots: TPM reset, firmware, agent restarted.
reboot_host()
{
	agent_stop m
	swtpm_reset "$T/tpm-m" || fail "swtpm reset"
	fw "$@"
	EVENTLOG="$T/fw-m.log" agent_start m
}

boot()
{
	case $(agent_state m) in
	untrusted|unreachable)
		reboot_host "$@"
		api POST /v1/agents/m/reset >/dev/null 2>&1
		;;
	*)
		api POST /v1/agents/m/stop >/dev/null || fail "stop m: $(cat "$T/resp")"
		reboot_host "$@"
		api POST /v1/agents/m/start >/dev/null || fail "start m: $(cat "$T/resp")"
		;;
	esac
}

show_agent()
{
	api GET /v1/agents/m 2>/dev/null | tr -d '\n' |
	    sed 's/.*"state": *"\([^"]*\)".*"reason": *\("[^"]*"\|null\).*"reason_detail": *\("\([^"\\]\|\\.\)*"\|null\).*/state=\1 reason=\2 detail=\3/'
}

scenario()
{
	SC_ID=$1
	SC_BAD=0
	NSC=$((NSC + 1))
	echo "--- [$1] $2"
	printf '%s\t%s\n' "$1" "$2" >> "$T/scenarios"
}

# bad MSG — the current scenario failed; returns 1 so callers can stop it.
bad()
{
	echo "    FAIL [$SC_ID]: $*" >&2
	if [ "$SC_BAD" -eq 0 ]; then
		NBAD=$((NBAD + 1))
		printf 'FAIL [%s] %s\n' "$SC_ID" "$*" >> "$T/summary"
	fi
	SC_BAD=1
	return 1
}

good()
{
	[ "$SC_BAD" -eq 0 ] &&
	    printf 'pass [%s] %s\n' "$SC_ID" "$(show_agent)" >> "$T/summary"
	return 0
}

# wait_verdict SECS — until m is trusted or untrusted; prints the state.
wait_verdict()
{
	_i=0
	_lim=$(($1 * 10))
	while :; do
		_s=$(agent_state m)
		case $_s in
		trusted|untrusted) echo "$_s"; return 0 ;;
		esac
		_i=$((_i + 1))
		[ "$_i" -ge "$_lim" ] && { echo "${_s:-none}"; return 1; }
		sleep 0.1
	done
}

# check_reason REASON [DETAIL] — m's reason, and a fixed string in its detail
check_reason()
{
	_j=$(api GET /v1/agents/m 2>/dev/null)
	_r=$(printf '%s' "$_j" | json_field reason)
	case " $1 " in
	*" $_r "*) ;;
	*) bad "reason '$_r', wanted '$1' ($(show_agent))"; return 1 ;;
	esac
	_d=$(printf '%s' "$_j" | tr -d '\n' |
	    sed -n 's/.*"reason_detail": *"\(\([^"\\]\|\\.\)*\)".*/\1/p')
	if [ -n "${2:-}" ] && ! printf '%s' "$_d" | grep -qF -- "$2"; then
		bad "detail does not name '$2' ($(show_agent))"
		return 1
	fi
	return 0
}

# expect_boot STATE [REASONS [DETAIL]] — REASONS: one id or "id1 id2"
expect_boot()
{
	_v=$(wait_verdict 30) || { bad "no verdict in 30 s ($(show_agent))"; return 1; }
	if [ "$_v" != "$1" ]; then
		bad "$_v, wanted $1${2:+ ($2)} ($(show_agent))"
		return 1
	fi
	[ "$1" = untrusted ] || return 0
	check_reason "$2" "${3:-}"
}

expect_untrusted()
{
	if ! wait_state m untrusted "$1" >/dev/null 2>&1; then
		bad "still $(agent_state m) after ${1}s, wanted untrusted ($2)"
		return 1
	fi
	check_reason "$2" "${3:-}"
}

control()
{
	if [ $# -eq 0 ]; then
		while IFS= read -r _g; do
			set -- "$@" "$_g"
		done < "$T/genuine.args"
	fi
	boot "$@"
	expect_boot trusted || { echo "    (control failed)" >&2; return 1; }
}

attack()
{
	_at_state=$1 _at_reason="" _at_detail=""
	shift
	[ "$1" = -- ] || { _at_reason=$1; shift; }
	[ "$1" = -- ] || { _at_detail=$1; shift; }
	[ "$1" = -- ] || fail "attack: no -- before the boot arguments"
	shift
	control && boot "$@" &&
	    expect_boot "$_at_state" "$_at_reason" "$_at_detail" && good
}

late()
{
	_lt_reason=$1 _lt_detail=$2
	shift 2
	control && "$@" && expect_untrusted 10 "$_lt_reason" "$_lt_detail" && good
}

adv_finish()
{
	echo "=== summary: $NSC scenarios, $NBAD failed"
	cat "$T/summary"
	[ "$NBAD" -eq 0 ] || exit 1
	echo "PASS"
}
