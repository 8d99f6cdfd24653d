# shellcheck shell=bash
# Host-side checks of the hardware-wrapped key cases (sourced by run-all.sh,
# which defines pass, fail, wanted, fbe_field, fbe_summary, $share, $oracle
# and $HOST_ICEVMM). The guest side: tests/system/guest/fbe-hw.sh.

# hw_secrets_absent NAME RAW_HEX FILE...: no secret of the raw key RAW_HEX
# (the key itself, its inline-encryption key, its software secret) appears in
# FILE... as hex, and no run of 64 hex digits does either (a generated key,
# which only icevmm saw, would be one).
hw_secrets_absent() {
	local n=$1 raw=$2 secret found=
	shift 2
	for secret in "$raw" "$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1])
import fscrypt_oracle as fo
raw = bytes.fromhex(sys.argv[2])
print(fo.hw_inline_key(raw).hex(), fo.hw_sw_secret(raw).hex())' "${oracle%/*}" "$raw")"; do
		for s in $secret; do
			grep -qiF "$s" "$@" && found="$found ${s:0:8}..."
		done
	done
	# (the feature bits, 0s and 1s, and a report's sha256 lines are not one)
	grep -hav '^sha256 ' "$@" | grep -oaiE '[0-9a-f]{64,}' | grep -qv '^[01]*$' &&
		found="$found (a run of 64 hex digits)"
	if [ -z "$found" ]; then
		pass "$n: neither the raw key, nor its derived keys, nor any 32-byte hex string is in icevmm's output or the guest's"
	else
		fail "$n: secret material in the logs:$found"
	fi
}

# check_fbe_hw DIR NAME: what a WRAP='import' case adds to check_fbe's checks
# (which verify every data unit under the inline-encryption key).
check_fbe_hw() {
	local d=$1 n=$2 w r line want
	wanted "$n" || return 0
	# shellcheck disable=SC1090
	. "$share/$n.params"
	w=$d/$n-write.report r=$d/$n-read.report
	[ -s "$w" ] && [ -s "$r" ] || return 0 # check_fbe said why
	line=$(fbe_field "$w" crypto:)
	case "$line" in
	*key_types=*hw_wrapped_keys*) pass "$n: /sys/block/vda/queue/crypto has hw_wrapped_keys ($line)" ;;
	*) fail "$n: no hw_wrapped_keys in /sys/block/vda/queue/crypto: '$line'" ;;
	esac
	line=$(sed -n 's/^hw: the earlier boot.s ephemeral blob //p' "$r")
	if [ "$line" = "refused; 7 of 7 files unreadable" ]; then
		pass "$n: the second boot refused the first boot's ephemeral blob ($line)"
	else
		fail "$n: the first boot's ephemeral blob in the second: '${line:-no line}'"
	fi
	fbe_summary "$d" "$n" write
	if printf '%s' "$sum_line" | grep -q 'wrapped keys: [1-9][0-9]* IMPORT, .* [1-9][0-9]* PREPARE, [1-9][0-9]* DERIVE_SW_SECRET'; then
		pass "$n: icevmm counted the wrapped-key commands: ${sum_line##*; }"
	else
		fail "$n: icevmm's summary has no IMPORT, PREPARE and DERIVE_SW_SECRET: '${sum_line:-none}'"
	fi
	# The raw key went to the engine once; nothing derived from it, and no
	# generated key, is anywhere in what icevmm or the guest printed.
	hw_secrets_absent "$n" "$KEY" "$d/$n-write.log" "$d/$n-read.log" "$w" "$r"
	case " $EXTRA " in *" hw_more "*) ;; *) return 0 ;; esac

	want=$(python3 "$oracle" keyid --master-key "$KEY" --hw-wrapped)
	line=$(sed -n 's/^hw: changed bytes refused: //p' "$w")
	case "$line" in
	"long-term 62 of 62, ephemeral 62 of 62") pass "$n: every one-byte change of a blob refused ($line)" ;;
	*) fail "$n: blobs with a changed byte: '${line:-no line}', want all 62 of each refused" ;;
	esac
	if grep -qx "hw: another wrapping key's blob refused" "$w"; then
		pass "$n: a long-term blob made under another wrapping key refused"
	else
		fail "$n: a blob of another wrapping key: '$(grep "another wrapping" "$w")'"
	fi
	line=$(sed -n "s/^hw: the host's blob adds keyid //p" "$w")
	if [ "$line" = "$want" ]; then
		pass "$n: a blob made on the host (Python's AES-GCM, docs/ICE.md's format) prepares to the same key ($line)"
	else
		fail "$n: the host's blob gave key identifier '${line:-none}', want $want"
	fi
	want=$(python3 "$oracle" keyid --master-key-file <(tar -xOf "$share/$n-payload.tar" raw.key))
	for phase in write read; do
		line=$(sed -n 's/^hw: raw (none) keyid \([0-9a-f]*\): 1 files$/\1/p' "$d/$n-$phase.report")
		if [ "$line" = "$want" ] && grep -q "^hw: gen ($POLICY) keyid [0-9a-f]\{32\}: 2 files$" \
			"$d/$n-$phase.report"; then
			pass "$n: $phase boot: a GENERATEd key's files and a raw key's file beside the wrapped key's"
		else
			fail "$n: $phase boot: the generated and raw keys' directories:"
			grep '^hw: \(gen\|raw\) ' "$d/$n-$phase.report" | sed 's/^/      | /'
		fi
	done
	fbe_summary "$d" "$n" write
	if printf '%s' "$sum_line" | grep -q ' 1 GENERATE, '; then
		pass "$n: icevmm answered one GENERATE"
	else
		fail "$n: icevmm's GENERATE count: '${sum_line:-none}'"
	fi
}

