# swtpm.sh — POSIX sh library for tests that need a software TPM: make a
# TPM state with EK certificates from a local (or caller-supplied) CA, start
# and stop the swtpm socket daemon, simulate a reboot, print the TCTI.
# Everything lives under the caller's DIR; only processes started here are
# stopped here (by the pid in DIR/swtpm.pid). Source it: . tests/lib/swtpm.sh
#
#   swtpm_make DIR [rsa|ecc] [CADIR]   manufacture DIR/tpm (RSA-2048 EK at
#                                      0x81010001 + cert NV 0x01c00002, ECC
#                                      P-384 EK at 0x81010016 + cert NV
#                                      0x01c00016; banks sha1,sha256)
#   swtpm_make_ca CADIR                own ECDSA P-256 root + issuing CA
#   swtpm_ca_root DIR                  echoes the PEM file of the root CA
#   swtpm_start DIR / swtpm_stop DIR / swtpm_reset DIR / swtpm_tcti DIR

SWTPM_TIMEOUT=${SWTPM_TIMEOUT:-10}

# swtpm_make_ca CADIR — a root CA and an intermediate that signs EK certs,
# laid out the way swtpm_make expects a CADIR: signkey.pem, issuercert.pem,
# certserial, rootca.pem.
swtpm_make_ca()
{
	_ca=$1
	mkdir -p "$_ca" || return 1
	(
		cd "$_ca" || exit 1
		openssl ecparam -name prime256v1 -genkey -noout -out rootca.key 2>/dev/null &&
		openssl req -new -x509 -key rootca.key -out rootca.pem -days 3650 \
		    -subj "/CN=assay test TPM root CA" \
		    -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null &&
		openssl ecparam -name prime256v1 -genkey -noout -out signkey.pem 2>/dev/null &&
		openssl req -new -key signkey.pem -out issuer.csr \
		    -subj "/CN=assay test TPM issuing CA" 2>/dev/null &&
		printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > issuer.ext &&
		openssl x509 -req -in issuer.csr -CA rootca.pem -CAkey rootca.key \
		    -set_serial 2 -days 3650 -extfile issuer.ext -out issuercert.pem 2>/dev/null &&
		echo 1 > certserial &&
		rm -f issuer.csr issuer.ext
	)
}

# swtpm_make DIR [rsa|ecc] [CADIR] — swtpm_setup always creates both an RSA
# and an ECC EK; the algorithm argument is recorded in DIR/ek_alg for the
# caller. Without CADIR, swtpm_localca makes its own CA under DIR/xdg.
swtpm_make()
{
	_d=$1
	_alg=${2:-rsa}
	_ca=${3:-}
	case $_alg in
	rsa|ecc) ;;
	*) echo "swtpm_make: unknown EK algorithm $_alg" >&2; return 1 ;;
	esac
	mkdir -p "$_d/tpm" "$_d/xdg" || return 1
	XDG_CONFIG_HOME=$_d/xdg swtpm_setup --create-config-files overwrite,root \
	    >/dev/null 2>&1 || { echo "swtpm_make: config files failed" >&2; return 1; }
	if [ -n "$_ca" ]; then
		_ca=$(cd "$_ca" && pwd) || return 1
		for _f in signkey.pem issuercert.pem certserial; do
			[ -f "$_ca/$_f" ] || { echo "swtpm_make: $_ca/$_f missing" >&2; return 1; }
		done
		cat > "$_d/xdg/swtpm-localca.conf" <<EOF
statedir = $_ca
signingkey = $_ca/signkey.pem
issuercert = $_ca/issuercert.pem
certserial = $_ca/certserial
EOF
	fi
	echo "$_alg" > "$_d/ek_alg"
	XDG_CONFIG_HOME=$_d/xdg timeout 60 swtpm_setup --tpm2 --tpmstate "$_d/tpm" \
	    --config "$_d/xdg/swtpm_setup.conf" --create-ek-cert \
	    --create-platform-cert --pcr-banks sha1,sha256 \
	    --write-ek-cert-files "$_d/tpm" --overwrite \
	    >"$_d/swtpm_setup.log" 2>&1 ||
	    { echo "swtpm_make: swtpm_setup failed, see $_d/swtpm_setup.log" >&2; return 1; }
}

# swtpm_ca_root DIR — the root certificate that EK certs of DIR chain to.
swtpm_ca_root()
{
	_conf=$1/xdg/swtpm-localca.conf
	_state=$(sed -n 's/^statedir *= *//p' "$_conf")
	if [ -f "$_state/rootca.pem" ]; then
		echo "$_state/rootca.pem"
	else
		echo "$_state/swtpm-localca-rootca-cert.pem"
	fi
}

swtpm_tcti()
{
	echo "swtpm:path=$(cd "$1" && pwd)/tpm.sock"
}

# swtpm_start DIR — daemon on DIR/tpm.sock (control DIR/tpm.sock.ctrl, as
# the swtpm TCTI expects), TPM2_Startup(CLEAR) done by swtpm itself.
swtpm_start()
{
	# swtpm -d changes to /: every path it gets must be absolute.
	_d=$(cd "$1" && pwd) || return 1
	rm -f "$_d/tpm.sock" "$_d/tpm.sock.ctrl" "$_d/swtpm.pid"
	swtpm socket --tpm2 --tpmstate dir="$_d/tpm" \
	    --server type=unixio,path="$_d/tpm.sock" \
	    --ctrl type=unixio,path="$_d/tpm.sock.ctrl" \
	    --flags not-need-init,startup-clear \
	    --pid file="$_d/swtpm.pid" --log file="$_d/swtpm.log" -d ||
	    { echo "swtpm_start: swtpm failed" >&2; return 1; }
	_i=0
	while [ ! -S "$_d/tpm.sock" ] || [ ! -S "$_d/tpm.sock.ctrl" ] ||
	    [ ! -s "$_d/swtpm.pid" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 500 ]; then
			echo "swtpm_start: no socket in $_d" >&2
			return 1
		fi
		sleep 0.01
	done
}

# swtpm_stop DIR — graceful shutdown through the control channel, then
# make sure the process we started (and only that one) is gone.
swtpm_stop()
{
	_d=$1
	[ -s "$_d/swtpm.pid" ] || return 0
	_pid=$(cat "$_d/swtpm.pid")
	timeout "$SWTPM_TIMEOUT" swtpm_ioctl --unix "$_d/tpm.sock.ctrl" -s \
	    >/dev/null 2>&1
	_i=0
	while kill -0 "$_pid" 2>/dev/null; do
		_i=$((_i + 1))
		if [ "$_i" -eq 200 ]; then
			kill "$_pid" 2>/dev/null
		elif [ "$_i" -gt 400 ]; then
			kill -9 "$_pid" 2>/dev/null
			break
		fi
		sleep 0.01
	done
	rm -f "$_d/swtpm.pid"
}

# swtpm_reset DIR — simulated reboot: TPM_Init (PCRs reset, resetCount + 1)
# followed by TPM2_Startup(CLEAR).
swtpm_reset()
{
	_d=$1
	timeout "$SWTPM_TIMEOUT" swtpm_ioctl --unix "$_d/tpm.sock.ctrl" -i \
	    >/dev/null || { echo "swtpm_reset: TPM_Init failed" >&2; return 1; }
	timeout "$SWTPM_TIMEOUT" tpm2_startup -c -T "$(swtpm_tcti "$_d")" \
	    >/dev/null 2>&1 || { echo "swtpm_reset: Startup failed" >&2; return 1; }
}
