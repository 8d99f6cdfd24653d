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

# The mirror this machine already uses for bookworm's main component.
mirror=$(apt-cache policy 2>/dev/null | awk '$3 == "bookworm/main" { print $2; exit }')
[ -n "$mirror" ] || die "no bookworm mirror in this machine's apt configuration (apt-cache policy)"

rm -rf "$APTDIR" "$OUT.tmp"
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/sources.list.d" \
	"$APTDIR/debs" "$OUT.tmp"
printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
	"$mirror" "$SUITE" >"$APTDIR/sources.list"
apt_private=(
	-o "Dir::Etc::SourceList=$APTDIR/sources.list"
	-o "Dir::Etc::SourceParts=$APTDIR/sources.list.d"
	-o "Dir::State::Lists=$APTDIR/lists"
	-o "Dir::Cache=$APTDIR/cache"
	-o APT::Architectures::=amd64
)
# Root cannot hand the download directory to apt's _apt sandbox user.
[ "$(id -u)" -ne 0 ] || apt_private+=(-o APT::Sandbox::User=root)

log="$APTDIR/apt.log"
if ! apt-get -q "${apt_private[@]}" update >"$log" 2>&1; then
	tail -n 5 "$log" >&2
	die "cannot read $SUITE from $mirror (log: $log)"
fi
version=$(apt-cache "${apt_private[@]}" show qemu-system-x86 2>/dev/null |
	sed -n 's/^Version: //p' | head -n1)
[ -n "$version" ] || die "$SUITE from $mirror has no qemu-system-x86"
echo "rig-qemu: fetching qemu-system-x86 $version from $SUITE into $OUT" >&2
if ! (cd "$APTDIR/debs" && apt-get -q "${apt_private[@]}" download \
	"${PKGS[@]/%/=$version}") >>"$log" 2>&1; then
	tail -n 5 "$log" >&2
	die "cannot download ${PKGS[*]} $version (log: $log)"
fi
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
