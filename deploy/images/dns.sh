# ckube/dns image recipe, sourced by deploy/lab.d/images.sh (see there for the recipe
# interface): the cluster DNS server bin/ckube-dns (dns/) with the shared libraries it links,
# on the busybox rootfs (so `nslookup` and a shell are there for debugging). Entrypoint
# /ckube-dns, as CoreDNS' image has /coredns.

IMAGE_REPO=ckube/dns
IMAGE_TAGS="latest 1.0"
IMAGE_CONFIG=(--config.entrypoint /ckube-dns
    --config.env "PATH=$CK_IMAGES_PATH")

ck_img_dns_bin() {
    echo "${LAB_BIN:-${CKUBE_BIN:-$LAB_ROOT/bin}}/ckube-dns"
}

# the cache key: busybox-static's version and the binary
image_key() {
    local bin
    bin=$(ck_img_dns_bin)
    if [ -f "$bin" ]; then
        printf '%s-%s' "$(ck_img_busybox_version)" "$(ck_img_hash "$bin")"
    else
        printf '%s-nobin' "$(ck_img_busybox_version)"
    fi
}

image_rootfs() {
    local bin
    bin=$(ck_img_dns_bin)
    ck_img_busybox_rootfs "$1" || return 1
    if [ ! -x "$bin" ]; then
        # the lab still comes up; pods of this image fail with this message
        echo "images: $bin not built (make): ckube/dns has no server" >&2
        printf '#!/bin/sh\necho "ckube-dns was not built when this image was made" >&2\nexit 1\n' \
            >"$1/ckube-dns" && chmod 755 "$1/ckube-dns"
        return
    fi
    ck_img_copy_with_libs "$bin" "$1" /ckube-dns
}
