#!/usr/bin/env bash
# Install what icevmm needs to build and test, build the arm64 sysroot used
# for the static cross build, and (x86_64 hosts) unpack the x86_64 rig's QEMU
# from bookworm-backports into the cache (scripts/rig-qemu.sh).  Safe to run
# repeatedly: when everything is already there it only runs a few
# dpkg-query/stat checks.
#
#   scripts/deps.sh                  install / refresh, quietly
#   scripts/deps.sh --print-sysroot  print the arm64 sysroot path, do nothing else
set -euo pipefail

CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
SYSROOT="$CACHE/sysroot-arm64"
DEBS="$CACHE/debs-arm64"
STAMP="$SYSROOT/.icevmm-stamp"

if [ "${1:-}" = "--print-sysroot" ]; then
	printf '%s\n' "$SYSROOT"
	exit 0
fi
if [ $# -gt 0 ]; then
	echo "usage: $0 [--print-sysroot]" >&2
	exit 2
fi

# Host packages.  kmod provides depmod, needed to generate modules.dep for the
# Debian arm64 kernel (its .deb ships without one; dpkg's postinst makes it).
# linux-source-6.12 (bookworm-security) and flex ... xz-utils: the project's
# guest kernel (scripts/guest-kernel.sh). f2fs-tools: mkfs.f2fs for the FBE
# system cases. acpica-tools: iasl and acpiexec, the independent reader of the
# x86_64 ACPI tables (tests/oracle/acpi_iasl.sh).
HOST_PKGS=(
	build-essential pkg-config libfdt-dev libgcrypt20-dev libgpg-error-dev
	libseccomp-dev check libsubunit-dev linux-libc-dev
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-libc-dev-arm64-cross
	qemu-system-arm qemu-system-x86 qemu-user-static cpio e2fsprogs kmod
	python3-cryptography clang clang-format libclang-rt-14-dev valgrind
	linux-source-6.12 flex bison bc libssl-dev libelf-dev xz-utils f2fs-tools acpica-tools
)

# arm64 libraries, unpacked (not installed) into the sysroot: in bookworm the
# :arm64 -dev packages are not co-installable with the amd64 ones, and
# installing them would remove the host's.  The runtime packages are included
# so the -dev .so symlinks resolve; the static link only uses the .a files.
SYSROOT_PKGS=(
	libgcrypt20-dev libgcrypt20 libgpg-error-dev libgpg-error0
	libfdt-dev libfdt1 libseccomp-dev libseccomp2
	check libsubunit-dev libsubunit0
)
SYSROOT_LIBS=(libgcrypt.a libgpg-error.a libfdt.a libcheck.a libsubunit.a libseccomp.a)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	SUDO=(sudo)
fi
# apt-get download as root cannot drop to the _apt sandbox user for a
# directory under /root, and warns every time; there is nothing to protect
# from here, so turn the sandbox off instead of printing noise.
APT_DL_OPTS=(-qq)
if [ "$(id -u)" -eq 0 ]; then
	APT_DL_OPTS+=(-o APT::Sandbox::User=root)
fi

# Run apt-get as root, showing its chatter only if it fails.
apt_as_root() {
	local log rc=0
	log=$(mktemp)
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q \
		-o Dpkg::Use-Pty=0 "$@" >"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$log" >&2
	fi
	rm -f "$log"
	return "$rc"
}

UPDATED=0
apt_update_once() {
	if [ "$UPDATED" -eq 0 ]; then
		apt_as_root update
		UPDATED=1
	fi
}

# 1. The arm64 architecture must be known to dpkg/apt for :arm64 downloads.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	"${SUDO[@]}" dpkg --add-architecture arm64
	apt_update_once
fi

# 2. Host packages: one dpkg-query for all, apt-get only for what is missing.
missing=()
for pkg in "${HOST_PKGS[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	if [ "$status" != "installed" ]; then
		missing+=("$pkg")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	apt_update_once
	apt_as_root install -y --no-install-recommends "${missing[@]}"
fi

# 3. The arm64 sysroot, redone whenever the package list changes.
want_stamp="${SYSROOT_PKGS[*]}"
have_stamp=""
if [ -f "$STAMP" ]; then
	have_stamp=$(cat "$STAMP")
fi
if [ "$have_stamp" != "$want_stamp" ]; then
	echo "deps: building arm64 sysroot in $SYSROOT" >&2
	rm -rf "$DEBS" "$SYSROOT.tmp"
	mkdir -p "$DEBS" "$SYSROOT.tmp"
	arm_pkgs=()
	for pkg in "${SYSROOT_PKGS[@]}"; do
		arm_pkgs+=("$pkg:arm64")
	done
	# Fresh machines may have no arm64 package lists yet: update once and retry.
	if ! (cd "$DEBS" && apt-get "${APT_DL_OPTS[@]}" download "${arm_pkgs[@]}") >/dev/null 2>&1; then
		apt_update_once
		(cd "$DEBS" && apt-get "${APT_DL_OPTS[@]}" download "${arm_pkgs[@]}") >/dev/null
	fi
	for deb in "$DEBS"/*.deb; do
		dpkg-deb -x "$deb" "$SYSROOT.tmp"
	done
	printf '%s\n' "$want_stamp" >"$SYSROOT.tmp/.icevmm-stamp"
	rm -rf "$SYSROOT"
	mv "$SYSROOT.tmp" "$SYSROOT"
fi

# 4. The static libraries the cross build links against must all be there.
libdir="$SYSROOT/usr/lib/aarch64-linux-gnu"
for lib in "${SYSROOT_LIBS[@]}"; do
	if [ ! -f "$libdir/$lib" ]; then
		echo "deps: $libdir/$lib missing: check SYSROOT_PKGS in $0" >&2
		exit 1
	fi
done

# 5. The x86_64 rig's QEMU (x86_64 hosts only): bookworm-backports' 10.0,
# private to the cache directory (scripts/rig-qemu.sh says why and how).
# Without it the rig still runs, on bookworm's 7.2 (run-l1.sh says so).
if [ "$(uname -m)" = x86_64 ] && ! "$(dirname "$0")/rig-qemu.sh"; then
	echo "deps: the x86_64 rig will run on bookworm's QEMU 7.2, which hangs now and then (docs/RIG.md)" >&2
fi
