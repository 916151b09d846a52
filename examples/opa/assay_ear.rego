# assay_ear.rego — admit a host only on a fresh, verified, affirming Assay
# attestation result (an IETF RATS EAR, draft-fv-rats-ear, signed by
# assay-verifier as an ES256 JWT; see assay-verifier(8) ATTESTATION
# RESULTS for every claim).
#
# Input document:
#   token           the EAR, a compact JWT: the body of GET
#                   /v1/agents/{id}/result or the content of the agent's
#                   result.path file (a trailing newline is fine)
#   jwks            GET /v1/keys, as a JSON object or as its text
#   agent_id        the Assay agent id the caller claims to be (required:
#                   the token's submods are keyed by it)
#   max_age_s       optional, default 60: the appraisal (iat) may be at
#                   most this old; exp (iat + 2 x the agent's interval) is
#                   checked as well
#   now             optional, unix seconds: for tests and replays only;
#                   default the evaluation time
#   verifier_id     optional: the ear.verifier-id developer expected
#                   (results.verifier_id of the verifier)
#   policies        optional list of Assay policy names the appraisal must
#                   have used (ear.appraisal-policy-id "policy:NAME@vN")
#
# Output: allow (boolean), deny_reasons (set of strings, empty when
# allowed), decision (both plus the facts the decision was made on).
#
# Written for OPA 0.5x (Rego v0 with the future keywords) and parses as
# Rego v1 too: every rule has `if`, every multi-value rule `contains`.
package assay.ear

import future.keywords.contains
import future.keywords.if
import future.keywords.in

ear_profile := "tag:github.com,2023:veraison/ear"

# --- parameters ---------------------------------------------------------

default max_age_s := 60

max_age_s := input.max_age_s if is_number(input.max_age_s)

# iat may run ahead of this relying party's clock by this much.
clock_skew_s := 5

now_ns := input.now * 1000000000 if is_number(input.now)

now_ns := time.now_ns() if not is_number(input.now)

now_s := now_ns / 1000000000

token := trim_space(input.token) if is_string(input.token)

jwks_text := input.jwks if is_string(input.jwks)

jwks_text := json.marshal(input.jwks) if is_object(input.jwks)

jwks := input.jwks if is_object(input.jwks)

jwks := json.unmarshal(input.jwks) if is_string(input.jwks)

jwks_kids := {k.kid | some k in jwks.keys}

# --- the token ----------------------------------------------------------

# Unverified: used only to explain a refusal, never to grant.
unverified_header := h if {
	[h, _, _] := io.jwt.decode(token)
}

unverified_claims := c if {
	[_, c, _] := io.jwt.decode(token)
}

# [valid, header, payload]; the signature by a key of the JWKS (the one
# with the header's kid), alg ES256, exp and nbf against now_ns.
verified := io.jwt.decode_verify(token, {
	"cert": jwks_text,
	"alg": "ES256",
	"time": now_ns,
})

# The verified claims: defined only when the token verified.
claims := verified[2] if verified[0] == true

default token_verified := false

token_verified if verified[0] == true

default claims_or_empty := {}

claims_or_empty := claims if claims

submod := claims.submods[input.agent_id] if is_string(input.agent_id)

policy_name := name if {
	id := submod["ear.appraisal-policy-id"]
	startswith(id, "policy:")
	parts := split(substring(id, 7, -1), "@")
	name := concat("@", array.slice(parts, 0, count(parts) - 1))
}

# --- the decision -------------------------------------------------------

default allow := false

# Every condition stated positively (a missing input leaves allow false
# even if no reason were produced for it), and no reason to deny.
allow if {
	claims.eat_profile == ear_profile
	verified[1].alg == "ES256"
	is_number(claims.exp)
	is_number(claims.iat)
	now_s - claims.iat <= max_age_s
	claims.iat <= now_s + clock_skew_s
	submod["ear.status"] == "affirming"
	count(deny_reasons) == 0
}

deny_reasons contains "input.token: missing (the agent's EAR, a compact JWT string)" if {
	not is_string(input.token)
}

deny_reasons contains "input.jwks: missing (the verifier's GET /v1/keys, object or string)" if {
	not jwks_text
}

deny_reasons contains "input.jwks: not a JWKS ({\"keys\":[...]})" if {
	jwks_text
	not is_array(jwks.keys)
}

