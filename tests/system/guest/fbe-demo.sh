#!/bin/sh
# The FBE demo of `make run` (icevmm.mode=demo): fscrypt with inlinecrypt on
# the ICE disk (vda, made with mkfs.ext4 -O encrypt,stable_inodes on the
# host), an IV_INO_LBLK_64 v2 policy, one file. On an engine with
# hardware-wrapped keys (Linux 7.3 on a v4 disk) the key is one: a fresh raw
# key is imported (BLKCRYPTOIMPORTKEY) and forgotten, its long-term blob
# prepared (BLKCRYPTOPREPAREKEY), and the ephemeral blob added to fscrypt;
# elsewhere a fresh raw master key. The kernel's lines say who encrypted the
# file: "blk-crypto (native)" is the ICE, "blk-crypto-fallback" the CPU (a
# kernel without the driver series).
echo "== icevmm demo: fscrypt with -o inlinecrypt on the ICE disk (vda)"
dmesg | grep 'virtio_blk.*inline encryption'
mkdir -p /mnt/demo
mount -t ext4 -o inlinecrypt /dev/vda /mnt/demo || exit 1
crypto=/sys/block/vda/queue/crypto
echo "$crypto: $(cat $crypto/num_keyslots) keyslots, modes $(ls $crypto/modes)," \
	"key types: $(ls $crypto | grep '_keys$' | tr '\n' ' ')"
if [ -e $crypto/hw_wrapped_keys ]; then
	head -c 32 /dev/urandom >/tmp/raw.key
	icekey import /dev/vda </tmp/raw.key >/mnt/demo/keyblob || exit 1
	rm /tmp/raw.key
	echo "imported a fresh raw key as a hardware-wrapped key; its long-term blob" \
		"($(($(wc -c </mnt/demo/keyblob) / 2)) bytes) is /mnt/demo/keyblob, the raw key is gone"
	eph=$(icekey prepare /dev/vda </mnt/demo/keyblob) || exit 1
	echo "prepared: an ephemerally-wrapped key ($((${#eph} / 2)) bytes), valid until icevmm exits"
	keyid=$(echo "$eph" | icefs add-key /mnt/demo --hw-wrapped --hex-stdin) || exit 1
	echo "wrapped key added to fscrypt: identifier $keyid"
else
	head -c 64 /dev/urandom >/tmp/master.key
	keyid=$(icefs add-key /mnt/demo </tmp/master.key) || exit 1
	echo "master key added: identifier $keyid"
fi
mkdir /mnt/demo/secret
icefs set-policy /mnt/demo/secret "$keyid" --flags iv_ino_lblk_64 || exit 1
echo "hello from an encrypted file" >/mnt/demo/secret/hello.txt
sync
echo "/mnt/demo/secret: $(icefs get-policy /mnt/demo/secret)"
dmesg | grep 'fscrypt:.*blk-crypto'
echo "hello.txt: $(cat /mnt/demo/secret/hello.txt); its extent on vda:" \
	"$(icefs extents /mnt/demo/secret/hello.txt)"
umount /mnt/demo
