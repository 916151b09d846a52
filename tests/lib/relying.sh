# relying.sh — POSIX sh library for integration tests that need a relying
# party: a TLS server that demands a client certificate from a given CA, and
# an unmodified OpenSSL client that authenticates with a TPM-resident key
# (TSS2 PRIVATE KEY PEM) through Debian's tpm2-openssl provider (1.1.x).
# Source it from a test that already defines $T (its temp dir) and a `fail`
# function. Everything lives under $T/rp; only the s_server started here is
# stopped here (by the pid in $T/rp/server.pid; also appended to $PIDS, so
# tests/lib/assay.sh's cleanup kills it if the test dies first).
#
#   rp_openssl_conf                    write $T/rp/openssl.cnf (client side)
#   rp_server_start PORT CA_PEM        s_server on 127.0.0.1:PORT, Ed25519
#                                      server cert, client cert required and
#                                      verified against CA_PEM; log in
#                                      $T/rp/server.log (verify errors land
#                                      there, e.g. "certificate has expired")
#   rp_server_stop
#   rp_client PORT TCTI KEY_PEM CERT_PEM [CHAIN_PEM]
#                                      0 iff the mutual-TLS handshake worked
#                                      and the server answered "GET /";
#                                      log in $T/rp/client.log
#
# Why the client is configured the way it is (all checked against swtpm):
#
# - default_properties = ?provider=tpm2: OpenSSL 3.0 picks the signature
#   implementation by property query and then exports the key to that
#   provider. A TPM key exports only its public half, so without a preference
#   for tpm2 the default provider signs CertificateVerify and fails with
#   "ossl_ecdsa_simple_sign_sig:missing private key".
# - tpm2.digest!=yes: otherwise the handshake's hashes are computed in the
#   TPM too (hash sequence objects), and swtpm without a resource manager
#   has 3 object slots: "out of memory for object contexts".
# - Ed25519 server certificate: tpm2-openssl has no Ed25519, so verifying
#   the server stays in the default provider. With an ECDSA/RSA server cert
#   the verification is sent to the TPM and fails the same way.
# - TLS 1.3 only (RP_TLS=-tls1_3): with ?provider=tpm2, libssl offers a
#   named group only if the EC keymgmt the query picks comes from the
#   provider that declared the group; tpm2-openssl 1.1.x declares no TLS
#   groups, so the client advertises only x25519/x448/ffdhe. A TLS 1.2 server
#   (OpenSSL) then rejects a P-256 client cert: "tls12_check_peer_sigalg:
#   wrong curve", alert illegal_parameter. TLS 1.3 does not tie the cert's
#   curve to supported_groups, and X25519 key exchange stays in software.
# - The key PEM must say emptyAuth TRUE, or the provider asks for a
#   passphrase (and fails without a terminal). tpm2-tools 5.4 writes TRUE
#   only with `tpm2_encodeobject -p` (the flag's meaning is inverted).
# - The parent may be a persistent handle (0x81000001: used as is) or
#   0x40000001 (the provider re-creates its ECC P-256 primary, which is the
#   TCG SRK template, so a key created under that SRK loads either way).
# - s_client holds the TPM for its whole run: a second client on bare swtpm
#   blocks, hence `timeout` here and no agent holding the TCTI meanwhile.

RP_TIMEOUT=${RP_TIMEOUT:-20}
RP_TLS=${RP_TLS:--tls1_3}

# rp_openssl_conf — the OPENSSL_CONF for the TPM client (see above).
rp_openssl_conf()
{
	mkdir -p "$T/rp" || fail "rp: cannot create $T/rp"
	cat > "$T/rp/openssl.cnf" <<'EOF' || fail "rp: cannot write openssl.cnf"
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
alg_section = evp_properties
[provider_sect]
default = default_sect
tpm2 = tpm2_sect
[default_sect]
activate = 1
[tpm2_sect]
activate = 1
[evp_properties]
default_properties = ?provider=tpm2,tpm2.digest!=yes
EOF
}

# _rp_listening PORT — true if something listens on 127.0.0.1:PORT.
_rp_listening()
{
	_h=$(printf '%04X' "$1")
	grep -qi "^ *[0-9]*: 0100007F:$_h 00000000:0000 0A " /proc/net/tcp 2>/dev/null
}

