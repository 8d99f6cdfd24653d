#!/bin/sh
# The FBE demo of `make run` (icevmm.mode=demo): fscrypt with inlinecrypt on
# the ICE disk (vda, made with mkfs.ext4 -O encrypt,stable_inodes on the
# host). A fresh random master key, an IV_INO_LBLK_64 v2 policy, one file;
# the kernel's lines say who encrypted it: "blk-crypto (native)" is the ICE,
# "blk-crypto-fallback" the CPU (a kernel without the driver series).
echo "== icevmm demo: fscrypt with -o inlinecrypt on the ICE disk (vda)"
dmesg | grep 'virtio_blk.*inline encryption'
mkdir -p /mnt/demo
mount -t ext4 -o inlinecrypt /dev/vda /mnt/demo || exit 1
head -c 64 /dev/urandom >/tmp/master.key
keyid=$(icefs add-key /mnt/demo </tmp/master.key) || exit 1
echo "master key added: identifier $keyid"
mkdir /mnt/demo/secret
icefs set-policy /mnt/demo/secret "$keyid" --flags iv_ino_lblk_64 || exit 1
echo "hello from an encrypted file" >/mnt/demo/secret/hello.txt
sync
echo "/mnt/demo/secret: $(icefs get-policy /mnt/demo/secret)"
echo "/sys/block/vda/queue/crypto: $(cat /sys/block/vda/queue/crypto/num_keyslots) keyslots," \
	"modes $(ls /sys/block/vda/queue/crypto/modes)"
dmesg | grep 'fscrypt:.*blk-crypto'
echo "hello.txt: $(cat /mnt/demo/secret/hello.txt); its extent on vda:" \
	"$(icefs extents /mnt/demo/secret/hello.txt)"
umount /mnt/demo
