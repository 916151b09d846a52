#!/usr/bin/env python3
"""ear_check.py — verify an Assay EAR (ES256 JWT) with Python's jwt
(python3-jwt, independent of the verifier's libjwt) against a JWKS from
GET /v1/keys, and compare its claims with the agent. Used by t_ear.sh and
t_identity.sh.

  ear_check.py verify JWKS TOKEN AGENT_JSON STATUS [FAILURE_ID]
      every claim against GET /v1/agents/ID; prints the decoded claims
  ear_check.py tampered JWKS TOKEN     a byte changed: must not verify
  ear_check.py expired JWKS TOKEN      must fail as expired
  ear_check.py kid JWKS TOKEN          prints the token's kid
  ear_check.py cnf JWKS TOKEN CERT_PEM AGENT_ID
      affirming, and cnf.jkt is the RFC 7638 thumbprint of CERT_PEM's key
"""
import base64, hashlib
import json, sys, jwt
from jwt.algorithms import ECAlgorithm

def key_for(jwks, token):
    kid = jwt.get_unverified_header(token)["kid"]
    for k in jwks["keys"]:
        if k["kid"] == kid:
            assert k["kty"] == "EC" and k["crv"] == "P-256"
            assert k["alg"] == "ES256" and k["use"] == "sig"
            return ECAlgorithm.from_jwk(json.dumps(k))
    raise SystemExit("kid %s not in the JWKS" % kid)

def verify(jwks, token, **kw):
    return jwt.decode(token, key_for(jwks, token), algorithms=["ES256"], **kw)

mode, jwks = sys.argv[1], json.load(open(sys.argv[2]))
token = open(sys.argv[3]).read().strip()
if mode == "tampered":
    h, p, s = token.split(".")
    i = len(p) // 2
    p = p[:i] + ("A" if p[i] != "A" else "B") + p[i + 1:]
    try:
        verify(jwks, ".".join((h, p, s)))
    except (jwt.InvalidSignatureError, jwt.DecodeError):
        sys.exit(0)
    raise SystemExit("tampered token verified")
if mode == "expired":
    try:
        verify(jwks, token)
    except jwt.ExpiredSignatureError:
        sys.exit(0)
    raise SystemExit("expired token verified")
if mode == "kid":
    print(jwt.get_unverified_header(token)["kid"])
    sys.exit(0)
if mode == "cnf":
    from cryptography import x509
    c = verify(jwks, token)
    n = x509.load_pem_x509_certificate(open(sys.argv[4], "rb").read()) \
        .public_key().public_numbers()
    b = lambda i: base64.urlsafe_b64encode(i.to_bytes(32, "big")).rstrip(b"=").decode()
    canon = '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (b(n.x), b(n.y))
    jkt = base64.urlsafe_b64encode(hashlib.sha256(canon.encode()).digest()) \
        .rstrip(b"=").decode()
    assert c["cnf"] == {"jkt": jkt}, (c.get("cnf"), jkt)
    assert c["submods"][sys.argv[5]]["ear.status"] == "affirming"
    sys.exit(0)
agent, want = json.load(open(sys.argv[4])), sys.argv[5]
fid = sys.argv[6] if len(sys.argv) > 6 else None
hdr = jwt.get_unverified_header(token)
assert hdr["alg"] == "ES256" and hdr["typ"] == "JWT", hdr
c = verify(jwks, token)
assert c["eat_profile"] == "tag:github.com,2023:veraison/ear", c
assert c["ear.verifier-id"]["developer"] == "https://github.com/assay/assay"
assert c["ear.verifier-id"]["build"].startswith("assay-verifier ")
assert c["exp"] - c["iat"] == 2 * agent["interval"], c
sub = c["submods"][agent["id"]]
assert list(c["submods"]) == [agent["id"]]
assert sub["ear.status"] == want, sub
assert sub["ear.appraisal-policy-id"].startswith("policy:%s@" % agent["policy"])
a = sub["assay"]
assert a["state"] == agent["state"], (a, agent)
assert a["mode"] == agent["mode"]
assert a["tpm_reset_count"] == agent["tpm_clock"]["reset_count"]
# the agent keeps being attested between the two requests: within a round
assert 0 <= agent["last_attested"] - a["last_attested"] <= 2 * agent["interval"]
tv = sub["ear.trustworthiness-vector"]
assert sorted(tv) == sorted(["instance-identity", "configuration", "executables",
    "file-system", "hardware", "runtime-opaque", "storage-opaque", "sourced-data"])
if want == "affirming":
    assert c["iat"] == a["last_attested"]
    assert a["failure_ids"] == []
    assert tv["instance-identity"] == 2 and tv["configuration"] == 2
    assert tv["executables"] == 2 and tv["hardware"] == 2
else:
    assert a["failure_ids"] == [fid] == [agent["reason"]], (a, agent)
    assert tv["instance-identity"] == 2
    assert tv["executables"] == 96, tv	# pcr.value: the documented table
    assert c["iat"] <= agent["last_event"]
print(json.dumps(c, indent=2, sort_keys=True))
