#!/usr/bin/python3
"""check_input.py — the decision of assay_ear.rego in Python, for machines
without an `opa` binary: it reads the same input document and prints what
`opa eval -d assay_ear.rego -i input.json 'data.assay.ear.decision'` gives
(allow, deny_reasons, the facts), rule for rule. Needs python3-jwt and
python3-cryptography (Debian: apt-get install python3-jwt).

    ./check_input.py input.json            # exit 0 allowed, 1 denied
    ./check_input.py --selftest input.json input-untrusted.json

--selftest derives refused variants from the two example inputs (tampered,
expired, stale, another agent, forged with a key outside the JWKS, HS256
with the public key as secret, alg none, JWKS as text, wrong verifier id,
policy not listed) and checks each decision.
"""
import base64
import copy
import json
import sys
import time

from jwt.algorithms import ECAlgorithm

EAR_PROFILE = "tag:github.com,2023:veraison/ear"
CLOCK_SKEW_S = 5
KNOWN_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
              "ES384", "ES512", "HS256", "HS384", "HS512", "EdDSA"}


class Undefined(Exception):
    """A Rego expression that is undefined (a builtin error)."""


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_decode(token):
    """io.jwt.decode: [header, payload, sig] or Undefined."""
    try:
        h, p, s = token.split(".")
        header, payload = json.loads(b64url(h)), json.loads(b64url(p))
        b64url(s)
    except (ValueError, TypeError):
        raise Undefined("not a compact JWT")
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise Undefined("header or payload not an object")
    return header, payload


def jwt_decode_verify(token, jwks_text, alg, now_ns):
    """io.jwt.decode_verify as OPA implements it (v1/topdown/tokens.go):
    [valid, header, payload], or Undefined on a decoding error."""
    header, payload = jwt_decode(token)
    try:
        keys = []
        for k in json.loads(jwks_text)["keys"]:
            if k.get("alg") and k["alg"] not in KNOWN_ALGS:
                continue
            keys.append((ECAlgorithm.from_jwk(json.dumps(k)), k.get("alg", ""),
                         k.get("kid", "")))
    except Exception:
        raise Undefined("JWKS does not parse")
    unverified = [False, {}, {}]
    halg = header.get("alg", "")
    if not isinstance(halg, str) or halg == "":
        return unverified
    crit = header.get("crit") or []
    if any(c not in ("alg", "kid", "typ", "cty", "crit") for c in crit):
        return unverified
    if alg and halg != alg:
        return unverified
    h, p, s = token.split(".")
    msg, sig = (h + "." + p).encode(), b64url(s)
    es = ECAlgorithm(ECAlgorithm.SHA256)
    if halg != "ES256":	# only ES256 gets here: the constraint is ES256
        return unverified
    kid = header.get("kid", "")
    by_kid = [key for key, _, kkid in keys if kid and kkid == kid]
    if by_kid:
        ok = es.verify(msg, by_kid[0], sig)
    else:
        ok = any(es.verify(msg, key, sig) for key, kalg, _ in keys
                 if kalg in ("", halg))
    if not ok:
        return unverified
    now_s = now_ns / 1e9
    if "exp" in payload:
        if not is_number(payload["exp"]):
            raise Undefined("exp value must be a number")
        if not now_s < payload["exp"]:
            return unverified
    if "nbf" in payload:
        if not is_number(payload["nbf"]):
            raise Undefined("nbf value must be a number")
        if now_s < payload["nbf"]:
            return unverified
    return [True, header, payload]


