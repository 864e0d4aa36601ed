#!/bin/sh
# build-busybox.sh OUTDIR — builds an OCI image layout of busybox at OUTDIR from
# Debian's statically linked /bin/busybox (package busybox-static), with the
# reference name "busybox:latest" (as `skopeo copy ... oci:OUTDIR:busybox:latest`
# would write it).
#
# The rootfs: /bin/busybox and a symlink for each applet where busybox installs
# it (busybox --list-full), /etc/passwd and /etc/group (root, nobody), /tmp
# (1777), /var/www/index.html, empty /proc /sys /dev /root. One gzip'd layer,
# built deterministically (sorted, fixed mtime, numeric owner 0): the same
# busybox gives the same digests. Needs only sh, tar, gzip, sha256sum, python3.
#
# Idempotent: nothing is done when OUTDIR/index.json is newer than /bin/busybox
# and this script.
set -eu

OUT=${1:?usage: build-busybox.sh OUTDIR}
# Absolute, since the build changes directory into the rootfs.
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
BUSYBOX=${BUSYBOX:-/bin/busybox}
REF=busybox:latest

if [ ! -x "$BUSYBOX" ]; then
	echo "build-busybox.sh: $BUSYBOX not found: install Debian's busybox-static" >&2
	exit 1
fi
if ! "$BUSYBOX" --list-full >/dev/null 2>&1; then
	echo "build-busybox.sh: $BUSYBOX does not support --list-full" >&2
	exit 1
fi
if [ -f "$OUT/index.json" ] && [ "$OUT/index.json" -nt "$BUSYBOX" ] && [ "$OUT/index.json" -nt "$0" ]; then
	echo "build-busybox.sh: $OUT is up to date"
	exit 0
fi

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
i?86) ARCH=386 ;;
armv7l) ARCH=arm ;;
*) ARCH=$(uname -m) ;;
esac

OUT_PARENT=$(dirname "$OUT")
mkdir -p "$OUT_PARENT"
WORK=$(mktemp -d "$OUT_PARENT/.busybox-build.XXXXXX")
trap 'rm -rf --one-file-system "$WORK"' EXIT INT TERM

# ---- rootfs
R=$WORK/rootfs
mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin" "$R/etc" "$R/proc" "$R/sys" "$R/dev" \
	"$R/root" "$R/tmp" "$R/var/www" "$R/home"
cp "$BUSYBOX" "$R/bin/busybox"
chmod 0755 "$R/bin/busybox"
"$BUSYBOX" --list-full | while read -r applet; do
	case $applet in
	"" | bin/busybox) continue ;;
	esac
	mkdir -p "$R/$(dirname "$applet")"
	[ -e "$R/$applet" ] || [ -L "$R/$applet" ] || ln -s /bin/busybox "$R/$applet"
done
cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
EOF
echo "hosts: files dns" >"$R/etc/nsswitch.conf"
cat >"$R/var/www/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>nodelet busybox</title></head>
<body><h1>Hello from a nodelet pod</h1><p>Served by busybox httpd.</p></body></html>
EOF
chmod 0755 "$R" "$R"/bin "$R"/sbin "$R"/usr "$R"/usr/bin "$R"/usr/sbin "$R"/etc "$R"/proc \
	"$R"/sys "$R"/dev "$R"/var "$R"/var/www "$R"/home
chmod 0700 "$R/root"
chmod 1777 "$R/tmp"
chmod 0644 "$R/etc/passwd" "$R/etc/group" "$R/etc/nsswitch.conf" "$R/var/www/index.html"

# ---- layer: deterministic tar, gzip without name or time
mkdir -p "$WORK/blobs/sha256"
LAYER_TAR=$WORK/layer.tar
(cd "$R" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
	-cf "$LAYER_TAR" $(ls -A | LC_ALL=C sort))
DIFF_ID=sha256:$(sha256sum "$LAYER_TAR" | cut -d' ' -f1)
gzip -n -9 -c "$LAYER_TAR" >"$WORK/layer.tar.gz"
LAYER_HEX=$(sha256sum "$WORK/layer.tar.gz" | cut -d' ' -f1)
LAYER_SIZE=$(wc -c <"$WORK/layer.tar.gz")
mv "$WORK/layer.tar.gz" "$WORK/blobs/sha256/$LAYER_HEX"

# ---- config, manifest, index (python3 for the JSON)
put_blob() { # FILE -> prints "HEX SIZE" and moves FILE into blobs/
	hex=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(wc -c <"$1")
	mv "$1" "$WORK/blobs/sha256/$hex"
	echo "$hex $size"
}

python3 - "$WORK/config.json" "$ARCH" "$DIFF_ID" <<'EOF'
import json, sys
path, arch, diff_id = sys.argv[1:4]
cfg = {
    "created": "1970-01-01T00:00:00Z",
    "architecture": arch,
    "os": "linux",
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["sh"],
    },
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created": "1970-01-01T00:00:00Z",
                 "created_by": "deploy/images/build-busybox.sh (Debian busybox-static)"}],
}
with open(path, "w") as f:
    json.dump(cfg, f, separators=(",", ":"), sort_keys=True)
EOF
set -- $(put_blob "$WORK/config.json")
CONFIG_HEX=$1 CONFIG_SIZE=$2

python3 - "$WORK/manifest.json" "$CONFIG_HEX" "$CONFIG_SIZE" "$LAYER_HEX" "$LAYER_SIZE" <<'EOF'
import json, sys
path, chex, csize, lhex, lsize = sys.argv[1:6]
man = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": "sha256:" + chex, "size": int(csize)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": "sha256:" + lhex, "size": int(lsize)}],
}
with open(path, "w") as f:
    json.dump(man, f, separators=(",", ":"), sort_keys=True)
EOF
set -- $(put_blob "$WORK/manifest.json")
MANIFEST_HEX=$1 MANIFEST_SIZE=$2

python3 - "$WORK" "$MANIFEST_HEX" "$MANIFEST_SIZE" "$REF" "$ARCH" <<'EOF'
import json, sys
work, mhex, msize, ref, arch = sys.argv[1:6]
index = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + mhex,
        "size": int(msize),
        "platform": {"architecture": arch, "os": "linux"},
        "annotations": {"org.opencontainers.image.ref.name": ref},
    }],
}
with open(work + "/index.json", "w") as f:
    json.dump(index, f, indent=2, sort_keys=True)
    f.write("\n")
with open(work + "/oci-layout", "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
EOF

# ---- put it in place (whole directory swapped, so readers never see half)
rm -rf --one-file-system "$WORK/rootfs" "$LAYER_TAR"
NEW=$OUT_PARENT/.busybox-new.$$
mkdir "$NEW"
mv "$WORK/blobs" "$WORK/oci-layout" "$NEW/"
mv "$WORK/index.json" "$NEW/index.json"
if [ -e "$OUT" ]; then
	OLD=$OUT_PARENT/.busybox-old.$$
	mv "$OUT" "$OLD"
	mv "$NEW" "$OUT"
	rm -rf --one-file-system "$OLD"
else
	mv "$NEW" "$OUT"
fi
echo "build-busybox.sh: built $REF at $OUT"
echo "  manifest sha256:$MANIFEST_HEX ($MANIFEST_SIZE bytes)"
echo "  config   sha256:$CONFIG_HEX ($CONFIG_SIZE bytes)"
echo "  layer    sha256:$LAYER_HEX ($LAYER_SIZE bytes, $("$BUSYBOX" --list-full | wc -l) applets)"