# hwdm_prep: the hwdm case's payload (prep.py's keys and files, and a 16 MiB
# ext4 for the mappings) and keys file, in the share.
hwdm_prep() {
	python3 "$here/fbe/prep.py" --seed "$FBE_SEED" --case hwdm --out "$share" --disk v4 \
		--kernel 7.3 --wrap import >/dev/null
	rm -f "$share/ext4.img"
	mkfs.ext4 -q -F -b 4096 -O encrypt "$share/ext4.img" 16M
	tar -rf "$share/hwdm-payload.tar" -C "$share" ext4.img
	rm -f "$share/ext4.img"
}

# check_hwdm DIR: dm-inlinecrypt with a raw and a wrapped key (guest/hwdm.sh).
check_hwdm() {
	local d=$1 phase st rep tmp raw m want got line
	wanted hwdm || return 0
	# shellcheck disable=SC1090
	. "$share/hwdm.params"
	for phase in write read plain; do
		st=$(cat "$d/hwdm-$phase.status" 2>/dev/null || echo none)
		rep=$d/hwdm-$phase.report
		tr -d '\000' <"$d/hwdm-$phase-report.img" >"$rep" 2>/dev/null || : >"$rep"
		if [ "$st" = 64 ] && grep -qx 'HWDM-END 0' "$rep"; then
			pass "hwdm: $phase boot: the guest's workload passed ($(cat "$d/hwdm-$phase.ms") ms)"
		else
			fail "hwdm: $phase boot: icevmm status $st (64 = the script's 0), report:"
			sed 's/^/      | /' "$rep" | tail -n 12
			tail -n 8 "$d/hwdm-$phase.log" 2>/dev/null | sed 's/^/      | /'
			return
		fi
	done
	rep=$d/hwdm-write.report
	if grep -q '^sysfs: .*hw_wrapped_keys' "$rep"; then
		pass "hwdm: the ICE disk's sysfs: $(sed -n 's/^sysfs: //p' "$rep")"
	else
		fail "hwdm: no hw_wrapped_keys in the ICE disk's sysfs: '$(grep '^sysfs' "$rep")'"
	fi
	# Every sector of each mapping: the oracle's decryption (its own key, DUN =
	# the 4096-byte sector's index in the mapping) is what the guest read
	# through it, and that is a clean ext4 holding the files.
	tmp=$(mktemp -d)
	tar -xf "$share/hwdm-payload.tar" -C "$tmp"
	raw=$(od -An -tx1 -v "$tmp/raw.key" | tr -d ' \n')
	for m in "dmraw 0 --key $raw" "dmhw 16777216 --key $KEY --hw-wrapped"; do
		# shellcheck disable=SC2086 # words
		set -- $m
		want=$(sed -n "s/^sha256 $1 //p" "$d/hwdm-read.report") # the last boot's
		python3 "$oracle" dm-decrypt "${@:3}" --image "$d/hwdm.img" --offset "$2" \
			--length $((16 << 20)) --out "$tmp/$1.plain" >/dev/null
		got=$(sha256sum <"$tmp/$1.plain" | cut -d' ' -f1)
		if [ "$got" = "$want" ] && e2fsck -fn "$tmp/$1.plain" >"$tmp/fsck.log" 2>&1 &&
			debugfs -R "dump /f5-1048576 $tmp/f5" "$tmp/$1.plain" >/dev/null 2>&1 &&
			cmp -s "$tmp/f5" "$tmp/files/f5-1048576"; then
			pass "hwdm: $1: all 4096 sectors are the oracle's ciphertext of what the guest read (sha256 ${got:0:16}...): a clean ext4 with the files"
		else
			fail "hwdm: $1: the oracle's plaintext (sha256 $got) is not what the guest read ($want), or not a clean ext4 with the files"
			tail -n 3 "$tmp/fsck.log" 2>/dev/null | sed 's/^/      | /'
		fi
	done
	if python3 "$here/fbe/leak.py" "$d/hwdm.img" "$tmp/files" >"$tmp/leak.log"; then
		pass "hwdm: no 4 KiB block of any plaintext file is on the image ($(tail -n 1 "$tmp/leak.log"))"
	else
		fail "hwdm: plaintext on the image:"
		sed 's/^/      | /' "$tmp/leak.log" | tail -n 5
	fi
	rm -rf "$tmp"
	for phase in write read; do
		fbe_summary "$d" hwdm $phase
		if [ "$sum_ref" = 0 ] && [ $((sum_enc + sum_dec)) -gt 0 ] &&
			printf '%s' "$sum_line" | grep -q ' [1-9][0-9]* PREPARE, '; then
			pass "hwdm: $phase boot: ${sum_line#icevmm: }"
		else
			fail "hwdm: $phase boot: icevmm's summary: '${sum_line:-none}'"
		fi
	done
	hw_secrets_absent hwdm "$KEY" "$d"/hwdm-*.log "$d"/hwdm-*.report
	rep=$d/hwdm-plain.report
	if grep -qx 'plain: sysfs crypto: none' "$rep" &&
		grep -q '^plain: import refused: .*Operation not supported' "$rep" &&
		grep -q '^plain: dm-inlinecrypt refused the wrapped key' "$rep" &&
		grep -q '^plain: fscrypt refused the wrapped key' "$rep"; then
		pass "hwdm: a plain disk has no crypto sysfs, and refuses the wrapped key (import, dm-inlinecrypt, fscrypt)"
	else
		fail "hwdm: on a plain disk:"
		grep '^plain:' "$rep" | sed 's/^/      | /'
	fi
}