# rp_server_start PORT CA_PEM — the relying party. Answers "GET /" with
# s_server's status page (-www), one connection after another, until
# rp_server_stop.
rp_server_start()
{
	_rp_port=$1
	_rp_ca=$2
	[ -f "$_rp_ca" ] || fail "rp_server_start: CA file $_rp_ca missing"
	[ -f "$T/rp/openssl.cnf" ] || rp_openssl_conf
	if [ ! -f "$T/rp/server.pem" ]; then
		env -u OPENSSL_CONF openssl genpkey -algorithm ed25519 \
		    -out "$T/rp/server.key" 2>>"$T/rp/server.log" &&
		env -u OPENSSL_CONF openssl req -new -x509 -key "$T/rp/server.key" \
		    -out "$T/rp/server.pem" -days 30 -subj "/CN=localhost" \
		    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		    2>>"$T/rp/server.log" ||
		    fail "rp_server_start: cannot make the server certificate"
	fi
	# The server uses the default provider only, whatever the caller exported.
	env -u OPENSSL_CONF -u TPM2OPENSSL_TCTI openssl s_server \
	    -accept "127.0.0.1:$_rp_port" \
	    -cert "$T/rp/server.pem" -key "$T/rp/server.key" \
	    -CAfile "$_rp_ca" -Verify 2 -verify_return_error -www \
	    >>"$T/rp/server.log" 2>&1 &
	_rp_pid=$!
	echo "$_rp_pid" > "$T/rp/server.pid"
	PIDS="${PIDS:-} $_rp_pid"
	_i=0
	while [ $_i -lt 100 ]; do
		kill -0 "$_rp_pid" 2>/dev/null ||
		    fail "rp_server_start: s_server died, see $T/rp/server.log"
		_rp_listening "$_rp_port" && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	fail "rp_server_start: s_server not listening on $_rp_port after 5 s"
}

rp_server_stop()
{
	[ -f "$T/rp/server.pid" ] || return 0
	_rp_pid=$(cat "$T/rp/server.pid")
	kill "$_rp_pid" 2>/dev/null
	_i=0
	while kill -0 "$_rp_pid" 2>/dev/null && [ $_i -lt 40 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	kill -9 "$_rp_pid" 2>/dev/null
	rm -f "$T/rp/server.pid"
}

# rp_client PORT TCTI KEY_PEM CERT_PEM [CHAIN_PEM] — one request over mutual
# TLS with the TPM key. Exit status 0 iff s_client succeeded and the server's
# answer arrived (a rejected client cert shows up as an alert, e.g.
# "certificate expired" or "unknown ca", in client.log and as a verify error
# in server.log).
rp_client()
{
	_rp_port=$1
	_rp_tcti=$2
	_rp_key=$3
	_rp_cert=$4
	_rp_chain=${5:-}
	[ -f "$T/rp/openssl.cnf" ] || rp_openssl_conf
	[ -f "$T/rp/server.pem" ] || fail "rp_client: no server certificate (rp_server_start first)"
	# RP_TLS unquoted on purpose: empty means "let OpenSSL negotiate"
	# shellcheck disable=SC2086
	set -- -provider tpm2 -provider default \
	    -connect "127.0.0.1:$_rp_port" $RP_TLS \
	    -key "$_rp_key" -cert "$_rp_cert" \
	    -CAfile "$T/rp/server.pem" -verify_return_error -ign_eof
	[ -n "$_rp_chain" ] && set -- "$@" -cert_chain "$_rp_chain"
	printf 'GET / HTTP/1.0\r\n\r\n' |
	    OPENSSL_CONF="$T/rp/openssl.cnf" TPM2OPENSSL_TCTI="$_rp_tcti" \
	    timeout -k 2 "$RP_TIMEOUT" openssl s_client "$@" \
	    >"$T/rp/client.log" 2>&1
	_rp_rc=$?
	[ "$_rp_rc" -eq 0 ] || return 1
	# not anchored: s_client may print session details on the same line
	grep -q 'HTTP/1.0 200 ok' "$T/rp/client.log"
}
