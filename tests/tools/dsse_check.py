#!/usr/bin/env python3
"""dsse_check.py — an independent DSSE implementation for Assay's signed
policies (python3-cryptography; nothing shared with common/dsse.c). Used by
t_policy_sign.sh.

  dsse_check.py verify ENVELOPE PUBKEY.pem
      computes PAE itself, verifies ECDSA P-256/SHA-256 (DER) or Ed25519
      signatures under the key; exit 0 if one verifies; prints the
      statement's name, signed_at and the policy's sha256
  dsse_check.py sign POLICY NAME KEY.pem [CERT.pem...]
      prints an envelope over the statement for POLICY named NAME, signed
      now with KEY; CERT files (leaf first) become the signature's x5c
  dsse_check.py tamper ENVELOPE
      prints ENVELOPE with one byte of the policy text changed (payload
      decoded, changed, re-encoded; signatures kept)
  dsse_check.py capture PKI_DIR
      a stand-in for the verifier's PUT /v1/policies/NAME (mTLS with the
      certs init PKI in PKI_DIR): writes its port to ./port and each
      request's body and Content-Type to ./put.N.body and ./put.N.ctype
"""
import base64, hashlib, json, sys, time
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

PAYLOAD_TYPE = "application/vnd.assay.policy+json"
STMT_TYPE = "https://assay.dev/policy/v1"


def pae(ptype, body):
    t = ptype.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def b64dec(s):
    s = s.replace("-", "+").replace("_", "/")
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)


def keyid(pub):
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def check_key(k):
    if isinstance(k, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return
    if isinstance(k, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)) \
            and k.curve.name == "secp256r1":
        return
    raise SystemExit("unsupported key: only P-256 and Ed25519")


def verify_one(pub, msg, sig):
    try:
        if isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(sig, msg)
        else:
            pub.verify(sig, msg, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def verify(env_path, key_path):
    with open(env_path, "rb") as f:
        env = json.load(f)
    with open(key_path, "rb") as f:
        pub = serialization.load_pem_public_key(f.read())
    check_key(pub)
    body = b64dec(env["payload"])
    msg = pae(env["payloadType"], body)
    ok = [s for s in env["signatures"] if verify_one(pub, msg, b64dec(s["sig"]))]
    if not ok:
        raise SystemExit("dsse_check: no signature verifies under %s (%s)"
                         % (key_path, keyid(pub)))
    if env["payloadType"] != PAYLOAD_TYPE:
        raise SystemExit("dsse_check: payloadType %r" % env["payloadType"])
    stmt = json.loads(body)
    assert stmt["_type"] == STMT_TYPE, stmt["_type"]
    assert set(stmt) == {"_type", "name", "signed_at", "policy"}, stmt.keys()
    print("verified: %s" % keyid(pub))
    print("name: %s" % stmt["name"])
    print("signed_at: %d" % stmt["signed_at"])
    print("sha256: %s" % hashlib.sha256(stmt["policy"].encode()).hexdigest())


def sign(policy_path, name, key_path, cert_paths):
    with open(policy_path, encoding="utf-8") as f:
        text = f.read()
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    check_key(key)
    stmt = {"_type": STMT_TYPE, "name": name, "signed_at": int(time.time()),
            "policy": text}
    body = json.dumps(stmt, separators=(",", ":")).encode()
    msg = pae(PAYLOAD_TYPE, body)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        sig = key.sign(msg)
    else:
        sig = key.sign(msg, ec.ECDSA(hashes.SHA256()))
    s = {"keyid": keyid(key.public_key()),
         "sig": base64.b64encode(sig).decode()}
    if cert_paths:
        s["x5c"] = []
        for p in cert_paths:
            with open(p, "rb") as f:
                c = x509.load_pem_x509_certificate(f.read())
            s["x5c"].append(base64.b64encode(
                c.public_bytes(serialization.Encoding.DER)).decode())
    print(json.dumps({"payloadType": PAYLOAD_TYPE,
                      "payload": base64.b64encode(body).decode(),
                      "signatures": [s]}, indent=2))


def tamper(env_path):
    with open(env_path, "rb") as f:
        env = json.load(f)
    stmt = json.loads(b64dec(env["payload"]))
    p = stmt["policy"]
    i = p.index("sha256")
    stmt["policy"] = p[:i] + "sha384" + p[i + 6:]
    body = json.dumps(stmt, separators=(",", ":")).encode()
    env["payload"] = base64.b64encode(body).decode()
    print(json.dumps(env))


def capture(pki):
    import http.server, os, ssl
    count = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_PUT(self):
            count[0] += 1
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with open("put.%d.body" % count[0], "wb") as f:
                f.write(body)
            with open("put.%d.ctype" % count[0], "w") as f:
                f.write(self.headers["Content-Type"])
            out = json.dumps({"name": self.path.split("/")[-1],
                              "agents": 0}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki + "/verifier.pem", pki + "/verifier.key")
    ctx.load_verify_locations(pki + "/ca.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open("port.tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename("port.tmp", "port")
    srv.serve_forever()


def main(argv):
    if len(argv) == 3 and argv[0] == "verify":
        verify(argv[1], argv[2])
    elif len(argv) >= 4 and argv[0] == "sign":
        sign(argv[1], argv[2], argv[3], argv[4:])
    elif len(argv) == 2 and argv[0] == "tamper":
        tamper(argv[1])
    elif len(argv) == 2 and argv[0] == "capture":
        capture(argv[1])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
