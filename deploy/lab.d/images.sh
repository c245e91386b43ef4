# deploy/lab.d/images.sh - the lab's test images, built without internet and pushed to the lab
# registry. Each image has a recipe deploy/images/NAME.sh that sets
#   IMAGE_REPO     its repository in the registry (library/busybox, pause, ckube/agnhost)
#   IMAGE_TAGS     the tags it is pushed under
#   IMAGE_CONFIG   `umoci config` arguments (cmd, entrypoint, env, user)
#   image_key      prints what the cache key depends on (package versions, source hashes)
#   image_rootfs R fills the (empty) root filesystem directory R
# and may use the ck_img_* helpers below. An image is built once into an OCI layout under
# build/images/NAME-KEY-RECIPEHASH/ with umoci (init, new, unpack, fill the rootfs, repack,
# config, tag) and reused while nothing it depends on changes; `skopeo copy` pushes it.

CK_IMAGES_SRC=${CK_IMAGES_SRC:-$LAB_ROOT/deploy/images}
CK_IMAGES_CACHE=${CK_IMAGES_CACHE:-$LAB_ROOT/build/images}
# the PATH images set, as Docker Hub's do
CK_IMAGES_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export CK_IMAGES_PATH

# the image names (recipes), in build order
ck_images_list() {
    local f
    for f in "$CK_IMAGES_SRC"/*.sh; do
        [ -f "$f" ] && basename "$f" .sh
    done
}

# first 12 hex digits of the sha256 over the given files and the C compiler's version
ck_img_hash() {
    { cat "$@" && cc --version 2>/dev/null | head -n1; } | sha256sum | cut -c1-12
}

# busybox-static's package version, made safe for a path ("1.35.0-4_deb12u1_b1")
ck_img_busybox_version() {
    local v
    v=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) || v=""
    [ -n "$v" ] || v=$(/bin/busybox 2>&1 | sed -n '1s/^BusyBox v\([^ ]*\).*/\1/p')
    v=${v#*:}
    echo "${v//[^A-Za-z0-9._-]/_}"
}

# a busybox root filesystem in $1: /bin/busybox from busybox-static with every applet linked
# where it belongs (busybox --install -s, run in the rootfs), /etc/passwd and /etc/group as the
# Docker Hub image has them, /tmp world-writable, /root, /home, /var, mount points
ck_img_busybox_rootfs() {
    local r=$1 bb=/bin/busybox
    # a dynamic busybox (Debian's busybox package) would need a libc in the image
    if [ ! -x "$bb" ] || { command -v readelf >/dev/null && readelf -l "$bb" | grep -q INTERP; }; then
        echo "images: $bb is missing or not static: install busybox-static" >&2
        return 1
    fi
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,root,home,var/spool/mail,var/www,dev,proc,sys} ||
        return 1
    install -d -m 1777 "$r/tmp" && chmod 700 "$r/root" && install -m 755 "$bb" "$r/bin/busybox" ||
        return 1
    # links point at /bin/busybox, as busybox --install -s makes them
    chroot "$r" /bin/busybox --install -s || return 1
    [ -L "$r/bin/sh" ] || {
        echo "images: busybox --install did not create /bin/sh" >&2
        return 1
    }
    cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
    cat >"$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:12:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
EOF
}

# a static binary: ck_img_cc OUT SRC... [CFLAGS...]
ck_img_cc() {
    local out=$1
    shift
    cc -static -O2 -s -std=gnu11 -Wall -Wextra -Werror -o "$out" "$@"
}

# a dynamically linked binary with the shared libraries ldd lists (and the loader), each at
# its own path: ck_img_copy_with_libs BIN ROOTFS DEST (DEST inside the rootfs, "/ckube-dns")
ck_img_copy_with_libs() {
    local bin=$1 r=$2 dest=$3 lib
    install -D -m 755 "$bin" "$r$dest" || return 1
    for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
        install -D -m 755 "$(readlink -f "$lib")" "$r$lib" || return 1
    done
}

