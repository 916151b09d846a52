#!/bin/sh
# run.sh O — run every benchmark built under O/bench, then OpenSSL's own
# verify rates on this machine for comparison.
O=${1:-build}
rc=0
for b in "$O"/bench/*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b" || rc=1
done
echo "== openssl speed (verify/s, 1 thread, for comparison)"
openssl speed -seconds 2 ecdsap256 rsa2048 2>/dev/null |
    awk '/^rsa 2048 bits/ { printf "openssl rsa-2048 verify: %s/s\n", $7 }
	 /^ 256 bits ecdsa/ { printf "openssl ecdsa-p256 verify: %s/s\n", $8 }'
exit $rc
