#!/usr/bin/env bash
# Build a busybox initramfs (newc cpio, gzip) for the nested test rig.
#
#   mkinitramfs.sh l1|l2 OUT.cpio.gz [--modules "mod1 mod2 ..."]
#
# RIG_ARCH (arm64, the default, or x86_64) picks the Debian kernel and busybox
# (tests/system/fetch-guest.sh). The image holds the static busybox with every
# applet linked, the requested kernel modules plus everything they depend on
# (modules.dep and "pre:" softdeps), /etc/modules.order listing them in a
# valid load order, and tests/system/init-<kind>.sh as /init.  --modules
# replaces the default list for the kind (l1: 9p and block over virtio-pci,
# loop + ext4 for the frozen-disk case, and on x86_64 kvm_amd, which Debian
# builds as a module; l2: virtio-mmio block + ext4).
# Nothing is rebuilt while the inputs hash to the same value as last time.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE="${ICEVMM_CACHE:-$HOME/.cache/icevmm}"
RIG_ARCH=${RIG_ARCH:-arm64}
GUEST="$CACHE/$RIG_ARCH"

usage() {
	echo "usage: $0 l1|l2 OUT.cpio.gz [--modules \"mod1 mod2 ...\"]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
kind=$1
out=$2
shift 2
case "$kind" in
l1) modules="virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p virtio_blk loop ext4" ;;
l2) modules="virtio_mmio virtio_blk ext4" ;;
*) usage ;;
esac
case "$RIG_ARCH" in
arm64)
	GUEST_CC=${GUEST_CC:-aarch64-linux-gnu-gcc}
	# Runs the guest's busybox on this host, to ask it for its applets.
	guest_exec=qemu-aarch64-static
	;;
x86_64)
	GUEST_CC=${GUEST_CC:-gcc}
	guest_exec=
	[ "$kind" = l2 ] || modules="$modules kvm_amd"
	;;
*)
	echo "mkinitramfs: RIG_ARCH=$RIG_ARCH: arm64 or x86_64" >&2
	exit 2
	;;
esac
while [ $# -gt 0 ]; do
	case "$1" in
	--modules)
		[ $# -ge 2 ] || usage
		modules=$2
		shift 2
		;;
	*) usage ;;
	esac
done

init_script="$here/init-$kind.sh"
"$here/fetch-guest.sh"
moddir="$GUEST/modules"
busybox="$GUEST/busybox"

