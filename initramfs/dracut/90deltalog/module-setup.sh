#!/bin/bash
# dracut module of dm-deltalog (systemd in the initramfs): the protected root
# comes up as in the main system, from deltalog-generator's units. In the
# initramfs the generator writes deltalog@NAME.service for the lines of
# /etc/deltalogtab with the option root or x-initrd.attach, required by
# initrd-root-device.target, with the boot policy and the kernel command
# line (deltalog.*, rd.deltalog.*: deltalogtab(5)) applied.
#
# Installed by `make install` in /usr/lib/dracut/modules.d/90deltalog/;
# @SBINDIR@ and @GENERATORDIR@ are where deltalogctl and the generator were
# installed (the generator's units run deltalogctl by that path).

ctl=@SBINDIR@/deltalogctl
generator=@GENERATORDIR@/deltalog-generator

check()
{
	local tab=${dracutsysrootdir-}/etc/deltalogtab
	[[ -x $ctl && -x $generator ]] || return 1
	require_binaries "$ctl" || return 1
	# Host-only images get the module only for a tab with something for
	# the initramfs to bring up; generic ones always.
	if [[ $hostonly ]]; then
		[[ -r $tab ]] || return 255
		"$ctl" boot-root --tab "$tab" --dry-run --cmdline "" 2>/dev/null |
			grep -q '^deltalogctl activate ' || return 255
	fi
	return 0
}

depends()
{
	echo dm systemd
	return 0
}

installkernel()
{
	hostonly='' instmods dm-deltalog
}

install()
{
	inst_binary "$ctl"
	inst_binary "$generator"
	inst_multiple -o modprobe "$systemdsystemunitdir/modprobe@.service"
	# inst_simple adds --sysroot's directory itself.
	[[ -r ${dracutsysrootdir-}/etc/deltalogtab ]] && inst_simple /etc/deltalogtab
	# deltalogctl's lock lives in /run/lock.
	inst_dir /run/lock
}
