#!/usr/bin/env bash
# Build the project's guest kernel: Linux from Debian's linux-source-6.12
# package, with the virtio_blk patch series of firmware/linux/series/ applied
# (VIRTIO_BLK_F_ICE and the key queue) and configured as allnoconfig plus
# firmware/linux/<arch>.config, everything built in.
#
#   guest-kernel.sh [--print-path] ARCH
#
# ARCH: arm64 (cross-built with gcc-aarch64-linux-gnu) or x86_64 (built with
# the host's gcc on an x86_64 host, with gcc-x86-64-linux-gnu elsewhere).
# The result goes to $CACHE/linux/<arch>-<key>/Image (arm64) or bzImage
# (x86_64), where <key> hashes the
# source package version, the series, the fragment, this script and the
# compiler: a second run with nothing changed does nothing but print the
# path. --print-path prints that path without building (it may not exist).
# The build happens in a temporary tree next to it, removed afterwards; a
# failed build leaves its log in $CACHE/linux/<arch>-<key>.log.
# Environment: GUEST_KERNEL_JOBS  parallel jobs (default 2)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
PKG=linux-source-6.12
TARBALL=/usr/src/$PKG.tar.xz
SERIES_DIR=$root/firmware/linux/series
JOBS=${GUEST_KERNEL_JOBS:-2}

usage() {
	echo "usage: $0 [--print-path] arm64|x86_64" >&2
	exit 2
}

print_only=0
if [ "${1:-}" = --print-path ]; then
	print_only=1
	shift
fi
[ $# -eq 1 ] || usage
arch=$1
case "$arch" in
arm64)
	cross=aarch64-linux-gnu-
	target=Image
	image_rel=arch/arm64/boot/Image
	;;
x86_64)
	cross=
	[ "$(uname -m)" = x86_64 ] || cross=x86_64-linux-gnu-
	target=bzImage
	image_rel=arch/x86/boot/bzImage
	;;
*) usage ;;
esac
fragment=$root/firmware/linux/$arch.config

die() {
	echo "guest-kernel: $*" >&2
	exit 1
}

[ -f "$fragment" ] || die "no config fragment $fragment"
[ -f "$SERIES_DIR/series" ] || die "no patch list $SERIES_DIR/series"
version=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null || true)
if [ -z "$version" ] || [ ! -f "$TARBALL" ]; then
	die "$PKG is not installed ($TARBALL): run scripts/deps.sh"
fi
command -v "${cross}gcc" >/dev/null || die "${cross}gcc not found: run scripts/deps.sh"

# The patches, in the order of the series file (quilt's format: one name a
# line, # starts a comment).
patches=()
while read -r name _; do
	case "$name" in '' | '#'*) continue ;; esac
	[ -f "$SERIES_DIR/$name" ] || die "$SERIES_DIR/series lists $name, which does not exist"
	patches+=("$SERIES_DIR/$name")
done <"$SERIES_DIR/series"

key=$( {
	printf '%s\n' "$PKG $version" "$arch" "$("${cross}gcc" --version | head -n 1)"
	sha256sum "$0" "$fragment" "$SERIES_DIR/series" "${patches[@]}" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
out=$CACHE/linux/$arch-$key
image=$out/$target

if [ "$print_only" -eq 1 ]; then
	printf '%s\n' "$image"
	exit 0
fi

built() { [ -f "$out/done" ] && [ -f "$image" ]; }
if built; then
	printf '%s\n' "$image"
	exit 0
fi

# Parallel callers (make -j) wait here, then find the work done.
mkdir -p "$CACHE/linux"
exec 9>"$CACHE/linux/.lock"
flock 9
if built; then
	printf '%s\n' "$image"
	exit 0
fi

# A make above us must not leak its flags (O=, -j, jobserver) into Kbuild.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

t0=$(date +%s)
work=$(mktemp -d "$CACHE/linux/.build-$arch.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The log stays where it is if the build fails.
log=$CACHE/linux/$arch-$key.log
: >"$log"
echo "guest-kernel: building $PKG $version for $arch (about 8 minutes on 2 cores; log: $log)" >&2

tar -xJf "$TARBALL" -C "$work"
src=$work/$PKG
[ -d "$src" ] || die "$TARBALL has no top-level $PKG directory"

for p in "${patches[@]}"; do
	if ! patch -d "$src" -p1 --forward --batch --dry-run <"$p" >"$work/patch.out" 2>&1; then
		tee -a "$log" <"$work/patch.out" >&2
		die "${p#"$root"/} does not apply to $PKG $version: rebase the series (firmware/linux/README.md)"
	fi
	patch -d "$src" -p1 --forward --batch --quiet <"$p"
done

kmake=(make -C "$src" O="$work/build" ARCH="$arch" CROSS_COMPILE="$cross" -j"$JOBS")
{
	"${kmake[@]}" allnoconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$work/build" \
		"$work/build/.config" "$fragment"
	"${kmake[@]}" olddefconfig
} >>"$log" 2>&1 || {
	tail -n 30 "$log" >&2
	die "configuring failed"
}

# A requested option that olddefconfig dropped (a missing dependency) is
# the usual failure: name every one.
missing=()
while IFS= read -r line; do
	opt=${line%%=*}
	grep -qx "$opt=y" "$work/build/.config" || missing+=("$opt")
done < <(grep -E '^CONFIG_[A-Za-z0-9_]+=y$' "$fragment")
if [ ${#missing[@]} -gt 0 ]; then
	die "not =y after olddefconfig (a dependency is missing from ${fragment#"$root"/}): ${missing[*]}"
fi

if ! "${kmake[@]}" "$target" >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "the kernel build failed"
fi

# Publish atomically: the image, its config and symbols, what it was built
# from.
stage=$work/out
mkdir -p "$stage"
cp "$work/build/$image_rel" "$stage/$target"
cp "$work/build/.config" "$stage/config"
cp "$work/build/System.map" "$stage/System.map"
{
	echo "source: $PKG $version"
	echo "patches:"
	for p in "${patches[@]}"; do echo "  ${p##*/}"; done
	echo "fragment: ${fragment#"$root"/}"
	echo "build seconds: $(($(date +%s) - t0))"
} >"$stage/version"
mv "$log" "$stage/build.log"
touch "$stage/done"
rm -rf "$out"
mv "$stage" "$out"
echo "guest-kernel: built in $(($(date +%s) - t0)) s" >&2
printf '%s\n' "$image"
