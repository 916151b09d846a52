#!/bin/sh
# Reference values from what was built (issue 16): `assayctl policy
# generate --deb` on packages made here with dpkg-deb allows exactly the
# sha256sum of every regular file dpkg-deb -x unpacks (symlinks and
# directories not listed), a merged newer version keeps both (update
# window), --keep 2 drops the oldest, output is byte-identical when
# regenerated, hostile packages are refused with no output written, a
# build directory is recorded under its prefix, and `assayctl ima check`
# accepts a list of the packaged files and fails a changed digest.
. "$(dirname "$0")/../lib/assay.sh"

CTL="$ASSAY_BIN/assayctl"
command -v dpkg-deb >/dev/null || fail "dpkg-deb missing"

# mkdeb VERSION BODY — assay-demo_VERSION.deb in $T: a binary that prints
# BODY, a hard link to it, a doc file, a symlink, an empty directory.
mkdeb() {
	r="$T/src-$1"
	mkdir -p "$r/DEBIAN" "$r/usr/bin" "$r/usr/share/doc/assay-demo" \
	    "$r/usr/lib/assay-demo"
	printf 'Package: assay-demo\nVersion: %s\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: demo\n more text\n' \
	    "$1" > "$r/DEBIAN/control"
	printf '#!/bin/sh\necho %s\n' "$2" > "$r/usr/bin/assay-demo"
	chmod 755 "$r/usr/bin/assay-demo"
	ln "$r/usr/bin/assay-demo" "$r/usr/bin/assay-demo-hard"
	echo "Copyright: nobody" > "$r/usr/share/doc/assay-demo/copyright"
	ln -s assay-demo "$r/usr/bin/ademo"
	dpkg-deb --root-owner-group --build "$r" "$T/assay-demo_$1.deb" \
	    >/dev/null || fail "dpkg-deb --build $1"
}

