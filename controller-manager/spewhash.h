/* spewhash.h - upstream's pod-template-hash, byte for byte.
 *
 * Upstream (pkg/controller ComputeHash over pkg/util/hash DeepHashObject) feeds fnv32a with
 * go-spew's "%#v" rendering of the typed Go v1.PodTemplateSpec (spew config: SortKeys,
 * DisableMethods, SpewKeys), then the collisionCount as 8 little-endian bytes (the low 4
 * holding the uint32, the high 4 zero) when it is set, and safe-encodes the decimal sum.
 * Here we print that rendering from a cJSON template by walking the Go type table of
 * gotypes.h, reproducing what the kube-controller-manager's decoder leaves in the struct:
 *   - absent fields are Go zero values; unknown JSON members are ignored;
 *   - an empty JSON array or object for a slice or map prints as nil (`<nil>`), as the
 *     protobuf decoding the controller-manager uses cannot tell empty from unset;
 *   - quantities are first brought to the string the apiserver serves (upstream's String()
 *     of the parsed value), then split into resource.Quantity's unexported i/d/s/Format the
 *     way ParseQuantity fills them (int64Amount fast path or inf.Dec slow path);
 *   - metav1.Time prints as the zero time.Time when null; a set time cannot be reproduced
 *     (its *time.Location depends on the controller-manager host) and is -ENOTSUP.
 */
#ifndef CKCM_SPEWHASH_H
#define CKCM_SPEWHASH_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"
#include "gotypes.h"

/* Appends to out spew's "%#v" of v (borrowed) decoded into Go type t. Returns 0, -EINVAL
 * (err set) for a quantity that does not parse, -ERANGE for one beyond what we reproduce,
 * -ENOTSUP for a set metav1.Time, -ELOOP past a nesting limit. out may hold a partial
 * rendering on error. */
int spew_print(struct ck_buf *out, const struct gt_type *t, const cJSON *v, struct ck_error *err);

/* The fnv32a sum upstream's ComputeHash takes over tmpl (a PodTemplateSpec, borrowed) and
 * collision_count (NULL: none) into *sum. Returns 0 or a spew_print error. */
int spew_template_sum(const cJSON *tmpl, const int64_t *collision_count, uint32_t *sum,
                      struct ck_error *err);

#endif
