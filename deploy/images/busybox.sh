# busybox image recipe, sourced by deploy/lab.d/images.sh (see there for the recipe interface).
# Debian's busybox-static (/bin/busybox) with its applets linked in /bin, /sbin, /usr/bin and
# /usr/sbin, /etc/passwd and /etc/group like the Docker Hub image, and a world-writable /tmp.
# One build is pushed under every tag tests ask for (latest, 1.35, 1.36, 1.37): the lab has no
# internet, so the version in the tag is a name, not a promise of that busybox release.

IMAGE_REPO=library/busybox
IMAGE_TAGS="latest 1.35 1.36 1.37"
IMAGE_CONFIG=(--config.cmd sh
    --config.env "PATH=$CK_IMAGES_PATH")

# the cache key: the busybox-static package version
image_key() {
    ck_img_busybox_version
}

image_rootfs() {
    ck_img_busybox_rootfs "$1"
}
