#!/bin/sh
# release-policy.sh — a CI job that turns a build into reference values
# the fleet is judged with: build the package, hash what it installs into
# the IMA policy (keeping the previous releases of the update window),
# sign the policy with the release key, check the signature offline, then,
# when a verifier is given, preview what the new version would do to the
# hosts, try it on canary hosts, and put it in force.
#
# Plain shell; runs the same on a laptop and in any CI. Usage:
#   examples/ci/release-policy.sh SRC_DIR VERSION
# Environment:
#   POLICY        policy name (default: demo-app)
#   POLICY_FILE   the policy kept between releases (default: ./POLICY.yaml);
#                 the new release is merged into it, older ones dropped; it
#                 is replaced only once the verifier took the new version
#   KEEP          releases allowed at once (default 2: the update window)
#   SIGNING_KEY   PEM private key (P-256 or Ed25519) of the release signer;
#                 in CI from the secret store, never from the repository
#   SIGNER_PUB    its public key, to check the envelope before it leaves
#   OUT           output directory (default: ./out)
#   ASSAYCTL      assayctl to use (default: assayctl on PATH)
#   ASSAY_VERIFIER, ASSAY_CERT, ASSAY_KEY, ASSAY_CA: the verifier and the
#                 admin certificate (assayctl(1)); unset: stop after signing
#   CANARY        agent ids (comma separated) that get the release first
#   PROMOTE       1: put the release in force for every host after the
#                 canaries are judged (default: leave that to a person)
#
# SRC_DIR holds a program (main.c, given -DVERSION="...") built into the
# package's /usr/bin.
set -eu

SRC=${1:?usage: release-policy.sh SRC_DIR VERSION}
VERSION=${2:?usage: release-policy.sh SRC_DIR VERSION}
POLICY=${POLICY:-demo-app}
POLICY_FILE=${POLICY_FILE:-./$POLICY.yaml}
KEEP=${KEEP:-2}
OUT=${OUT:-./out}
ASSAYCTL=${ASSAYCTL:-assayctl}
: "${SIGNING_KEY:?SIGNING_KEY: the release signer's private key}"
: "${SIGNER_PUB:?SIGNER_PUB: the release signer's public key}"

mkdir -p "$OUT"
PKG=$OUT/pkg-$VERSION
DEB=$OUT/${POLICY}_${VERSION}_all.deb

echo "== build $POLICY $VERSION"
rm -rf "$PKG"
mkdir -p "$PKG/DEBIAN" "$PKG/usr/bin"
${CC:-cc} -O2 -DVERSION="\"$VERSION\"" -o "$PKG/usr/bin/$POLICY" "$SRC/main.c"
cat > "$PKG/DEBIAN/control" <<EOF
Package: $POLICY
Version: $VERSION
Architecture: all
Maintainer: CI <ci@example.org>
Description: $POLICY, built by the release pipeline
EOF
dpkg-deb --root-owner-group --build "$PKG" "$DEB" >/dev/null

echo "== reference values: $DEB into $POLICY_FILE (keep $KEEP releases)"
if [ -f "$POLICY_FILE" ]; then
	"$ASSAYCTL" policy generate --name "$POLICY" --merge "$POLICY_FILE" \
	    --deb "$DEB" --keep "$KEEP" -o "$OUT/$POLICY.yaml"
else
	"$ASSAYCTL" policy generate --name "$POLICY" --deb "$DEB" \
	    --keep "$KEEP" -o "$OUT/$POLICY.yaml"
fi

echo "== sign and check offline"
"$ASSAYCTL" policy sign --key "$SIGNING_KEY" -o "$OUT/$POLICY.dsse.json" \
    "$OUT/$POLICY.yaml"
"$ASSAYCTL" policy verify --signer "$SIGNER_PUB" --name "$POLICY" \
    "$OUT/$POLICY.dsse.json"

if [ -z "${ASSAY_VERIFIER:-}" ]; then
	echo "== ASSAY_VERIFIER unset: signed policy in $OUT/$POLICY.dsse.json"
	cp "$OUT/$POLICY.yaml" "$POLICY_FILE"
	exit 0
fi

echo "== preview on the fleet (nothing changes)"
if ! "$ASSAYCTL" policy preview "$POLICY" "$OUT/$POLICY.dsse.json"; then
	echo "release $VERSION would fail hosts: not uploaded" >&2
	exit 1
fi

if [ -n "${CANARY:-}" ]; then
	echo "== canaries: $CANARY"
	v=$("$ASSAYCTL" --json policy upload --canary "$CANARY" "$POLICY" \
	    "$OUT/$POLICY.dsse.json" | sed -n 's/.*"version": *\([0-9]*\).*/\1/p')
	[ -n "$v" ] || exit 1
	# The kept policy is what the verifier holds from now on.
	cp "$OUT/$POLICY.yaml" "$POLICY_FILE"
	echo "version $v tried on $CANARY"
	[ "${PROMOTE:-0}" = 1 ] || exit 0
	# The canaries are judged at once: wait until each is judged with
	# version $v, and promote only if every one is trusted with it.
	for id in $(echo "$CANARY" | tr ',' ' '); do
		i=0
		until "$ASSAYCTL" --json agents show "$id" |
		    grep -q "\"policy_version\": *$v[,}]"; do
			i=$((i + 1))
			[ "$i" -lt "${CANARY_WAIT:-60}" ] || {
				echo "canary $id not judged with version $v" >&2
				exit 1
			}
			sleep 1
		done
		"$ASSAYCTL" --json agents show "$id" |
		    grep -q '"state": *"trusted"' && continue
		echo "canary $id is not trusted with $VERSION: not promoted" >&2
		exit 1
	done
	"$ASSAYCTL" policy promote "$POLICY"
else
	"$ASSAYCTL" policy upload "$POLICY" "$OUT/$POLICY.dsse.json"
	cp "$OUT/$POLICY.yaml" "$POLICY_FILE"
fi
"$ASSAYCTL" policy versions "$POLICY"
