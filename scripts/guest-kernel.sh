#!/usr/bin/env bash
# Build the project's guest kernel: Linux from Debian's linux-source-<SERIES>
# package (scripts/kernel-source.sh), with that series' virtio_blk patches
# applied and configured as allnoconfig plus firmware/linux/<arch>.config,
# everything built in. GUEST_KERNEL picks the series:
#   7.3 (the default, as in the Makefile): trixie-backports' (any 7.3.x),
#        firmware/linux/series-7.3/ (the v4 draft);
#   6.12: bookworm-security's, firmware/linux/series/ (VIRTIO_BLK_F_ICE and
#        the key queue).
#
#   guest-kernel.sh [--print-path] ARCH
#
# ARCH: arm64 (cross-built with gcc-aarch64-linux-gnu) or x86_64 (built with
# the host's gcc on an x86_64 host, with gcc-x86-64-linux-gnu elsewhere).
# The result goes to $CACHE/linux/<arch>-<key>/Image (arm64) or bzImage
# (x86_64), where <key> hashes the
# source package and its version, the series, the fragment, this script and
# the compiler: a second run with nothing changed does nothing but print the
# path. --print-path prints that path without building (it may not exist).
# The build happens in a temporary tree next to it, removed afterwards; a
# failed build leaves its log in $CACHE/linux/<arch>-<key>.log.
# Environment: GUEST_KERNEL       7.3 or 6.12 (default 7.3)
#              GUEST_KERNEL_JOBS  parallel jobs (default 2)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
SERIES=${GUEST_KERNEL:-7.3}
PKG=linux-source-$SERIES
case "$SERIES" in
6.12) SERIES_DIR=$root/firmware/linux/series ;;
7.3) SERIES_DIR=$root/firmware/linux/series-7.3 ;;
*)
	echo "guest-kernel: GUEST_KERNEL=$SERIES: expected 6.12 or 7.3" >&2
	exit 2
	;;
esac
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
command -v "${cross}gcc" >/dev/null || die "${cross}gcc not found: run scripts/deps.sh"

# The patches, in the order of the series file (quilt's format: one name a
# line, # starts a comment).
patches=()
while read -r name _; do
	case "$name" in '' | '#'*) continue ;; esac
	[ -f "$SERIES_DIR/$name" ] || die "$SERIES_DIR/series lists $name, which does not exist"
	patches+=("$SERIES_DIR/$name")
done <"$SERIES_DIR/series"

# The source: its tarball and version (7.3's is fetched the first time; the
# version is part of the key below).
src_info=$("$here/kernel-source.sh" "$SERIES") || exit 1
TARBALL=${src_info%%$'\n'*}
version=${src_info#*$'\n'}

key=$( {
	printf '%s\n' "$PKG $version" "$arch" "$("${cross}gcc" --version | head -n 1)"
	sha256sum "$0" "$fragment" "$SERIES_DIR/series" ${patches[@]+"${patches[@]}"} | cut -d' ' -f1
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
echo "guest-kernel: building $PKG $version for $arch (8 to 10 minutes on 2 cores; log: $log)" >&2

tar -xJf "$TARBALL" -C "$work"
src=$work/$PKG
[ -d "$src" ] || die "$TARBALL has no top-level $PKG directory"

for p in ${patches[@]+"${patches[@]}"}; do
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
# the usual failure: name every one. One that this kernel's Kconfig does not
# define at all was removed upstream (7.3 has no PROC_SYSCTL: /proc/sys comes
# with CONFIG_SYSCTL there): said, and ignored, so one fragment serves both.
missing=()
while IFS= read -r line; do
	opt=${line%%=*}
	grep -qx "$opt=y" "$work/build/.config" && continue
	if ! grep -rqE "^[[:space:]]*(menu)?config ${opt#CONFIG_}\b" --include='Kconfig*' "$src"; then
		echo "guest-kernel: $PKG has no $opt: the fragment's line is ignored" >&2
		continue
	fi
	missing+=("$opt")
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
	for p in ${patches[@]+"${patches[@]}"}; do echo "  ${p##*/}"; done
	echo "fragment: ${fragment#"$root"/}"
	echo "build seconds: $(($(date +%s) - t0))"
} >"$stage/version"
mv "$log" "$stage/build.log"
touch "$stage/done"
rm -rf "$out"
mv "$stage" "$out"
echo "guest-kernel: built in $(($(date +%s) - t0)) s" >&2
printf '%s\n' "$image"