# --- module resolution -------------------------------------------------------
# Module names are compared with '-' folded to '_', as the kernel does.
# (Parameter expansion only: a subshell per line would cost seconds.)
declare -A dep_of=()  # relative .ko path -> its modules.dep line (deps)
declare -A path_of=() # module name -> relative .ko path
declare -A builtin=() # module name -> 1 when built into the kernel
declare -A softpre=() # module name -> "pre:" softdeps (aliases or names)
while IFS=: read -r ko deps; do
	dep_of[$ko]=$deps
	name=${ko##*/}
	name=${name%.ko}
	path_of[${name//-/_}]=$ko
done <"$moddir/modules.dep"
while IFS= read -r ko; do
	name=${ko##*/}
	name=${name%.ko}
	builtin[${name//-/_}]=1
done <"$moddir/modules.builtin"
while read -r word name rest; do
	[ "$word" = softdep ] || continue
	# Keep only the names between "pre:" and an optional "post:".
	pre=${rest#*pre:}
	[ "$pre" != "$rest" ] || continue
	softpre[${name//-/_}]=${pre%%post:*}
done <"$moddir/modules.softdep"

order=()
declare -A seen=()
# Depth-first, dependencies before the module itself: a valid insmod order.
visit() {
	local name=${1//-/_} ko d soft target
	[ -z "${seen[$name]:-}" ] || return 0
	seen[$name]=1
	if [ -z "${path_of[$name]:-}" ]; then
		if [ -n "${builtin[$name]:-}" ]; then
			return 0
		fi
		echo "mkinitramfs: no module '$name' in $moddir (not built in either)" >&2
		exit 1
	fi
	ko=${path_of[$name]}
	# A softdep usually names an alias (ext4 -> crypto-crc32c, which
	# ext4 needs for metadata_csum); modprobe treats a missing one as
	# optional, and so does this.
	for soft in ${softpre[$name]:-}; do
		target=$(awk -v a="$soft" '$1 == "alias" && $2 == a { print $3; exit }' \
			"$moddir/modules.alias")
		target=${target:-$soft}
		if [ -n "${path_of[${target//-/_}]:-}" ]; then
			visit "$target"
		fi
	done
	for d in ${dep_of[$ko]}; do
		d=${d##*/}
		visit "${d%.ko}"
	done
	order+=("$ko")
}
for m in $modules; do
	visit "$m"
done

# --- up to date? ------------------------------------------------------------
# L2 also carries the in-guest test scripts (tests/system/guest/*.sh, run by
# init-l2.sh's icevmm.mode=script).
# And small static test programs (tests/system/guest/*.c -> /bin/NAME, with
# the headers they share); one with a line "/* rig-arch: arm64 */" is built
# only for that architecture.
guest_scripts=()
guest_progs=()
guest_headers=()
if [ "$kind" = l2 ]; then
	guest_scripts=("$here"/guest/*.sh)
	guest_headers=("$here"/guest/*.h)
	for src in "$here"/guest/*.c; do
		only=$(sed -n 's|^/\* rig-arch: \([a-z0-9_]*\) \*/$|\1|p' "$src")
		[ -z "$only" ] || [ "$only" = "$RIG_ARCH" ] || continue
		guest_progs+=("$src")
	done
fi
inputs=("$0" "$init_script" "$busybox" "${guest_scripts[@]}" "${guest_progs[@]}"
	"${guest_headers[@]}")
for ko in "${order[@]}"; do
	inputs+=("$moddir/$ko")
done
hash=$( {
	printf '%s\n' "$kind" "$RIG_ARCH" "${order[@]}" "$GUEST_CC"
	sha256sum "${inputs[@]}" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)
stamp="$out.stamp"
if [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
	exit 0
fi

# --- build -------------------------------------------------------------------
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,host,mnt,root,lib/modules}
chmod 1777 "$stage/tmp"
cp "$busybox" "$stage/bin/busybox"
# Ask the guest's busybox itself which applets it has and where they live.
while IFS= read -r applet; do
	[ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$stage/$applet"
done < <($guest_exec "$busybox" --list-full)

: >"$stage/etc/modules.order"
for ko in "${order[@]}"; do
	cp "$moddir/$ko" "$stage/lib/modules/"
	printf '/lib/modules/%s\n' "${ko##*/}" >>"$stage/etc/modules.order"
done
install -m 0755 "$init_script" "$stage/init"
if [ ${#guest_scripts[@]} -gt 0 ]; then
	mkdir -p "$stage/tests"
	install -m 0755 "${guest_scripts[@]}" "$stage/tests/"
fi

for src in "${guest_progs[@]}"; do
	prog=${src##*/}
	"$GUEST_CC" -static -O2 -Wall -Wextra -Werror -o "$stage/bin/${prog%.c}" "$src"
done

# The kernel opens /dev/console for init before anything can mount devtmpfs,
# so the image needs that node; mknod needs root, so write the cpio entry by
# hand (newc format: "070701", 13 8-digit hex fields, name, padding to 4).
newc_entry() { # name mode rdevmajor rdevminor
	local name=$1 mode=$2 maj=$3 min=$4 len pad
	len=$((${#name} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		0 "$mode" 0 0 1 0 0 0 0 "$maj" "$min" "$len" 0 "$name"
	pad=$(((4 - (110 + len) % 4) % 4))
	head -c "$pad" /dev/zero
}
mkdir -p "$(dirname "$out")"
# A private temporary name: parallel builds of one image must not interleave.
tmp_out=$(mktemp "$out.XXXXXX")
trap 'rm -rf "$stage" "$tmp_out"' EXIT
{
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0)
	newc_entry dev/console $((8#020600)) 5 1
	newc_entry TRAILER!!! 0 0 0
} | gzip -6n >"$tmp_out"
chmod 0644 "$tmp_out"
mv "$tmp_out" "$out"
printf '%s\n' "$hash" >"$stamp"
