#!/usr/bin/env bash
# The x86_64 rig's QEMU: qemu-system-x86 from Debian's bookworm-backports
# (10.0 today), unpacked into the cache directory. Bookworm's QEMU 7.2 hangs
# now and then when its emulated SVM runs a nested guest (the whole L1 stops
# in KVM_RUN, or the nested guest's timer stops; docs/RIG.md has the
# measurements); the backported one does not.
#
#   rig-qemu.sh              fetch and unpack it unless already there
#   rig-qemu.sh --print-dir  print the directory it is unpacked in
#
# Nothing is installed and the machine's apt configuration is not changed:
# apt runs with a private sources list, package lists and download cache in
# $CACHE/apt-backports, on the mirror the machine already uses for bookworm,
# and the packages (qemu-system-x86, -common, -data) are unpacked with
# dpkg-deb -x into $CACHE/qemu-x86/. The binary runs on the libraries that
# bookworm's qemu-system-x86 (scripts/deps.sh) installed; the firmware
# (SeaBIOS) is bookworm's too, so run-l1.sh passes -L for both directories.
# Once there, nothing is fetched again (no network on later runs); remove
# $CACHE/qemu-x86 to fetch the current backport.
set -euo pipefail

CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
OUT="$CACHE/qemu-x86"
APTDIR="$CACHE/apt-backports"
STAMP="$OUT/.icevmm-stamp"
PKGS=(qemu-system-x86 qemu-system-common qemu-system-data)
SUITE=bookworm-backports

case "${1:-}" in
--print-dir)
	printf '%s\n' "$OUT"
	exit 0
	;;
"") ;;
*)
	echo "usage: $0 [--print-dir]" >&2
	exit 2
	;;
esac

die() {
	echo "rig-qemu: $*" >&2
	exit 1
}

installed() {
	[ -f "$STAMP" ] && [ -x "$OUT/usr/bin/qemu-system-x86_64" ]
}
installed && exit 0

mkdir -p "$CACHE"
exec 7>"$CACHE/.rig-qemu.lock"
flock 7 # parallel callers wait, then find the work done
installed && exit 0

# shellcheck source=scripts/apt-private.sh
. "$(dirname "$0")/apt-private.sh"
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"
apt_private_init "$APTDIR" "$SUITE" ||
	die "cannot read $SUITE from $apt_mirror (log: $apt_log)"
version=$(apt_private_version qemu-system-x86)
[ -n "$version" ] || die "$SUITE has no qemu-system-x86"
echo "rig-qemu: fetching qemu-system-x86 $version from $SUITE into $OUT" >&2
apt_private_download "$APTDIR/debs" "${PKGS[@]/%/=$version}" ||
	die "cannot download ${PKGS[*]} $version (log: $apt_log)"
for deb in "$APTDIR"/debs/*.deb; do
	dpkg-deb -x "$deb" "$OUT.tmp"
done

# Every library it needs must already be on the machine.
missing=$(ldd "$OUT.tmp/usr/bin/qemu-system-x86_64" | awk '/not found/ { print $1 }' | tr '\n' ' ')
[ -z "$missing" ] || die "qemu-system-x86 $version needs libraries this machine lacks: $missing"
"$OUT.tmp/usr/bin/qemu-system-x86_64" --version >/dev/null ||
	die "qemu-system-x86 $version from $SUITE does not run here"

printf '%s\n' "$version" >"$OUT.tmp/.icevmm-stamp"
rm -rf "$OUT" "$APTDIR/debs"
mv "$OUT.tmp" "$OUT"
