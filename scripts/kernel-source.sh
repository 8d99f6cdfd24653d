#!/usr/bin/env bash
# The Linux source a guest kernel is built from: Debian's linux-source-<SERIES>
# package, as a tarball and a version.
#
#   kernel-source.sh SERIES     prints two lines: the tarball's path, then
#                               the package version
#
# SERIES 6.12: bookworm-security's linux-source-6.12, installed by
# scripts/deps.sh (/usr/src/linux-source-6.12.tar.xz).
# SERIES 7.3: trixie-backports' linux-source-7.3 (any 7.3.x; the newest the
# suite has), fetched once and unpacked with dpkg-deb -x into
# $CACHE/linux-source-7.3/: nothing is installed and the machine's apt
# configuration is not changed (scripts/apt-private.sh). Once there, nothing
# is fetched again; remove that directory to fetch the suite's current one.
# A suite that cannot be reached fails with one line saying so.
set -euo pipefail

CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"

die() {
	echo "kernel-source: $*" >&2
	exit 1
}

[ $# -eq 1 ] || {
	echo "usage: $0 6.12|7.3" >&2
	exit 2
}
series=$1
pkg=linux-source-$series

case "$series" in
6.12)
	version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
	tarball=/usr/src/$pkg.tar.xz
	[ -n "$version" ] && [ -f "$tarball" ] || die "$pkg is not installed ($tarball): run scripts/deps.sh"
	printf '%s\n%s\n' "$tarball" "$version"
	exit 0
	;;
7.3) suite=trixie-backports ;;
*)
	echo "usage: $0 6.12|7.3" >&2
	exit 2
	;;
esac

out=$CACHE/$pkg
tarball=$out/usr/src/$pkg.tar.xz
stamp=$out/.icevmm-version
present() { [ -f "$stamp" ] && [ -f "$tarball" ]; }
if ! present; then
	mkdir -p "$CACHE"
	exec 7>"$CACHE/.kernel-source.lock"
	flock 7 # parallel callers wait, then find the work done
fi
if ! present; then
	# shellcheck source=scripts/apt-private.sh
	. "$(dirname "$0")/apt-private.sh"
	aptdir=$CACHE/apt-$suite
	apt_private_init "$aptdir" "$suite" ||
		die "$pkg comes from Debian's $suite, which $apt_mirror does not serve here (log: $apt_log)"
	version=$(apt_private_version "$pkg")
	case "$version" in
	7.3.*) ;;
	"") die "$suite has no $pkg" ;;
	*) die "$suite's $pkg is version $version, not a 7.3.x" ;;
	esac
	echo "kernel-source: fetching $pkg $version from $suite (about 170 MB)" >&2
	apt_private_download "$aptdir/debs" "$pkg=$version" ||
		die "cannot download $pkg $version from $suite (log: $apt_log)"
	rm -rf "$out.tmp"
	mkdir -p "$out.tmp"
	dpkg-deb -x "$aptdir"/debs/"${pkg}"_*.deb "$out.tmp"
	[ -f "$out.tmp/usr/src/$pkg.tar.xz" ] || die "$pkg $version has no usr/src/$pkg.tar.xz"
	printf '%s\n' "$version" >"$out.tmp/.icevmm-version"
	rm -rf "$out" "$aptdir/debs"
	mv "$out.tmp" "$out"
fi
printf '%s\n%s\n' "$tarball" "$(cat "$stamp")"
