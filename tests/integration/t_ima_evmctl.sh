#!/bin/sh
# t_ima_evmctl.sh — cross-check `assayctl ima replay` against evmctl
# (ima-evm-utils): for each binary list in tests/data/ima, the PCR 10 value
# evmctl computes ("<bank>: PCRAgg  10: <hex>", last one printed with
# -vvv; --ignore-violations makes it extend violations as 0xFF like the
# kernel) equals ours for the sha1 and sha256 banks. evmctl is given a
# dummy all-zero PCR file, so it reports a mismatch: only its computed
# aggregate is used. Skips only when evmctl is absent.
ASSAY_BIN=${ASSAY_BIN:-build}
ctl="$ASSAY_BIN/assayctl"
if ! command -v evmctl >/dev/null 2>&1; then
	echo "SKIP t_ima_evmctl: evmctl (ima-evm-utils) not installed"
	exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
printf 'PCR-10: %s\n' 0000000000000000000000000000000000000000 > "$tmp/pcrs"
fail=0
n=0
for f in h12ssl.values.binary_runtime_measurements \
    hahuri-invalid-eventlog.values.binary_runtime_measurements \
    sr630.binary_runtime_measurements h12ssl.binary_runtime_measurements; do
	list="tests/data/ima/$f"
	ours=$(timeout 60 "$ctl" ima replay "$list") || { echo "FAIL: assayctl on $f"; fail=1; continue; }
	for bank in sha1 sha256; do
		# every aggregate evmctl tried (per-bank hash and SHA-1 padded)
		theirs=$(timeout 120 evmctl ima_measurement -vvv --ignore-violations \
		    --pcrs "$bank,$tmp/pcrs" "$list" 2>&1 |
		    sed -n "s/^$bank: PCRAgg  *10: \([0-9a-f]*\)$/\1/p" | sort -u)
		for k in "$bank" "$bank-padded"; do
			[ "$bank" = sha1 ] && [ "$k" = sha1-padded ] && continue
			mine=$(printf '%s\n' "$ours" |
			    sed -n "s/.*\"$k\":\"\([0-9a-f]*\)\".*/\1/p")
			n=$((n + 1))
			if [ -z "$mine" ] || ! printf '%s\n' "$theirs" | grep -qx "$mine"; then
				echo "FAIL: $f $k: assay=$mine not among evmctl's: $theirs" | head -c 600
				echo
				fail=1
			fi
		done
	done
done
[ "$fail" -eq 0 ] && echo "ok t_ima_evmctl: $n bank replays agree with evmctl"
exit $fail
