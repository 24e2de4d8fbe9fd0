# Sourced by the build scripts: which Debian cloud kernels the project is
# built and tested against, and how their package names are found.
# shellcheck shell=bash

DELTALOG_KERNELS="${DELTALOG_KERNELS:-6.1 6.12}"

# kernel_package SERIES image|headers: the newest package of that series that a
# linux-KIND-cloud-amd64 meta-package in the configured suites depends on,
# e.g. "kernel_package 6.12 headers" -> linux-headers-6.12.95+deb12-cloud-amd64.
kernel_package()
{
	local series=$1 kind=$2 re
	re="linux-$kind-${series//./[.]}[.][^ ,|]*-cloud-amd64"
	apt-cache show "linux-$kind-cloud-amd64" 2>/dev/null |
		sed -n 's/^Depends: //p' | grep -o "$re" | sort -uV | tail -n 1 |
		grep .
}

# kernel_release SERIES: the uname -r of that series, e.g. 6.1.0-56-cloud-amd64.
kernel_release()
{
	local pkg
	pkg=$(kernel_package "$1" image) || return 1
	echo "${pkg#linux-image-}"
}
