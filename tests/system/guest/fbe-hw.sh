#!/bin/sh
# Hardware-wrapped keys in the FBE workload: sourced by fbe.sh when
# fbe.params says WRAP='import' (tests/system/fbe/prep.py --wrap import), on a
# v4 disk whose engine unwraps keys (docs/ICE.md, "Hardware-wrapped keys").
# The long-term blobs live in the filesystem outside the encrypted
# directories, as Android keeps them on a metadata partition; the raw key
# (/payload/master.key) goes to the engine once, by IMPORT, and is never
# printed.
#
# hw_mount: the write boot imports the raw key and stores its long-term blob
#   (/mnt/fs/keyblob); every boot prepares that blob and adds the ephemeral
#   blob to fscrypt (FSCRYPT_ADD_KEY_FLAG_HW_WRAPPED). The read boot first
#   checks that the write boot's ephemeral blob is refused.
# EXTRA hw_more adds, in the write boot: every one-byte change of the
#   long-term and of the ephemeral blob refused, a blob of another wrapping
#   key refused, a blob made on the host (Python) accepted as the same key; a
#   GENERATEd key on /mnt/fs/gen and a raw key on /mnt/fs/raw beside the
#   wrapped one. The read boot reads both back.

# flip HEX I: HEX with the low bit of its byte I flipped.
flip() {
	fl_h=$1 fl_i=$2 fl_pre=
	while [ "$fl_i" -gt 0 ]; do
		fl_pre=$fl_pre${fl_h%"${fl_h#??}"}
		fl_h=${fl_h#??}
		fl_i=$((fl_i - 1))
	done
	printf '%s%02x%s\n' "$fl_pre" $((0x${fl_h%"${fl_h#??}"} ^ 1)) "${fl_h#??}"
}

# hw_add BLOB_FILE: prepare the long-term blob and add the ephemeral one to
# fscrypt; sets eph and hw_keyid.
hw_add() {
	eph=$(icekey prepare /dev/vda <"$1" 2>>/tmp/cmd.log) || return 1
	hw_keyid=$(echo "$eph" | icefs add-key /mnt/fs --hw-wrapped --hex-stdin 2>>/tmp/cmd.log)
}

hw_fail() { # hw_fail STATUS WHAT
	say "FBE-FAIL $2"
	sed 's/^/  | /' /tmp/cmd.log | tail -n 5 >>"$out"
	finish "$1"
}

hw_mount() {
	if [ "$phase" = write ]; then
		icekey import /dev/vda </payload/master.key >/mnt/fs/keyblob 2>>/tmp/cmd.log ||
			hw_fail 92 "import the raw key"
		sync
	else
		# The ephemeral blob of the earlier boot: icevmm has a new
		# ephemeral wrapping key, so the key cannot be added, and the
		# files stay unreadable.
		if icefs add-key /mnt/fs --hw-wrapped --hex-stdin </mnt/fs/eph-old >/dev/null 2>&1; then
			say "hw: the earlier boot's ephemeral blob was accepted"
		else
			n=0
			for f in $FILES; do
				cat "/mnt/fs/enc/$f" >/dev/null 2>&1 || n=$((n + 1))
			done
			say "hw: the earlier boot's ephemeral blob refused; $n of $(echo $FILES | wc -w) files unreadable"
		fi
	fi
	hw_add /mnt/fs/keyblob || hw_fail 93 "prepare and add the wrapped key"
	keyid=$hw_keyid
	[ "$phase" = write ] && echo "$eph" >/mnt/fs/eph-old
	say "hw: key types $(ls /sys/block/vda/queue/crypto | grep '_keys$' | tr '\n' ' ')"
	: >/tmp/cmd.log
}

# hw_dir NAME POLICY BLOB_FILE|raw FILE...: a directory under its own key
# (a wrapped key's long-term blob, or the raw key /payload/raw.key), with
# FILE... copied in (write boot) or compared (read boot).
hw_dir() {
	hd_name=$1 hd_policy=$2 hd_key=$3
	shift 3
	if [ "$hd_key" = raw ]; then
		hd_id=$(icefs add-key /mnt/fs </payload/raw.key 2>>/tmp/cmd.log) ||
			hw_fail 94 "add the raw key of $hd_name"
	else
		hw_add "$hd_key" || hw_fail 94 "prepare and add the key of $hd_name"
		hd_id=$hw_keyid
	fi
	if [ "$phase" = write ]; then
		check "mkdir $hd_name" mkdir "/mnt/fs/$hd_name"
		check "set-policy $hd_name" icefs set-policy "/mnt/fs/$hd_name" "$hd_id" \
			--flags "$hd_policy"
		for f in "$@"; do
			check "copy $f to $hd_name" cp "/payload/files/$f" "/mnt/fs/$hd_name/$f"
		done
		check "sync" sync
		check "drop caches" sh -c 'echo 3 >/proc/sys/vm/drop_caches'
	fi
	for f in "$@"; do
		check "$hd_name/$f reads back" cmp "/payload/files/$f" "/mnt/fs/$hd_name/$f"
	done
	say "hw: $hd_name ($hd_policy) keyid $hd_id: $# files"
}

hw_more() {
	f3=$(printf '%s\n' $FILES | grep '^f3-')
	f4=$(printf '%s\n' $FILES | grep '^f4-')
	if [ "$phase" = write ]; then
		lt=$(cat /mnt/fs/keyblob)
		bytes=$((${#lt} / 2))
		nlt=0 neph=0 i=0
		while [ "$i" -lt "$bytes" ]; do
			flip "$lt" "$i" | icekey prepare /dev/vda >/dev/null 2>&1 || nlt=$((nlt + 1))
			flip "$eph" "$i" | icefs add-key /mnt/fs --hw-wrapped --hex-stdin \
				>/dev/null 2>&1 || neph=$((neph + 1))
			i=$((i + 1))
		done
		say "hw: changed bytes refused: long-term $nlt of $bytes, ephemeral $neph of $bytes"
		if icekey prepare /dev/vda </payload/foreign.blob >/dev/null 2>&1; then
			say "hw: another wrapping key's blob was accepted"
		else
			say "hw: another wrapping key's blob refused"
		fi
		hw_add /payload/host.blob || hw_fail 95 "prepare the host's blob"
		say "hw: the host's blob adds keyid $hw_keyid"
		icekey generate /dev/vda >/mnt/fs/keyblob-gen 2>>/tmp/cmd.log ||
			hw_fail 96 "generate a key"
	fi
	hw_dir gen "$POLICY" /mnt/fs/keyblob-gen "$f3" "$f4"
	hw_dir raw none raw "$f4"
	: >/tmp/cmd.log
}
