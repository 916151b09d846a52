#!/bin/sh
# make install DESTDIR=... lays out an FHS tree (daemons in /usr/sbin,
# assayctl in /usr/bin, man pages, /etc/assay examples, policies, units,
# sysusers, tmpfiles, /var/lib/assay); the man pages render without
# warnings; the units pass systemd-analyze verify; the installed binaries
# check the installed example configs; uninstall removes all but config
# and state; a second install never overwrites edited configs.
. "$(dirname "$0")/../lib/assay.sh"

R=$T/root
step "make install DESTDIR=$R PREFIX=/usr"
make -s O="$ASSAY_BIN" install DESTDIR="$R" PREFIX=/usr >"$T/install.log" 2>&1 ||
    fail "make install: $(tail -5 "$T/install.log")"
for f in usr/sbin/assay-agent usr/sbin/assay-verifier usr/bin/assayctl \
    usr/share/man/man8/assay-agent.8 usr/share/man/man8/assay-verifier.8 \
    usr/share/man/man1/assayctl.1 usr/share/man/man5/assay-policy.5 \
    usr/share/man/man5/assay.conf.5 etc/assay/agent.yaml etc/assay/verifier.yaml \
    usr/share/assay/policies/static-pcrs.yaml \
    usr/lib/systemd/system/assay-agent.service usr/lib/systemd/system/assay-verifier.service \
    usr/lib/sysusers.d/assay.conf usr/lib/tmpfiles.d/assay.conf; do
	[ -e "$R/$f" ] || fail "missing $f"
done
[ -d "$R/var/lib/assay" ] || fail "missing /var/lib/assay"
[ -x "$R/usr/sbin/assay-verifier" ] || fail "daemon not executable"
grep -q "^ExecStart=/usr/sbin/assay-agent " "$R/usr/lib/systemd/system/assay-agent.service" ||
    fail "unit ExecStart path"

step "man pages render without warnings"
for m in "$R"/usr/share/man/man*/*; do
	w=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
	[ -z "$w" ] || fail "$m: $w"
	LC_ALL=C MANWIDTH=80 man -l "$m" 2>/dev/null | grep -q . || fail "$m renders empty"
done

step "units pass systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units"
	for u in "$R"/usr/lib/systemd/system/*.service; do
		# The binaries live under DESTDIR, not at /usr/sbin: stand-in ExecStart.
		sed 's|^ExecStart=.*|ExecStart=/bin/true|; s|^ExecReload=.*|ExecReload=/bin/true|' \
		    "$u" > "$T/units/$(basename "$u")"
	done
	systemd-analyze verify --man=no "$T"/units/*.service >"$T/verify.log" 2>&1 ||
	    fail "systemd-analyze verify: $(cat "$T/verify.log")"
	grep -q . "$T/verify.log" && fail "systemd-analyze verify: $(cat "$T/verify.log")"
	for u in "$T"/units/*.service; do
		systemd-analyze security --offline=true "$u" 2>/dev/null |
		    sed -n 's/^→ Overall exposure level for .*: /  security: /p'
	done
else
	fail "systemd-analyze is required (package systemd)"
fi

step "sysusers and tmpfiles entries apply to an empty root"
mkdir -p "$T/sysroot/etc"
systemd-sysusers --root="$T/sysroot" "$R/usr/lib/sysusers.d/assay.conf" >/dev/null 2>&1 ||
    fail "systemd-sysusers"
grep -q "^assay:" "$T/sysroot/etc/passwd" || fail "user assay not created"
grep -q "^assay-agent:" "$T/sysroot/etc/passwd" || fail "user assay-agent not created"

step "installed binaries check installed configs (-n)"
"$R/usr/sbin/assay-verifier" -n -c "$R/etc/assay/verifier.yaml" >"$T/n.out" 2>&1
grep -q -e "configuration OK" -e "$R/etc/assay\|/etc/assay" "$T/n.out" ||
    fail "verifier -n said: $(cat "$T/n.out")"
printf 'tls:\n  cert: x\n  crt: y\n' > "$T/bad.yaml"
"$R/usr/sbin/assay-agent" -n -c "$T/bad.yaml" >"$T/bad.out" 2>&1 && fail "bad config accepted"
grep -q "bad.yaml:3: unknown key 'tls.crt'" "$T/bad.out" || fail "bad config: $(cat "$T/bad.out")"

step "uninstall keeps configuration and state; reinstall keeps edited configs"
echo "# edited" >> "$R/etc/assay/agent.yaml"
make -s O="$ASSAY_BIN" uninstall DESTDIR="$R" PREFIX=/usr >/dev/null 2>&1 || fail "uninstall"
[ -e "$R/usr/sbin/assay-agent" ] && fail "daemon left after uninstall"
[ -e "$R/usr/share/man/man8/assay-agent.8" ] && fail "man page left after uninstall"
[ -e "$R/etc/assay/agent.yaml" ] || fail "config removed by uninstall"
[ -d "$R/var/lib/assay" ] || fail "state removed by uninstall"
make -s O="$ASSAY_BIN" install DESTDIR="$R" PREFIX=/usr >/dev/null 2>&1 || fail "reinstall"
grep -q "^# edited" "$R/etc/assay/agent.yaml" || fail "reinstall overwrote an edited config"
echo "PASS"
