#!/bin/sh
# The relying-party examples in examples/ work as documented: the OPA
# policy's decision (run by its Python twin, examples/opa/check_input.py:
# no OPA binary is packaged for Debian) on real EAR tokens, trusted and
# untrusted, and 24 forged, tampered, expired and stale variants; the nginx
# snippet in a private nginx (examples/nginx/check.sh: a current identity
# 200, none / expired / other CA 400, another subject 403).
. "$(dirname "$0")/../lib/assay.sh"

PY=${PYTHON:-/usr/bin/python3}
"$PY" -c 'import jwt, cryptography' || fail "python3-jwt missing (tools/deps.sh)"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    fail "nginx missing (nginx-light; tools/deps.sh)"

step "OPA policy's decision on the example inputs (Python twin)"
"$PY" "$ROOT/examples/opa/check_input.py" "$ROOT/examples/opa/input.json" \
    > "$T/opa.out" 2>&1 || fail "trusted input refused: $(cat "$T/opa.out")"
grep -q '"allow": *true' "$T/opa.out" || fail "not allowed: $(cat "$T/opa.out")"
"$PY" "$ROOT/examples/opa/check_input.py" "$ROOT/examples/opa/input-untrusted.json" \
    > "$T/opa2.out" 2>&1 && fail "untrusted input allowed: $(cat "$T/opa2.out")"
grep -q "pcr.value" "$T/opa2.out" || fail "reason: $(cat "$T/opa2.out")"
"$PY" "$ROOT/examples/opa/check_input.py" --selftest "$ROOT/examples/opa/input.json" \
    "$ROOT/examples/opa/input-untrusted.json" > "$T/self.out" 2>&1 ||
    fail "selftest: $(tail -n 20 "$T/self.out")"

step "nginx snippet: only a current identity from the identity CA passes"
TMPDIR=$T sh "$ROOT/examples/nginx/check.sh" > "$T/nginx.log" 2>&1 ||
    fail "nginx check: $(tail -n 20 "$T/nginx.log")"
echo "PASS"
