# lib.sh — helpers of tests/vm/run.sh: host packages, the cached Debian
# kernel, the guest initramfs, and one QEMU boot (q35 + OVMF + swtpm over
# tpm-tis, restricted user-mode networking). Sourced after tests/lib/assay.sh
# ($T, $PIDS, fail, step).

VM_PKGS="qemu-system-x86 ovmf socat busybox-static"
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
GUEST_AGENT_PORT=9440
GUEST_CMD_PORT=5555

# vm_deps — apt-get install the VM packages, only those missing.
vm_deps()
{
	_miss=""
	for _p in $VM_PKGS; do
		dpkg-query -W -f='${Status}' "$_p" 2>/dev/null | grep -q "ok installed" ||
		    _miss="$_miss $_p"
	done
	[ -z "$_miss" ] && return 0
	echo "check-vm: installing:$_miss"
	_sudo=""
	[ "$(id -u)" = 0 ] || _sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$_sudo apt-get update -qq || return 1
	# shellcheck disable=SC2086
	$_sudo apt-get install -y -qq $_miss >/dev/null
}

# kernel_pkg — the versioned package linux-image-amd64 depends on.
kernel_pkg()
{
	apt-cache depends linux-image-amd64 2>/dev/null |
	    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

# vm_kernel CACHE — Debian's current linux-image-amd64 kernel, downloaded
# once with apt-get download into CACHE and unpacked there; sets KDIR (the
# unpacked tree) and VMLINUZ.
vm_kernel()
{
	_c=$1
	mkdir -p "$_c" || return 1
	_c=$(cd "$_c" && pwd)
	if ! ls "$_c"/linux-image-[0-9]*.deb >/dev/null 2>&1; then
		_dep=$(kernel_pkg)
		if [ -z "$_dep" ]; then
			_sudo=""
			[ "$(id -u)" = 0 ] || _sudo=sudo
			$_sudo apt-get update -qq
			_dep=$(kernel_pkg)
		fi
		[ -n "$_dep" ] || { echo "cannot resolve linux-image-amd64" >&2; return 1; }
		# apt drops privileges to _apt for downloads: give it the dir.
		(cd "$_c" && apt-get download "$_dep" 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
		    true
		ls "$_c"/linux-image-[0-9]*.deb >/dev/null 2>&1 ||
		    { echo "apt-get download $_dep failed" >&2; return 1; }
	fi
	_deb=$(ls "$_c"/linux-image-[0-9]*.deb | head -n 1)
	KDIR=$_c/unpacked
	if [ ! -f "$KDIR.stamp" ] || [ "$_deb" -nt "$KDIR.stamp" ]; then
		rm -rf "$KDIR" "$KDIR.stamp"
		dpkg-deb -x "$_deb" "$KDIR" || return 1
		touch "$KDIR.stamp"
	fi
	VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* | head -n 1)
	[ -f "$VMLINUZ" ] || { echo "no vmlinuz in $_deb" >&2; return 1; }
}

# copy_with_libs STAGE FILE... — FILE and every shared object ldd lists
# (and the dynamic loader), at the same paths under STAGE.
copy_with_libs()
{
	_st=$1
	shift
	for _f in "$@"; do
		for _l in $(ldd "$_f" | sed -n 's/.*=> *\(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
			mkdir -p "$_st$(dirname "$_l")"
			[ -f "$_st$_l" ] || cp -L "$_l" "$_st$_l" || return 1
		done
	done
}

# vm_initrd OUT AGENTBIN CONFDIR — busybox, the agent with its libraries and
# the TCTI it dlopens, its configuration (CONFDIR/* -> /etc/assay), the
# virtio-net modules, /init, /bin/vmcmd and /rogue.
vm_initrd()
{
	_out=$1 _agent=$2 _conf=$3
	_st=$T/initrd-stage
	rm -rf "$_st"
	mkdir -p "$_st/bin" "$_st/sbin" "$_st/proc" "$_st/sys" "$_st/dev" "$_st/tmp" \
	    "$_st/etc/assay" "$_st/modules" || return 1
	_bb=$(command -v busybox)
	ldd "$_bb" 2>&1 | grep -q 'not a dynamic executable' ||
	    { echo "$_bb is not static (busybox-static)" >&2; return 1; }
	cp "$_bb" "$_st/bin/busybox"
	for _a in $("$_bb" --list); do
		[ "$_a" = busybox ] || ln -s busybox "$_st/bin/$_a"
	done
	cp "$_agent" "$_st/bin/assay-agent" || return 1
	_tcti=$(ldconfig -p | sed -n 's/.*libtss2-tcti-device\.so\.0 .*=> \(.*\)/\1/p' | head -n 1)
	[ -n "$_tcti" ] || { echo "libtss2-tcti-device.so.0 not found" >&2; return 1; }
	copy_with_libs "$_st" "$_agent" "$_tcti" || return 1
	mkdir -p "$_st$(dirname "$_tcti")"
	cp -L "$_tcti" "$_st$(dirname "$_tcti")/libtss2-tcti-device.so.0"
	cp "$_conf"/* "$_st/etc/assay/" || return 1
	for _m in failover net_failover virtio_ring virtio virtio_pci_legacy_dev \
	    virtio_pci_modern_dev virtio_pci virtio_net; do
		_ko=$(find "$KDIR/lib/modules" -name "$_m.ko*" | head -n 1)
		[ -n "$_ko" ] || { echo "module $_m missing" >&2; return 1; }
		case $_ko in
		*.ko.xz) xz -dc "$_ko" > "$_st/modules/$_m.ko" ;;
		*.ko.zst) zstd -qdc "$_ko" > "$_st/modules/$_m.ko" ;;
		*) cp "$_ko" "$_st/modules/$_m.ko" ;;
		esac || return 1
	done
	install -m 755 "$ROOT/tests/vm/init.sh" "$_st/init"
	install -m 755 "$ROOT/tests/vm/vmcmd.sh" "$_st/bin/vmcmd"
	printf '#!/bin/sh\necho "rogue: not in any policy"\n' > "$_st/rogue"
	chmod 755 "$_st/rogue"
	(cd "$_st" && find . | "$_bb" cpio -o -H newc 2>/dev/null) | gzip -1 > "$_out"
}

# vm_boot N CMDLINE TPMDIR INITRD — start swtpm (no Startup: the firmware
# sends it) and QEMU in the background; console in $T/guestN.log.
vm_boot()
{
	_n=$1 _cmd=$2 _d=$(cd "$3" && pwd) _initrd=$4
	rm -f "$_d/tpm.sock.ctrl" "$_d/swtpm.pid"
	swtpm socket --tpm2 --tpmstate dir="$_d/tpm" \
	    --ctrl type=unixio,path="$_d/tpm.sock.ctrl" \
	    --pid file="$_d/swtpm.pid" --log file="$_d/swtpm.log" -d ||
	    { echo "swtpm failed" >&2; return 1; }
	case " $TPMS " in *" $_d "*) ;; *) TPMS="$TPMS $_d" ;; esac
	_i=0
	until [ -S "$_d/tpm.sock.ctrl" ] && [ -s "$_d/swtpm.pid" ]; do
		_i=$((_i + 1))
		[ "$_i" -lt 500 ] || { echo "no swtpm socket" >&2; return 1; }
		sleep 0.01
	done
	cp "$OVMF_VARS" "$T/vars-$_n.fd"
	qemu-system-x86_64 -accel tcg -machine q35 -m 1024 -smp 2 \
	    -nodefaults -display none -no-reboot -monitor none \
	    -serial "file:$T/guest$_n.log" \
	    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
	    -drive "if=pflash,format=raw,unit=1,file=$T/vars-$_n.fd" \
	    -chardev "socket,id=chrtpm,path=$_d/tpm.sock.ctrl" \
	    -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
	    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$HOSTPORT-:$GUEST_AGENT_PORT,hostfwd=tcp:127.0.0.1:$CMDPORT-:$GUEST_CMD_PORT,guestfwd=tcp:10.0.2.100:$VPORT-cmd:socat - TCP:127.0.0.1:$VPORT" \
	    -device virtio-net-pci,netdev=n0 \
	    -kernel "$VMLINUZ" -initrd "$_initrd" -append "$_cmd" \
	    >"$T/qemu$_n.log" 2>&1 &
	QPID=$!
	PIDS="$PIDS $QPID"
}

# vm_halt — stop the running guest (QEMU, then its swtpm).
vm_halt()
{
	[ -n "${QPID:-}" ] || return 0
	kill "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	QPID=""
	swtpm_stop "$1"
}

# wait_console N PATTERN SECONDS — PATTERN shows up in guest N's console.
wait_console()
{
	_i=0
	until grep -q "$2" "$T/guest$1.log" 2>/dev/null; do
		_i=$((_i + 1))
		[ "$_i" -lt $(($3 * 2)) ] || return 1
		kill -0 "$QPID" 2>/dev/null || { echo "QEMU exited: $(cat "$T/qemu$1.log")" >&2; return 1; }
		sleep 0.5
	done
}

# guest_cmd WORD — send one command over the forwarded command port.
guest_cmd()
{
	printf '%s\n' "$1" | timeout 20 socat -t 10 - "TCP:127.0.0.1:$CMDPORT"
}