def fmt(v):
    """sprintf %v of a Rego value (close enough for messages)."""
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (list, dict)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def decide(inp, wallclock_ns=None):
    """data.assay.ear.decision for input inp."""
    reasons = set()
    max_age_s = inp["max_age_s"] if is_number(inp.get("max_age_s")) else 60
    if is_number(inp.get("now")):
        now_ns = inp["now"] * 1000000000
    else:
        now_ns = wallclock_ns if wallclock_ns is not None else time.time_ns()
    now_s = now_ns / 1000000000
    if isinstance(now_s, float) and now_s.is_integer():
        now_s = int(now_s)
    token = inp["token"].strip() if isinstance(inp.get("token"), str) else None
    agent_id = inp.get("agent_id")

    jwks_text, jwks = None, None
    if isinstance(inp.get("jwks"), str):
        jwks_text = inp["jwks"]
        try:
            jwks = json.loads(jwks_text)
        except ValueError:
            jwks = None
    elif isinstance(inp.get("jwks"), dict):
        jwks, jwks_text = inp["jwks"], json.dumps(inp["jwks"])
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    kids = {k.get("kid") for k in keys if isinstance(k, dict)} \
        if isinstance(keys, list) else set()

    uh = uc = None
    if token is not None:
        try:
            uh, uc = jwt_decode(token)
        except Undefined:
            pass
    verified = None
    if token is not None and jwks_text is not None:
        try:
            verified = jwt_decode_verify(token, jwks_text, "ES256", now_ns)
        except Undefined:
            verified = None
    claims = verified[2] if verified is not None and verified[0] else None
    submod = None
    if claims is not None and isinstance(agent_id, str):
        submod = (claims.get("submods") or {}).get(agent_id)

    if token is None:
        reasons.add("input.token: missing (the agent's EAR, a compact JWT string)")
    if jwks_text is None:
        reasons.add("input.jwks: missing (the verifier's GET /v1/keys, object or string)")
    elif not isinstance(keys, list):
        reasons.add('input.jwks: not a JWKS ({"keys":[...]})')
    if not isinstance(agent_id, str):
        reasons.add("input.agent_id: required (the Assay agent id the token must be about)")
    if token is not None and uh is None:
        reasons.add("token: not a compact JWT (header.payload.signature)")
    if uh is not None and uh.get("alg", "(none)") != "ES256":
        reasons.add("token: alg %s is not ES256" % fmt(uh.get("alg", "(none)")))
    if uh is not None and uh.get("alg") == "ES256" and isinstance(keys, list):
        kid = uh.get("kid", "(none)")
        if kid not in kids:
            reasons.add("token: kid %s is not in the JWKS (fetch GET /v1/keys again; "
                        "a key dropped from results.previous_keys no longer verifies)"
                        % fmt(kid))
    expired = uc is not None and is_number(uc.get("exp")) and now_s >= uc["exp"]
    if uh is not None and uh.get("alg") == "ES256" and verified is not None \
            and verified[0] is False:
        if expired:
            reasons.add("token: expired at %s (now %s): the agent missed its rounds "
                        "or the result is old; fetch it again"
                        % (fmt(uc["exp"]), fmt(now_s)))
        else:
            reasons.add("token: the signature does not verify against the JWKS")
    if uh is not None and jwks_text is not None and verified is None:
        reasons.add("token: could not be verified (malformed token or JWKS)")

    if claims is not None:
        if "eat_profile" not in claims:
            reasons.add("claims: no eat_profile")
        elif claims["eat_profile"] != EAR_PROFILE:
            reasons.add("claims: eat_profile %s is not %s"
                        % (fmt(claims["eat_profile"]), EAR_PROFILE))
        if not is_number(claims.get("exp")):
            reasons.add("claims: no numeric exp (an EAR without an expiry is never accepted)")
        iat = claims.get("iat")
        if not is_number(iat):
            reasons.add("claims: no numeric iat")
        else:
            if now_s - iat > max_age_s:
                reasons.add("claims: the appraisal is %s s old (iat %s), more than "
                            "max_age_s %s" % (fmt(now_s - iat), fmt(iat), fmt(max_age_s)))
            if iat > now_s + CLOCK_SKEW_S:
                reasons.add("claims: iat %s is in the future (now %s)"
                            % (fmt(iat), fmt(now_s)))
        if isinstance(agent_id, str) and submod is None:
            reasons.add("claims: no submod for agent %s (the token is about %s)"
                        % (agent_id, fmt(list(claims.get("submods") or {}))))
        if isinstance(inp.get("verifier_id"), str):
            dev = (claims.get("ear.verifier-id") or {}).get("developer", "(missing)")
            if dev != inp["verifier_id"]:
                reasons.add("claims: ear.verifier-id developer %s is not %s"
                            % (fmt(dev), inp["verifier_id"]))
    policy_name = None
    if submod is not None:
        status = submod.get("ear.status", "(missing)")
        a = submod.get("assay") or {}
        if status != "affirming":
            reasons.add("agent %s: ear.status %s, not affirming (Assay state %s, "
                        "failure ids %s)" % (agent_id, fmt(status),
                                             fmt(a.get("state", "?")),
                                             fmt(a.get("failure_ids", []))))
        pid = submod.get("ear.appraisal-policy-id")
        if isinstance(pid, str) and pid.startswith("policy:"):
            policy_name = "@".join(pid[7:].split("@")[:-1])
        if isinstance(inp.get("policies"), list) and policy_name not in inp["policies"]:
            reasons.add("agent %s: appraised with %s, not one of the policies %s"
                        % (agent_id, fmt(pid or "(no policy id)"), fmt(inp["policies"])))

    allow = (claims is not None and claims.get("eat_profile") == EAR_PROFILE
             and verified[1].get("alg") == "ES256"
             and is_number(claims.get("exp")) and is_number(claims.get("iat"))
             and now_s - claims["iat"] <= max_age_s
             and claims["iat"] <= now_s + CLOCK_SKEW_S
             and submod is not None and submod.get("ear.status") == "affirming"
             and not reasons)
    c = claims or {}
    return {
        "allow": bool(allow),
        "deny_reasons": sorted(reasons),
        "agent_id": agent_id,
        "verified": bool(verified is not None and verified[0]),
        "ear_status": ((c.get("submods") or {}).get(agent_id if isinstance(agent_id, str) else "") or {}).get("ear.status"),
        "iat": c.get("iat"),
        "exp": c.get("exp"),
        "now": now_s,
    }


