#!/bin/sh
# make.sh — how the swtpm-generated quote fixtures in this directory were made
# (tpm2-tools 5.4, swtpm 0.7.1). Not run by the tests: the outputs are
# committed. Usage: tests/data/quote/make.sh [OUTDIR]  (default: this dir)
#
# Each fixture dir holds: ak.pem (PEM public key), ak.pub (TPM2B_PUBLIC),
# ak.name (binary Name), ek.pub (the AK's parent, TPM2B_PUBLIC: with it the
# AK's qualified name, which the quote carries as qualifiedSigner, is
# computed), q.msg (TPMS_ATTEST), q.sig (TPMT_SIGNATURE),
# q.pcrs (tpm2-tools serialized PCR dump), nonce.hex, sel.txt.
set -eu
OUT=$(cd "${1:-$(dirname "$0")}" && pwd)
T=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
mkdir -p "$T/tpm"
swtpm socket --tpm2 --tpmstate dir="$T/tpm" \
    --server type=unixio,path="$T/tpm.sock" \
    --ctrl type=unixio,path="$T/tpm.sock.ctrl" \
    --flags not-need-init,startup-clear --pid file="$T/swtpm.pid" -d
sleep 0.3
PID=$(cat "$T/swtpm.pid")
export TPM2TOOLS_TCTI="swtpm:path=$T/tpm.sock"
TO="timeout 60"

# Give the PCRs non-trivial values (both banks).
for i in 0 1 2 3 4 5 6 7 8 9 10; do
	printf 'assay pcr %s' "$i" > "$T/ev"
	$TO tpm2_pcrevent "$i" "$T/ev" >/dev/null
done

$TO tpm2_createek -c "$T/ek.ctx" -G rsa -u "$T/ek.pub" >/dev/null
# No resource manager: swtpm keeps 3 transient slots, flush after each tool.
fl() { $TO tpm2_flushcontext -t; $TO tpm2_flushcontext -s; }
fl

# name keyalg sigscheme selection
mk() {
	name=$1 alg=$2 scheme=$3 sel=$4
	d="$OUT/$name"
	mkdir -p "$d"
	cp "$T/ek.pub" "$d/ek.pub"
	$TO tpm2_createak -C "$T/ek.ctx" -c "$T/ak.ctx" -G "$alg" -g sha256 \
	    -s "$scheme" -u "$d/ak.pub" -n "$d/ak.name" >/dev/null
	fl
	$TO tpm2_readpublic -c "$T/ak.ctx" -f pem -o "$d/ak.pem" >/dev/null
	fl
	nonce=$(openssl rand -hex 20)
	printf '%s\n' "$nonce" > "$d/nonce.hex"
	printf '%s\n' "$sel" > "$d/sel.txt"
	$TO tpm2_quote -c "$T/ak.ctx" -l "$sel" -q "$nonce" -m "$d/q.msg" \
	    -s "$d/q.sig" -o "$d/q.pcrs" -g sha256 --scheme "$scheme" >/dev/null
	if [ "$scheme" = rsapss ]; then
		# tpm2_checkquote 5.4 insists on the maximum PSS salt; libtpms
		# signs with salt = digest length, so check with openssl instead.
		tail -c +7 "$d/q.sig" > "$T/sig.raw"
		openssl dgst -sha256 -verify "$d/ak.pem" \
		    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:auto \
		    -signature "$T/sig.raw" "$d/q.msg" >/dev/null
	else
		$TO tpm2_checkquote -u "$d/ak.pem" -m "$d/q.msg" \
		    -s "$d/q.sig" -f "$d/q.pcrs" -g sha256 -q "$nonce" >/dev/null
	fi
	fl
	echo "made $name"
}

mk ecc-p256 ecc ecdsa sha256:0,1,2,3,4,5,6,7,8,9,10
mk rsa-2048 rsa rsassa sha256:0,1,2,3,4,5,6,7,8,9,10
mk rsa-pss-2bank rsa rsapss sha1:0,1,2,3,4,5,6,7+sha256:0,1,2,3,4,5,6,7,8,9,10
