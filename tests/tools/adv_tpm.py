#!/usr/bin/env python3
"""adv_tpm.py -- small TPM-structure helpers for adversarial tests
(standard library only; every file is TPM wire format, TPM2B_PUBLIC as
tpm2-tools writes with -u and as agents send it).

  adv_tpm.py ek-id FILE              the id an agent takes from its EK:
                                     "ek-" + first 16 bytes of SHA-256 over
                                     the TPM2B_PUBLIC bytes, lowercase hex
  adv_tpm.py ecc-ek PUBPEM OUT       a TPM2B_PUBLIC for a P-256 key with the
                                     TCG default EK template (L-2)
  adv_tpm.py attrs FILE              objectAttributes (hex) of a TPM2B_PUBLIC
  adv_tpm.py set-attrs IN OUT CLEAR SET
                                     clear then set objectAttributes bits
                                     (hex masks): a crafted public
  adv_tpm.py name-alg FILE           nameAlg (hex)
  adv_tpm.py set-name-alg IN OUT ALG nameAlg replaced (hex, 0004 = SHA-1)
"""

import base64
import hashlib
import struct
import sys

EK_POLICY = bytes.fromhex(
    "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def tpm2b(b):
    return struct.pack(">H", len(b)) + b


def ecc_ek(pubpem):
    der = base64.b64decode("".join(
        l for l in read(pubpem).decode().splitlines() if not l.startswith("-----")))
    pt = der[-65:]
    if pt[0] != 4:
        raise SystemExit("not an uncompressed P-256 point")
    x, y = pt[1:33], pt[33:65]
    body = struct.pack(">HHI", 0x0023, 0x000B, 0x000300B2) + tpm2b(EK_POLICY)
    # symmetric AES-128-CFB, scheme NULL, curve P-256, kdf NULL
    body += struct.pack(">HHH", 0x0006, 128, 0x0043) + struct.pack(">H", 0x0010)
    body += struct.pack(">H", 0x0003) + struct.pack(">H", 0x0010)
    body += tpm2b(x) + tpm2b(y)
    return tpm2b(body)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "ek-id":
        print("ek-" + hashlib.sha256(read(argv[2])).hexdigest()[:32])
    elif cmd == "ecc-ek":
        write(argv[3], ecc_ek(argv[2]))
    elif cmd == "attrs":
        print("%08x" % struct.unpack_from(">I", read(argv[2]), 6)[0])
    elif cmd == "set-attrs":
        b = bytearray(read(argv[2]))
        (a,) = struct.unpack_from(">I", b, 6)
        a = (a & ~int(argv[4], 16)) | int(argv[5], 16)
        struct.pack_into(">I", b, 6, a & 0xFFFFFFFF)
        write(argv[3], bytes(b))
    elif cmd == "name-alg":
        print("%04x" % struct.unpack_from(">H", read(argv[2]), 4)[0])
    elif cmd == "set-name-alg":
        b = bytearray(read(argv[2]))
        struct.pack_into(">H", b, 4, int(argv[4], 16))
        write(argv[3], bytes(b))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
