#!/bin/sh
# deps.sh — install the Debian packages Assay builds and tests with, only
# when something is missing (so it is fast when all is there).
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev libtss2-dev swtpm swtpm-tools
tpm2-tools libssl-dev openssl libevent-dev libjansson-dev libyaml-dev
libarchive-dev libsqlite3-dev sqlite3 libpq-dev postgresql check curl ca-certificates procps ima-evm-utils jq
libsystemd-dev systemd python3 python3-prometheus-client man-db libjwt-dev python3-jwt
tpm2-openssl nginx-light python3-cryptography"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing
