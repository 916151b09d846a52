#!/bin/sh
# Regenerate the evmctl test vectors (ima-evm-utils 1.4, OpenSSL 3.0):
# an RSA-2048 and an ECDSA P-256 key, their public keys, and the IMA v2
# signatures (security.ima format) of evm-file.txt with sha256.
set -e
cd "$(dirname "$0")"
openssl genrsa -out evm-rsa.key 2048 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out evm-ec.key
openssl pkey -in evm-rsa.key -pubout -out evm-rsa.pub
openssl pkey -in evm-ec.key -pubout -out evm-ec.pub
printf 'hello assay\n' > evm-file.txt
for k in rsa ec; do
	evmctl ima_sign --sigfile --key evm-$k.key -a sha256 evm-file.txt >/dev/null
	mv evm-file.txt.sig evm-file.$k.sig
done
sha256sum evm-file.txt | cut -d' ' -f1 > evm-file.sha256
rm -f evm-rsa.key evm-ec.key	# only the public halves are test data