# files_of POLICY NAME VERSION — "path digest" lines of that package.
files_of() {
	awk -v n="$2" -v v="$3" '
	    /^    - name: / { name = $3; gsub(/"/, "", name); ver = ""; next }
	    /^      version: / { ver = $2; gsub(/"/, "", ver); next }
	    /^        [\/"]/ && name == n && ver == v {
		p = $1; sub(/:$/, "", p); gsub(/"/, "", p)
		d = $2 == "[" ? $3 : $2; gsub(/"/, "", d); print p, d }' "$1" | sort
}

# unpacked DEB — "path sha256:hex" of each regular file it unpacks to.
unpacked() {
	x="$T/x.$$"; rm -rf "$x"; mkdir "$x"
	dpkg-deb -x "$1" "$x" || fail "dpkg-deb -x $1"
	(cd "$x" && find . -type f | sort | while read -r f; do
		printf '%s sha256:%s\n' "${f#.}" "$(sha256sum < "$f" | cut -d' ' -f1)"
	done) | sort
	rm -rf "$x"
}

# imalist FILE "path hex" ... — an IMA ASCII list of ima-ng entries.
imalist() {
	out=$1; shift
	: > "$out"
	for e in "$@"; do
		printf '10 %040d ima-ng sha256:%s %s\n' 1 "${e#* }" "${e%% *}" >> "$out"
	done
}

mkdeb 1.0-1 one
mkdeb 1.1-1 two
mkdeb 1.2-1 three

step "a .deb: exactly its regular files, at their installed paths"
"$CTL" policy generate --name demo --deb "$T/assay-demo_1.0-1.deb" \
    -o "$T/p1.yaml" || fail "generate from 1.0-1"
files_of "$T/p1.yaml" assay-demo 1.0-1 > "$T/got1"
unpacked "$T/assay-demo_1.0-1.deb" > "$T/want1"
[ "$(wc -l < "$T/want1")" -eq 3 ] || fail "expected 3 regular files: $(cat "$T/want1")"
cmp -s "$T/got1" "$T/want1" || fail "policy files differ from sha256sum:
$(diff "$T/want1" "$T/got1")"
grep -q "/usr/bin/ademo" "$T/p1.yaml" && fail "a symlink was listed"
grep -q '"/usr/lib/assay-demo"' "$T/p1.yaml" && fail "a directory was listed"
grep -q "^      arch: \"all\"$" "$T/p1.yaml" || fail "arch missing"
grep -q "^      source: \"deb sha256:$(sha256sum < "$T/assay-demo_1.0-1.deb" | cut -d' ' -f1)\"$" \
    "$T/p1.yaml" || fail "source is not the .deb's sha256"

step "ima check: the package's files pass, a changed digest fails"
bin1=$(grep '^/usr/bin/assay-demo ' "$T/want1" | sed 's/.*sha256://')
doc=$(grep '^/usr/share/doc/' "$T/want1" | sed 's/.*sha256://')
imalist "$T/l1" "/usr/bin/assay-demo $bin1" \
    "/usr/share/doc/assay-demo/copyright $doc" "/usr/bin/assay-demo-hard $bin1"
"$CTL" ima check --ascii --policy "$T/p1.yaml" "$T/l1" > "$T/out" 2>&1 ||
    fail "genuine list refused: $(cat "$T/out")"
bad=$(printf '%064d' 7)
imalist "$T/l2" "/usr/bin/assay-demo $bad"
"$CTL" ima check --ascii --policy "$T/p1.yaml" "$T/l2" > "$T/out" 2>&1 &&
    fail "changed digest accepted"
grep -q "ima.not_allowed" "$T/out" || fail "changed digest: $(cat "$T/out")"

step "merge 1.1-1: both versions allowed (update window)"
"$CTL" policy generate --merge "$T/p1.yaml" --deb "$T/assay-demo_1.1-1.deb" \
    -o "$T/p2.yaml" || fail "merge 1.1-1"
files_of "$T/p2.yaml" assay-demo 1.0-1 | cmp -s - "$T/want1" || fail "1.0-1 changed by the merge"
unpacked "$T/assay-demo_1.1-1.deb" > "$T/want2"
files_of "$T/p2.yaml" assay-demo 1.1-1 | cmp -s - "$T/want2" || fail "1.1-1 files wrong"
bin2=$(grep '^/usr/bin/assay-demo ' "$T/want2" | sed 's/.*sha256://')
[ "$bin1" != "$bin2" ] || fail "the two versions' binaries are alike"
imalist "$T/l3" "/usr/bin/assay-demo $bin1" "/usr/bin/assay-demo $bin2"
"$CTL" ima check --ascii --policy "$T/p2.yaml" "$T/l3" > "$T/out" 2>&1 ||
    fail "update window refused: $(cat "$T/out")"
"$CTL" ima check --ascii --policy "$T/p2.yaml" "$T/l2" > /dev/null 2>&1 &&
    fail "changed digest accepted after the merge"

step "regenerating gives byte-identical YAML; a version merged again is replaced"
"$CTL" policy generate --merge "$T/p1.yaml" --deb "$T/assay-demo_1.1-1.deb" \
    -o "$T/p2b.yaml" || fail "regenerate"
cmp -s "$T/p2.yaml" "$T/p2b.yaml" || fail "regenerated policy differs"
"$CTL" policy generate --merge "$T/p2.yaml" --deb "$T/assay-demo_1.1-1.deb" \
    -o "$T/p2c.yaml" || fail "merge 1.1-1 again"
cmp -s "$T/p2.yaml" "$T/p2c.yaml" || fail "merging a version twice changed the policy"

step "--keep 2 with 1.2-1 drops 1.0-1"
"$CTL" policy generate --merge "$T/p2.yaml" --deb "$T/assay-demo_1.2-1.deb" \
    --keep 2 -o "$T/p3.yaml" || fail "merge 1.2-1 --keep 2"
[ "$(grep -c '^    - name: "assay-demo"$' "$T/p3.yaml")" -eq 2 ] || fail "not 2 versions"
grep -q '^      version: "1.0-1"$' "$T/p3.yaml" && fail "1.0-1 kept"
grep -q '^      version: "1.1-1"$' "$T/p3.yaml" || fail "1.1-1 dropped"
grep -q '^      version: "1.2-1"$' "$T/p3.yaml" || fail "1.2-1 missing"
imalist "$T/l4" "/usr/bin/assay-demo $bin1"
"$CTL" ima check --ascii --policy "$T/p3.yaml" "$T/l4" > /dev/null 2>&1 &&
    fail "the dropped version's binary is still allowed"

step "merged settings are kept"
printf 'name: keepme\nbank: sha256\nima:\n  exclude: [ "/tmp/**" ]\n  unknown: warn\n  require_signature: false\n' \
    > "$T/s.yaml"
"$CTL" policy generate --merge "$T/s.yaml" --deb "$T/assay-demo_1.0-1.deb" \
    -o "$T/s2.yaml" || fail "merge into a hand-written policy"
grep -q '^name: "keepme"$' "$T/s2.yaml" || fail "name lost"
grep -q '^  unknown: warn$' "$T/s2.yaml" || fail "unknown: lost"
grep -q '^    - "/tmp/\*\*"$' "$T/s2.yaml" || fail "exclude lost"
printf 'name: mb\nmeasured_boot:\n  secure_boot: required\n' > "$T/mb.yaml"
"$CTL" policy generate --merge "$T/mb.yaml" --deb "$T/assay-demo_1.0-1.deb" \
    -o "$T/mb2.yaml" 2> "$T/err" && fail "a policy with measured_boot: was rewritten"
[ -e "$T/mb2.yaml" ] && fail "output written for a refused merge"

step "hostile packages are refused, nothing written"
# hostile NAME MEMBER — a .deb whose data.tar holds MEMBER (python tarfile).
hostile() {
	h="$T/h-$1"; mkdir -p "$h"
	echo "2.0" > "$h/debian-binary"
	python3 - "$h" "$2" <<'PY' || fail "python3 tarfile"
import io, sys, tarfile
d, member = sys.argv[1], sys.argv[2]
def tar(path, entries):
    with tarfile.open(path, "w:gz") as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            if name == "./usr/lib/x":   # LINK: a symlink out, then through it
                ti.type = tarfile.SYMTYPE; ti.linkname = "/etc"; data = b""
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
ctl = b"Package: evil\nVersion: 1\nArchitecture: all\n"
tar(d + "/control.tar.gz", [("./control", ctl)] if member != "NOCONTROL" else [("./md5sums", b"")])
data = [("./usr/bin/ok", b"ok\n")]
if member == "LINK":
    data += [("./usr/lib/x", b""), ("./usr/lib/x/passwd", b"root::0:0::/:/bin/sh\n")]
else:
    data += [(member, b"root::0:0::/:/bin/sh\n")]
if member == "HUGE":    # a header claiming 5 GiB, no data behind it
    import gzip
    ti = tarfile.TarInfo("./usr/bin/huge"); ti.size = 5 << 30
    with gzip.open(d + "/data.tar.gz", "wb") as z:
        z.write(ti.tobuf(tarfile.USTAR_FORMAT) + b"\0" * 1024)
else:
    tar(d + "/data.tar.gz", data)
PY
	(cd "$h" && rm -f "$T/$1.deb" && ar rc "$T/$1.deb" debian-binary control.tar.gz data.tar.gz) ||
	    fail "ar"
	"$CTL" policy generate --name evil --deb "$T/$1.deb" -o "$T/$1.yaml" \
	    2> "$T/$1.err" && fail "$1: hostile package accepted"
	[ -e "$T/$1.yaml" ] && fail "$1: output written"
	grep -q "error: .*$3" "$T/$1.err" || fail "$1: unclear error: $(cat "$T/$1.err")"
}
hostile dotdot "../etc/passwd" "'\.\.'"
hostile inner "./usr/../../etc/passwd" "'\.\.'"
hostile absolute "/etc/passwd" "absolute name"
hostile longname "./$(printf 'a%.0s' $(seq 300))" "longer than 255"
hostile nocontrol NOCONTROL "no control file"
hostile throughlink LINK "goes through the symbolic link /usr/lib/x"
hostile twice ./usr/bin/ok "lists /usr/bin/ok twice"
hostile huge HUGE "/usr/bin/huge is bigger than 4294967296 bytes"
printf 'not a deb\n' > "$T/junk.deb"
"$CTL" policy generate --name j --deb "$T/junk.deb" -o "$T/junk.yaml" 2> "$T/err" &&
    fail "junk accepted"
[ -e "$T/junk.yaml" ] && fail "junk: output written"
grep -q "not a Debian binary package" "$T/err" || fail "junk: $(cat "$T/err")"

step "a build directory, as installed under its prefix"
mkdir -p "$T/build/bin" "$T/build/lib"
printf 'tool\n' > "$T/build/bin/tool"
printf 'lib\n' > "$T/build/lib/libt.so.1"
ln -s libt.so.1 "$T/build/lib/libt.so"
"$CTL" policy generate --name b --build "$T/build" --prefix /usr/local \
    --package mytool --pkg-version 0.3 -o "$T/b.yaml" || fail "--build"
files_of "$T/b.yaml" mytool 0.3 > "$T/gotb"
printf '/usr/local/bin/tool sha256:%s\n/usr/local/lib/libt.so.1 sha256:%s\n' \
    "$(sha256sum < "$T/build/bin/tool" | cut -d' ' -f1)" \
    "$(sha256sum < "$T/build/lib/libt.so.1" | cut -d' ' -f1)" > "$T/wantb"
cmp -s "$T/gotb" "$T/wantb" || fail "--build files: $(diff "$T/wantb" "$T/gotb")"
grep -q "^      source: \"build $T/build\"$" "$T/b.yaml" || fail "--build source"
"$CTL" policy generate --name b --build "$T/build" -o "$T/b2.yaml" 2>/dev/null &&
    fail "--build without --package accepted"

step "a real package from the archive (network permitting)"
if (cd "$T" && timeout 60 apt-get download coreutils >/dev/null 2>&1) &&
    deb=$(ls "$T"/coreutils_*.deb 2>/dev/null | head -n 1) && [ -n "$deb" ]; then
	"$CTL" policy generate --name cu --deb "$deb" -o "$T/cu.yaml" ||
	    fail "coreutils"
	v=$(dpkg-deb -f "$deb" Version)
	files_of "$T/cu.yaml" coreutils "$v" > "$T/gotc"
	unpacked "$deb" > "$T/wantc"
	cmp -s "$T/gotc" "$T/wantc" || fail "coreutils files differ"
	grep -Eq '^(/usr)?/bin/ls sha256:' "$T/gotc" || fail "no ls"
	imalist "$T/lc" "$(grep -E '^(/usr)?/bin/ls ' "$T/gotc" | sed 's/ sha256:/ /')"
	"$CTL" ima check --ascii --policy "$T/cu.yaml" "$T/lc" > "$T/out" 2>&1 ||
	    fail "coreutils ls refused: $(cat "$T/out")"
	echo "coreutils $v: $(wc -l < "$T/gotc") files"
else
	echo "SKIP: apt-get download coreutils (no network or apt lists)"
fi

echo "PASS t_policy_deb"
