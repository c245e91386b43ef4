/* layers.h - unpacking one image layer (a tar, plain or compressed) into a directory that
 * overlayfs can use as a lower layer.
 *
 * The archive is read with libarchive (gzip, zstd, xz, bzip2 or none, detected from the data)
 * and written with our own *at() calls below the destination, so no entry can land outside it:
 *  - entry names are cleaned ("./a//b" -> "a/b", a leading "/" is dropped); a name that climbs
 *    above the root ("../x", "a/../../x") is refused, as docker refuses it;
 *  - parent directories are resolved inside the root (openat2 RESOLVE_IN_ROOT), so a symlink
 *    from an earlier entry can never lead a later entry out of it; missing parents are made;
 *  - a symlink whose target, read relative to the symlink's directory, climbs above the root
 *    is refused (docker's rule; "/bin/busybox" and "../lib/x.so" are fine); hardlinks must name
 *    an earlier entry inside the root;
 *  - OCI whiteouts become what overlayfs expects: ".wh.NAME" a character device 0/0 named
 *    NAME, ".wh..wh..opq" the xattr trusted.overlay.opaque=y on its directory (a directory
 *    that replaces a whiteout of the same layer becomes opaque too); other ".wh..wh." AUFS
 *    entries are skipped. Whiteouts hide lower layers only, never entries of their own layer.
 *  - modes (with setuid/setgid/sticky), numeric owners, mtimes, symlinks, hardlinks, devices,
 *    FIFOs and the xattrs security.capability and user.* are kept. Sockets are skipped.
 * Needs root for owners, devices and trusted.* xattrs (the kubelet runs as root).
 *
 * Thread-safety: no shared state; concurrent calls on different directories are safe.
 */
#ifndef KL_LAYERS_H
#define KL_LAYERS_H

#include <stdint.h>

#include "error.h"

struct kl_layer_result {
    char diff_id[72]; /* "sha256:<hex>" of the uncompressed tar stream (the OCI DiffID) */
    int64_t entries;  /* tar entries seen */
    int64_t bytes;    /* regular-file bytes written */
};

/* Unpacks the layer blob at blob_path into dir (an existing, empty directory; its mode is set
 * to 0755 unless the archive has a root entry). On failure returns a negative errno and sets
 * err (500, a message such as `path "../x" is outside of the layer root`); dir is then left
 * partly filled for the caller to remove. */
int kl_layer_unpack(const char *blob_path, const char *dir, struct kl_layer_result *res,
                    struct ck_error *err);

/* Removes name (a file or a whole tree, never following symlinks) below dirfd. Returns 0 or
 * a negative errno; a missing name is not an error. Trees deeper than 1024 levels fail. */
int kl_remove_tree_at(int dirfd, const char *name);

#endif