# builds image NAME if its cache entry is missing; prints the OCI layout directory
ck_image_build() {
    local name=$1 recipe=$CK_IMAGES_SRC/$1.sh
    [ -f "$recipe" ] || {
        echo "images: no recipe $recipe" >&2
        return 1
    }
    (
        # shellcheck source=/dev/null
        . "$recipe" || exit 1
        key=$(image_key) || exit 1
        rhash=$(cat "$recipe" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-8)
        dir=$CK_IMAGES_CACHE/$name-${key//[^A-Za-z0-9._-]/_}-$rhash
        if [ -f "$dir/index.json" ] && [ -f "$dir/.ckube-complete" ]; then
            echo "$dir"
            exit 0
        fi
        mkdir -p "$CK_IMAGES_CACHE" || exit 1
        # builds killed half-way leave their directory behind
        find "$CK_IMAGES_CACHE" -maxdepth 1 -name '.build-*' -mmin +30 -exec rm -rf {} + 2>/dev/null
        tmp=$(mktemp -d "$CK_IMAGES_CACHE/.build-$name.XXXXXX") || exit 1
        trap 'rm -rf "$tmp"' EXIT
        echo "images: building $name ($dir)" >&2
        img=$tmp/oci:build
        umoci init --layout "$tmp/oci" &&
            umoci new --image "$img" &&
            umoci unpack --image "$img" "$tmp/bundle" &&
            image_rootfs "$tmp/bundle/rootfs" &&
            umoci repack --history.created_by "ckube deploy/images/$name.sh" \
                --image "$img" "$tmp/bundle" &&
            umoci config --no-history --image "$img" "${IMAGE_CONFIG[@]}" || {
            echo "images: building $name failed" >&2
            exit 1
        }
        for t in $IMAGE_TAGS; do
            umoci tag --image "$img" "$t" || exit 1
        done
        umoci rm --image "$img" && umoci gc --layout "$tmp/oci" || exit 1
        printf '%s\n' "$IMAGE_REPO" "$IMAGE_TAGS" >"$tmp/oci/.ckube-image"
        touch "$tmp/oci/.ckube-complete"
        # another build may have finished first: theirs is as good as ours
        if ! mv -T "$tmp/oci" "$dir" 2>/dev/null; then
            [ -f "$dir/.ckube-complete" ] || exit 1
        fi
        echo "$dir"
    )
}

# pushes every tag of the layout's image: ck_image_push LAYOUT REGISTRY (host:port, plain HTTP)
ck_image_push() {
    local layout=$1 registry=$2 repo tags t rc=0
    {
        read -r repo
        read -r tags
    } <"$layout/.ckube-image" || return 1
    local policy
    policy=$(mktemp /tmp/ckube-lab-policy.XXXXXX.json) || return 1
    echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
    # one push (retried once: the registry can answer 500 on a blob a concurrent upload is
    # writing) uploads the blobs; the other tags, pushed in parallel after it, only add
    # manifests
    push_tag() {
        skopeo --policy "$policy" copy --quiet --dest-tls-verify=false \
            "oci:$layout:$1" "docker://$registry/$repo:$1" ||
            skopeo --policy "$policy" copy --quiet --dest-tls-verify=false \
                "oci:$layout:$1" "docker://$registry/$repo:$1"
    }
    local -a pids=()
    local first=1
    for t in $tags; do
        if [ $first = 1 ]; then
            push_tag "$t" || rc=1
            first=0
            continue
        fi
        push_tag "$t" &
        pids+=($!)
    done
    for t in "${pids[@]}"; do
        wait "$t" || rc=1
    done
    rm -f "$policy"
    [ $rc -eq 0 ] || echo "images: pushing $repo to $registry failed" >&2
    return $rc
}

# builds every image; prints one layout directory per line
ck_images_build_all() {
    local name
    for name in $(ck_images_list); do
        ck_image_build "$name" || return 1
    done
}
