# ckube/agnhost image recipe, sourced by deploy/lab.d/images.sh (see there for the recipe
# interface). Our stand-in for upstream's e2e agnhost image: /agnhost (deploy/images/agnhost/,
# cc -static) on the busybox rootfs, so `sh` and the usual tools are there as in upstream's.
# Entrypoint /agnhost, default command `pause`, as upstream's image.

IMAGE_REPO=ckube/agnhost
IMAGE_TAGS="latest 1.0"
IMAGE_CONFIG=(--config.entrypoint /agnhost --config.cmd pause
    --config.env "PATH=$CK_IMAGES_PATH")

# the cache key: busybox-static's version, the sources and the compiler
image_key() {
    printf '%s-%s' "$(ck_img_busybox_version)" "$(ck_img_hash "$CK_IMAGES_SRC"/agnhost/*.c)"
}

image_rootfs() {
    ck_img_busybox_rootfs "$1" &&
        ck_img_cc "$1/agnhost" "$CK_IMAGES_SRC"/agnhost/*.c -pthread
}