# ---------------------------------------------------------------- selftest

def _sign_es256(header, claims, key):
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    def enc(o):
        return base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
    si = enc(header) + "." + enc(claims)
    r, s = decode_dss_signature(key.sign(si.encode(), ec.ECDSA(hashes.SHA256())))
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return si + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


def _hs256(header, claims, secret):
    import hashlib
    import hmac

    def enc(o):
        return base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
    si = enc(header) + "." + enc(claims)
    mac = hmac.new(secret.encode(), si.encode(), hashlib.sha256).digest()
    return si + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def selftest(good_path, bad_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    good = json.load(open(good_path))
    hdr, cl = jwt_decode(good["token"])
    fails = cases = 0

    def case(name, inp, allow, want=None):
        nonlocal fails, cases
        cases += 1
        d = decide(inp)
        ok = d["allow"] == allow and (allow == (not d["deny_reasons"]))
        if want is not None:
            ok = ok and any(want in r for r in d["deny_reasons"])
        print("%s %s: allow=%s %s" % ("ok  " if ok else "FAIL", name, d["allow"],
                                       d["deny_reasons"]))
        fails += not ok

    def variant(**kw):
        v = copy.deepcopy(good)
        for k, val in kw.items():
            if val is None:
                v.pop(k, None)
            else:
                v[k] = val
        return v

    case("the example input", good, True)
    case("JWKS given as text", variant(jwks=json.dumps(good["jwks"])), True)
    case("token with a trailing newline", variant(token=good["token"] + "\n"), True)
    case("no policies/verifier_id filter", variant(policies=None, verifier_id=None), True)
    h, p, s = good["token"].split(".")
    i = len(p) // 2
    p2 = p[:i] + ("A" if p[i] != "A" else "B") + p[i + 1:]
    case("payload bytes flipped", variant(token=".".join((h, p2, s))), False,
         "not a compact JWT")
    bad = json.load(open(bad_path)) if bad_path else None
    if bad is not None:	# contraindicated claims edited to affirming, signature kept
        bh, bp, bs = bad["token"].split(".")
        bc = jwt_decode(bad["token"])[1]
        bc["submods"]["h1"]["ear.status"] = "affirming"
        bp = base64.urlsafe_b64encode(json.dumps(bc).encode()).rstrip(b"=").decode()
        case("contraindicated edited to affirming", dict(bad, token=".".join((bh, bp, bs))),
             False, "signature does not verify")
    case("at exp", variant(now=cl["exp"]), False, "expired at")
    case("stale (max_age_s 1)", variant(max_age_s=1), False, "s old")
    case("iat in the future", variant(now=cl["iat"] - 60), False, "in the future")
    case("another agent", variant(agent_id="web1"), False, "no submod for agent web1")
    case("agent_id missing", variant(agent_id=None), False, "agent_id: required")
    case("token missing", variant(token=None), False, "input.token: missing")
    case("jwks missing", variant(jwks=None), False, "input.jwks: missing")
    case("jwks not JSON", variant(jwks="not json"), False, "not a JWKS")
    case("garbage token", variant(token="abc"), False, "not a compact JWT")
    case("wrong verifier id", variant(verifier_id="https://example.net/other"), False,
         "verifier-id developer")
    case("policy not listed", variant(policies=["strict"]), False, "not one of the policies")
    # A key outside the JWKS signing the same claims, with and without the real kid.
    rogue = ec.generate_private_key(ec.SECP256R1())
    case("forged, the real kid", variant(token=_sign_es256(hdr, cl, rogue)), False,
         "signature does not verify")
    case("forged, its own kid", variant(token=_sign_es256(dict(hdr, kid="rogue"), cl, rogue)),
         False, "kid rogue is not in the JWKS")
    # Algorithm confusion: HS256 keyed with the public JWK text; alg none.
    pub = json.dumps(good["jwks"]["keys"][0])
    case("HS256 with the public key as secret",
         variant(token=_hs256(dict(hdr, alg="HS256"), cl, pub)), False, "alg HS256")
    none = ".".join(base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
                    for o in (dict(hdr, alg="none"), cl)) + "."
    case("alg none", variant(token=none), False, "alg none")
    # A verified token without exp / with another profile: signed by a key
    # we add to the JWKS for the test (the verifier always sets both).
    k2 = ec.generate_private_key(ec.SECP256R1())
    jwk2 = json.loads(ECAlgorithm.to_jwk(k2.public_key()))
    jwk2.update(kid="test", alg="ES256", use="sig")
    jwks2 = {"keys": good["jwks"]["keys"] + [jwk2]}
    noexp = {k: v for k, v in cl.items() if k != "exp"}
    case("no exp claim", variant(jwks=jwks2, token=_sign_es256(dict(hdr, kid="test"), noexp, k2)),
         False, "no numeric exp")
    case("another eat_profile", variant(jwks=jwks2, token=_sign_es256(
        dict(hdr, kid="test"), dict(cl, eat_profile="tag:example.net,2024:x"), k2)),
        False, "eat_profile")
    if bad is not None:
        case("the untrusted example (contraindicated)", bad, False,
             "ear.status contraindicated, not affirming (Assay state untrusted, "
             "failure ids [\"pcr.value\"])")
    # Without "now" the real clock applies: the example token is long expired
    # (unless this runs within seconds of its iat).
    d = decide(variant(now=None))
    print("info without now: allow=%s %s" % (d["allow"], d["deny_reasons"]))
    print("%d passed, %d failed" % (cases - fails, fails))
    return 1 if fails else 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "--selftest":
        return selftest(argv[2] if len(argv) > 2 else "input.json",
                        argv[3] if len(argv) > 3 else None)
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1]) if argv[1] != "-" else sys.stdin as f:
        inp = json.load(f)
    d = decide(inp)
    print(json.dumps(d, indent=2))
    return 0 if d["allow"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
