# pause image recipe, sourced by deploy/lab.d/images.sh (see there for the recipe interface).
# The pod sandbox's first process: deploy/images/pause.c built with cc -static, alone in its
# image, run as 65535:65535 like upstream's registry.k8s.io/pause. Pushed as pause:3.10, which
# kubelets reach as registry.k8s.io/pause:3.10 through their registry mirror.

IMAGE_REPO=pause
IMAGE_TAGS="3.10 latest"
IMAGE_CONFIG=(--config.entrypoint /pause --config.user 65535:65535)

# the cache key: the source and the compiler
image_key() {
    ck_img_hash "$CK_IMAGES_SRC/pause.c"
}

image_rootfs() {
    ck_img_cc "$1/pause" "$CK_IMAGES_SRC/pause.c"
}
