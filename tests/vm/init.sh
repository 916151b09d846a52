#!/bin/sh
# init.sh — /init of the check-vm guest (busybox, root on ramfs). Mounts
# the kernel filesystems, loads the virtio-net modules, brings up the
# user-mode network, starts assay-agent on /dev/tpmrm0 with the real event
# log and IMA list, then serves a one-word command channel on port 5555
# (forwarded from the host) that can run /rogue, a program no policy knows.
# Under ima_policy=tcb every file executed or read by root here is
# measured: nothing may run later than the policy's snapshot except /rogue.
PATH=/bin:/sbin
export PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security
mount -t tmpfs tmpfs /tmp
echo "assay-vm: cmdline: $(cat /proc/cmdline)"
for m in failover net_failover virtio_ring virtio virtio_pci_legacy_dev \
    virtio_pci_modern_dev virtio_pci virtio_net; do
	insmod "/modules/$m.ko" || echo "assay-vm: insmod $m failed"
done
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ "$i" -lt 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
[ -c /dev/tpmrm0 ] || echo "assay-vm: no /dev/tpmrm0"
# The command handler runs once now, so that its measurement is part of
# the boot the policy is generated from.
/bin/vmcmd </dev/null >/dev/null
LD_LIBRARY_PATH=/lib/x86_64-linux-gnu /bin/assay-agent -f -v \
    -c /etc/assay/agent.yaml &
echo "assay-vm: agent started"
nc -ll -p 5555 -e /bin/vmcmd &
echo "assay-vm: ready"
while :; do
	sleep 3600
done