deny_reasons contains "input.agent_id: required (the Assay agent id the token must be about)" if {
	not is_string(input.agent_id)
}

deny_reasons contains "token: not a compact JWT (header.payload.signature)" if {
	is_string(input.token)
	not unverified_header
}

deny_reasons contains msg if {
	alg := object.get(unverified_header, "alg", "(none)")
	alg != "ES256"
	msg := sprintf("token: alg %v is not ES256", [alg])
}

deny_reasons contains msg if {
	unverified_header.alg == "ES256"
	is_array(jwks.keys)
	kid := object.get(unverified_header, "kid", "(none)")
	not kid in jwks_kids
	msg := sprintf("token: kid %v is not in the JWKS (fetch GET /v1/keys again; a key dropped from results.previous_keys no longer verifies)", [kid])
}

# The signature or the validity period failed (decode_verify does not say
# which); the unverified exp tells an expired result apart.
deny_reasons contains msg if {
	unverified_header.alg == "ES256"
	verified[0] == false
	exp := unverified_claims.exp
	is_number(exp)
	now_s >= exp
	msg := sprintf("token: expired at %v (now %v): the agent missed its rounds or the result is old; fetch it again", [exp, now_s])
}

deny_reasons contains "token: the signature does not verify against the JWKS" if {
	unverified_header.alg == "ES256"
	verified[0] == false
	not expired_unverified
}

expired_unverified if {
	is_number(unverified_claims.exp)
	now_s >= unverified_claims.exp
}

# A verification error (not a refusal): e.g. a JWKS OPA cannot parse.
deny_reasons contains "token: could not be verified (malformed token or JWKS)" if {
	unverified_header
	jwks_text
	not verified
}

deny_reasons contains msg if {
	claims.eat_profile != ear_profile
	msg := sprintf("claims: eat_profile %v is not %v", [claims.eat_profile, ear_profile])
}

deny_reasons contains "claims: no eat_profile" if {
	claims
	not claims.eat_profile
}

deny_reasons contains "claims: no numeric exp (an EAR without an expiry is never accepted)" if {
	claims
	not is_number(claims.exp)
}

deny_reasons contains "claims: no numeric iat" if {
	claims
	not is_number(claims.iat)
}

deny_reasons contains msg if {
	age := now_s - claims.iat
	age > max_age_s
	msg := sprintf("claims: the appraisal is %v s old (iat %v), more than max_age_s %v", [age, claims.iat, max_age_s])
}

deny_reasons contains msg if {
	claims.iat > now_s + clock_skew_s
	msg := sprintf("claims: iat %v is in the future (now %v)", [claims.iat, now_s])
}

deny_reasons contains msg if {
	claims
	is_string(input.agent_id)
	not submod
	msg := sprintf("claims: no submod for agent %v (the token is about %v)", [input.agent_id, [k | some k, _ in object.get(claims, "submods", {})]])
}

deny_reasons contains msg if {
	status := object.get(submod, "ear.status", "(missing)")
	status != "affirming"
	fids := object.get(object.get(submod, "assay", {}), "failure_ids", [])
	state := object.get(object.get(submod, "assay", {}), "state", "?")
	msg := sprintf("agent %v: ear.status %v, not affirming (Assay state %v, failure ids %v)", [input.agent_id, status, state, fids])
}

deny_reasons contains msg if {
	is_string(input.verifier_id)
	dev := object.get(object.get(claims, "ear.verifier-id", {}), "developer", "(missing)")
	dev != input.verifier_id
	msg := sprintf("claims: ear.verifier-id developer %v is not %v", [dev, input.verifier_id])
}

deny_reasons contains msg if {
	is_array(input.policies)
	submod
	not policy_name in {p | some p in input.policies}
	msg := sprintf("agent %v: appraised with %v, not one of the policies %v", [input.agent_id, object.get(submod, "ear.appraisal-policy-id", "(no policy id)"), input.policies])
}

# --- for logs and callers -------------------------------------------------

decision := {
	"allow": allow,
	"deny_reasons": deny_reasons,
	"agent_id": object.get(input, "agent_id", null),
	"verified": token_verified,
	"ear_status": object.get(object.get(object.get(claims_or_empty, "submods", {}), object.get(input, "agent_id", ""), {}), "ear.status", null),
	"iat": object.get(claims_or_empty, "iat", null),
	"exp": object.get(claims_or_empty, "exp", null),
	"now": now_s,
}
