#!/bin/busybox sh
# Init of the test guest (see vm-run.sh): load the Bluetooth, vhci, 9p and
# crypto modules, build a root from the host's /usr and /etc (read-only) and
# the shared directories (read-write or read-only), run the command, report
# its exit status through the control share and leave through isa-debug-exit.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /r
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
dmesg -n 1
modprobe -a $(cat /modules) || echo "guest-init: a module failed to load"
P9=trans=virtio,version=9p2000.L,msize=262144
R=/r
mount -t tmpfs -o mode=0755 root $R
mkdir -p $R/usr $R/etc $R/proc $R/sys $R/dev $R/tmp $R/run $R/var/tmp $R/var/lib $R/root $R/ctl
for l in bin sbin lib lib64; do ln -s usr/$l $R/$l; done
mount -t 9p -o $P9,ro,cache=loose usr $R/usr || echo "guest-init: cannot mount /usr"
mount -t 9p -o $P9,ro,cache=loose etc $R/etc || echo "guest-init: cannot mount /etc"
mount -t 9p -o $P9 ctl $R/ctl || echo "guest-init: cannot mount the control share"
chmod 1777 $R/tmp $R/var/tmp
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs shm $R/dev/shm
# One share per line: PATH MODE (rw or ro), mounted at the same path.
i=0
while read -r d mode; do
	mkdir -p "$R$d"
	mount -t 9p -o "$P9,$mode" "w$i" "$R$d" || echo "guest-init: cannot mount $d"
	i=$((i + 1))
done < $R/ctl/shares
hostname bgwvm
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
stty -F /dev/console -onlcr 2>/dev/null
chroot $R /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root TERM=dumb LANG=C.UTF-8 /bin/sh /ctl/cmd </dev/console >/dev/console 2>&1
echo $? > $R/ctl/rc
sync
# Innermost first, so nested shares come off cleanly and writes are flushed.
sort -r $R/ctl/shares | while read -r d mode; do umount "$R$d" 2>/dev/null; done
umount $R/ctl 2>/dev/null
# isa-debug-exit on port 0xf4 ends QEMU at once; reboot -f is the fallback.
printf '\000' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
reboot -f
