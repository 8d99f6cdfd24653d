#!/usr/bin/env bash
# Fetch the Debian kernel and busybox used by the nested test rig (L1 and L2
# both boot the same kernel) into $CACHE/$RIG_ARCH (RIG_ARCH: arm64, the
# default, or x86_64, Debian's amd64):
#
#   Image    -> root-kernel/boot/vmlinuz-<abi>-<flavour>  (arm64: an uncompressed
#                                                          Image; x86_64: a bzImage)
#   modules  -> root-kernel/lib/modules/<abi>-<flavour>   (plain .ko, with modules.dep)
#   busybox  -> root-busybox/bin/busybox                  (static)
#   abi         the kernel ABI string, e.g. 6.1.0-56
#
# Does nothing once fetched; --refresh re-resolves the newest kernel ABI.
set -euo pipefail

CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
RIG_ARCH=${RIG_ARCH:-arm64}
case "$RIG_ARCH" in
arm64) deb=arm64 ;;
x86_64) deb=amd64 ;;
*)
	echo "fetch-guest: RIG_ARCH=$RIG_ARCH: arm64 or x86_64" >&2
	exit 2
	;;
esac
OUT="$CACHE/$RIG_ARCH"
STAMP="$OUT/.fetch-stamp"

refresh=0
case "${1:-}" in
--refresh) refresh=1 ;;
"") ;;
*)
	echo "usage: $0 [--refresh]" >&2
	exit 2
	;;
esac

fetched() {
	[ "$refresh" -eq 0 ] && [ -f "$STAMP" ] && [ -f "$OUT/Image" ] &&
		[ -f "$OUT/modules/modules.dep" ] && [ -x "$OUT/busybox" ]
}
fetched && exit 0

# Parallel callers (make -j) wait here, then find the work done.
mkdir -p "$OUT"
exec 8>"$OUT/.fetch.lock"
flock 8
fetched && exit 0

SUDO=()
APT_DL_OPTS=(-qq)
if [ "$(id -u)" -ne 0 ]; then
	SUDO=(sudo)
else
	# Root cannot hand a directory under /root to the _apt sandbox user;
	# without this apt warns on every download.
	APT_DL_OPTS+=(-o APT::Sandbox::User=root)
fi

# The ABI comes from the metapackage's dependency so a Debian ABI bump (old
# linux-image-<abi> packages leave the archive) needs no edit here.
resolve_abi() {
	apt-cache depends "linux-image-$deb:$deb" 2>/dev/null |
		sed -n "s/^ *Depends: linux-image-\\(.*\\)-$deb\\(:$deb\\)\\{0,1\\}\$/\\1/p" | head -n1
}
abi=$(resolve_abi)
if [ -z "$abi" ]; then
	# A machine whose package lists are missing or predate the arm64 arch.
	"${SUDO[@]}" apt-get -qq update >/dev/null
	abi=$(resolve_abi)
fi
if [ -z "$abi" ]; then
	echo "fetch-guest: cannot resolve linux-image-$deb:$deb (run scripts/deps.sh?)" >&2
	exit 1
fi

rm -rf "$OUT/debs" "$OUT/root-kernel.tmp" "$OUT/root-busybox.tmp"
mkdir -p "$OUT/debs"
(cd "$OUT/debs" && apt-get "${APT_DL_OPTS[@]}" download \
	"linux-image-$abi-$deb:$deb" "busybox-static:$deb") >/dev/null
dpkg-deb -x "$OUT"/debs/linux-image-*.deb "$OUT/root-kernel.tmp"
dpkg-deb -x "$OUT"/debs/busybox-static_*.deb "$OUT/root-busybox.tmp"

kver="$abi-$deb"
moddir="$OUT/root-kernel.tmp/lib/modules/$kver"
if [ ! -f "$OUT/root-kernel.tmp/boot/vmlinuz-$kver" ] || [ ! -d "$moddir" ]; then
	echo "fetch-guest: unexpected layout in linux-image-$kver" >&2
	exit 1
fi

# Debian's bookworm kernels ship plain .ko files; newer ones may compress
# them.  busybox insmod in the initramfs wants plain ELF, so unpack any
# compressed modules before depmod records their names.
while IFS= read -r -d '' ko; do
	case "$ko" in
	*.ko.xz) xz -dq "$ko" ;;
	*.ko.gz) gzip -dq "$ko" ;;
	*.ko.zst)
		zstd -dq --rm "$ko" || {
			echo "fetch-guest: need zstd to unpack $ko" >&2
			exit 1
		}
		;;
	esac
done < <(find "$moddir" \( -name '*.ko.xz' -o -name '*.ko.gz' -o -name '*.ko.zst' \) -print0)

# The .deb has no modules.dep (its postinst runs depmod); make one here.
# kmod's depmod reads any architecture's ELF.
depmod -b "$OUT/root-kernel.tmp" "$kver"

rm -rf "$OUT/root-kernel" "$OUT/root-busybox"
mv "$OUT/root-kernel.tmp" "$OUT/root-kernel"
mv "$OUT/root-busybox.tmp" "$OUT/root-busybox"
# Relative links so the cache directory can be moved as a whole.
ln -sfn "root-kernel/boot/vmlinuz-$kver" "$OUT/Image"
ln -sfn "root-kernel/lib/modules/$kver" "$OUT/modules"
ln -sfn root-busybox/bin/busybox "$OUT/busybox"
printf '%s\n' "$abi" >"$OUT/abi"
printf 'abi=%s\n' "$abi" >"$STAMP"
