/* strategic_list.c - the list half of strategic merge patch (see strategic.c): merging lists of
 * maps by merge key and lists of scalars as sets, "$patch" elements, $deleteFromPrimitiveList,
 * $setElementOrder, and the order of the merged list (apimachinery's mergeSlice,
 * mergePatchIntoOriginal, normalizeElementOrder).
 *
 * The order rules compare items by their position in the live list. Upstream computes that
 * position on a Go slice that the merge itself has partly overwritten (deleting an element
 * shifts the rest left in place, and appended items land in the freed tail), and its expected
 * results depend on it; struct live_view reproduces what that slice holds afterwards.
 *
 * Items are compared by identity: the merge key's value for maps, the value for scalars, as
 * canonical JSON (Go compares interface values; 1 and 1.0 both decode to float64 or int64
 * there, here they are one number). Lookups go through a hash index, so lists of any length
 * merge in linear time.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "patch_internal.h"

/* ---- item vectors ---- */

struct vec {
    cJSON **v;
    size_t n, cap;
};

static void vec_push(struct vec *a, cJSON *item)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 8;
        a->v = ck_xrealloc(a->v, a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = item;
}

/* Takes the elements out of arr (their member names dropped) and frees the array node. */
static struct vec vec_from_array(cJSON *arr)
{
    struct vec a = {0};
    if (!arr)
        return a;
    cJSON *c = arr->child;
    arr->child = NULL;
    while (c) {
        cJSON *next = c->next;
        c->next = c->prev = NULL;
        if (c->string && !(c->type & cJSON_StringIsConst))
            cJSON_free(c->string);
        c->string = NULL;
        vec_push(&a, c);
        c = next;
    }
    cJSON_Delete(arr);
    return a;
}

static void vec_free(struct vec *a)
{
    for (size_t i = 0; i < a->n; i++)
        cJSON_Delete(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* Forgets the items without freeing them (they moved elsewhere). */
static void vec_release(struct vec *a)
{
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* An array of the vector's items (consumed). */
static cJSON *vec_to_array(struct vec *a)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < a->n; i++)
        cJSON_AddItemToArray(arr, a->v[i]);
    vec_release(a);
    return arr;
}

/* Copies of a list's items (owned). */
static struct vec dup_items(cJSON *const *items, size_t n)
{
    struct vec d = {0};
    for (size_t i = 0; i < n; i++)
        vec_push(&d, ck_json_dup(items[i]));
    return d;
}

/* The items of a JSON array, borrowed (free only .v). */
static struct vec borrow_items(const cJSON *arr)
{
    struct vec a = {0};
    cJSON *e;
    cJSON_ArrayForEach(e, arr) vec_push(&a, e);
    return a;
}

/* What a caller's Go slice of the live list holds after a merge: `n` items, borrowed from
 * `pool` (owned copies). */
struct live_view {
    struct vec pool;
    cJSON **v;
    size_t n;
};

static void live_view_free(struct live_view *w)
{
    vec_free(&w->pool);
    free(w->v);
    memset(w, 0, sizeof(*w));
}

/* A view holding copies of the given items, unchanged. */
static void live_view_of(struct live_view *w, cJSON *const *items, size_t n)
{
    w->pool = dup_items(items, n);
    w->v = ck_xcalloc(n ? n : 1, sizeof(*w->v));
    if (n)
        memcpy(w->v, w->pool.v, n * sizeof(*w->v));
    w->n = n;
}

/* ---- identities, kinds, indexes ---- */

enum kind { K_NULL, K_BOOL, K_NUMBER, K_STRING, K_ARRAY, K_OBJECT };

static enum kind kind_of(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return K_OBJECT;
    if (cJSON_IsArray(v))
        return K_ARRAY;
    if (cJSON_IsString(v))
        return K_STRING;
    if (cJSON_IsNumber(v))
        return K_NUMBER;
    if (cJSON_IsBool(v))
        return K_BOOL;
    return K_NULL;
}

/* An item's identity: its merge key's value (maps) or itself (scalars); NULL for a non-map or
 * a map without the key when a merge key is given. Caller frees. */
static char *item_key(const cJSON *item, const char *merge_key)
{
    if (merge_key) {
        if (!cJSON_IsObject(item))
            return NULL;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, merge_key);
        return v ? patch_value_key(v) : NULL;
    }
    return patch_value_key(item);
}

/* Index of first positions by identity. */
static void index_items(cJSON *const *items, size_t n, const char *merge_key,
                        struct patch_keyidx *idx)
{
    patch_keyidx_init(idx, n);
    for (size_t i = 0; i < n; i++) {
        CK_AUTOFREE char *k = item_key(items[i], merge_key);
        if (k)
            patch_keyidx_put(idx, k, i);
    }
}

/* sliceElementType over two lists: the one kind of all their elements. */
static int element_kind(struct smp *s, cJSON *const *a, size_t na, cJSON *const *b, size_t nb,
                        enum kind *out)
{
    cJSON *const *lists[2] = {a, b};
    size_t lens[2] = {na, nb};
    bool have = false, mixed = false;
    enum kind k = K_NULL;
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lens[l]; i++) {
            enum kind ek = kind_of(lists[l][i]);
            if (!have) {
                if (ek == K_ARRAY) {
                    smp_fail(s, SMP_INVALID, "lists of lists are not supported");
                    return -EINVAL;
                }
                k = ek;
                have = true;
            } else if (ek != k) {
                mixed = true;
            }
        }
    if (!have) {
        smp_fail(s, SMP_INTERNAL, "no elements in any of the given slices");
        return -EINVAL;
    }
    if (mixed || k == K_NULL) {
        struct ck_buf b2 = CK_BUF_INIT;
        ck_buf_putc(&b2, '[');
        for (int l = 0; l < 2; l++) {
            ck_buf_puts(&b2, l ? " [" : "[");
            for (size_t i = 0; i < lens[l]; i++) {
                if (i)
                    ck_buf_putc(&b2, ' ');
                patch_gofmt(&b2, lists[l][i]);
            }
            ck_buf_putc(&b2, ']');
        }
        ck_buf_putc(&b2, ']');
        smp_fail(s, SMP_INTERNAL, "list element types are not identical: %s", ck_buf_str(&b2));
        ck_buf_free(&b2);
        return -EINVAL;
    }
    *out = k;
    return 0;
}

/* validateMergeKeyInLists for one list. */
static int validate_merge_keys(struct smp *s, cJSON *const *items, size_t n, const char *merge_key)
{
    for (size_t i = 0; i < n; i++) {
        if (!cJSON_IsObject(items[i])) {
            smp_fail_arg_type(s, SMP_GO_MAP, items[i]);
            return -EINVAL;
        }
        if (!cJSON_GetObjectItemCaseSensitive(items[i], merge_key)) {
            smp_fail_no_merge_key(s, items[i], merge_key);
            return -EINVAL;
        }
    }
    return 0;
}

static bool is_delete_directive(const cJSON *item)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(item, SMP_DIRECTIVE);
    return cJSON_IsString(d) && !strcmp(d->valuestring, "delete");
}

/* ---- ordering ---- */

struct ranked {
    cJSON *item;
    size_t rank; /* position in the order list; SIZE_MAX when absent */
    size_t pos;  /* position before sorting, for stability */
};

static int ranked_cmp(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* normalizeSliceOrder: sorts a (stably) by each item's position in `order`; items carrying
 * "$patch: delete" go last. (Items absent from order sort last; upstream's comparator is not
 * a strict order for them, a case its own callers never produce.) */
static int sort_by_order(struct smp *s, struct vec *a, cJSON *const *order, size_t norder,
                         const char *merge_key)
{
    if (merge_key && (validate_merge_keys(s, a->v, a->n, merge_key) < 0 ||
                      validate_merge_keys(s, order, norder, merge_key) < 0))
        return -EINVAL;
    struct patch_keyidx idx;
    index_items(order, norder, merge_key, &idx);
    struct ranked *r = ck_xcalloc(a->n ? a->n : 1, sizeof(*r));
    struct vec deleted = {0};
    size_t nr = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (merge_key && is_delete_directive(a->v[i])) {
            vec_push(&deleted, a->v[i]);
            continue;
        }
        CK_AUTOFREE char *k = item_key(a->v[i], merge_key);
        size_t rank;
        if (!k || !patch_keyidx_get(&idx, k, &rank))
            rank = SIZE_MAX;
        r[nr] = (struct ranked){a->v[i], rank, nr};
        nr++;
    }
    qsort(r, nr, sizeof(*r), ranked_cmp);
    a->n = 0;
    for (size_t i = 0; i < nr; i++)
        a->v[a->n++] = r[i].item;
    for (size_t i = 0; i < deleted.n; i++)
        a->v[a->n++] = deleted.v[i];
    vec_release(&deleted);
    free(r);
    patch_keyidx_free(&idx);
    return 0;
}

/* normalizeElementOrder: the patch items in patch order, the server-only items in live order,
 * interleaved as mergeSortedSlice does: a server-only item goes first only when both it and
 * the next patch item are in the live list and it comes earlier there. Consumes patch_items
 * and server_only (also on failure); *out gets the merged items. */
static int normalize_order(struct smp *s, struct vec *patch_items, struct vec *server_only,
                           cJSON *const *patch_order, size_t npatch, cJSON *const *live,
                           size_t nlive, const char *merge_key, struct vec *out)
{
    memset(out, 0, sizeof(*out));
    if (sort_by_order(s, patch_items, patch_order, npatch, merge_key) < 0 ||
        sort_by_order(s, server_only, live, nlive, merge_key) < 0) {
        vec_free(patch_items);
        vec_free(server_only);
        return -EINVAL;
    }
    struct patch_keyidx lidx;
    index_items(live, nlive, merge_key, &lidx);
    size_t i = 0, j = 0;
    const struct vec *left = server_only, *right = patch_items;
    while (i < left->n || j < right->n) {
        if (i >= left->n) {
            vec_push(out, right->v[j++]);
        } else if (j >= right->n) {
            vec_push(out, left->v[i++]);
        } else {
            CK_AUTOFREE char *lk = item_key(left->v[i], merge_key);
            CK_AUTOFREE char *rk = item_key(right->v[j], merge_key);
            size_t li, ri;
            bool both =
                lk && rk && patch_keyidx_get(&lidx, lk, &li) && patch_keyidx_get(&lidx, rk, &ri);
            if (both && li < ri)
                vec_push(out, left->v[i++]);
            else
                vec_push(out, right->v[j++]);
        }
    }
    vec_release(patch_items);
    vec_release(server_only);
    patch_keyidx_free(&lidx);
    return 0;
}

/* partitionMapsByPresentInList / partitionPrimitivesByPresentInList: splits merged
 * (consumed) into the items present in `by` and the others. */
static int partition(struct smp *s, struct vec *merged, cJSON *const *by, size_t nby,
                     const char *merge_key, struct vec *present, struct vec *others)
{
    memset(present, 0, sizeof(*present));
    memset(others, 0, sizeof(*others));
    /* findMapInSliceBasedOnKeyValue fails at a non-map element before any match */
    size_t first_non_map = SIZE_MAX;
    struct patch_keyidx idx;
    patch_keyidx_init(&idx, nby);
    for (size_t i = 0; i < nby; i++) {
        if (merge_key && !cJSON_IsObject(by[i])) {
            first_non_map = i;
            break;
        }
        CK_AUTOFREE char *k = item_key(by[i], merge_key);
        if (k)
            patch_keyidx_put(&idx, k, i);
    }
    int rc = 0;
    for (size_t i = 0; i < merged->n; i++) {
        cJSON *item = merged->v[i];
        if (!rc && merge_key) {
            if (!cJSON_IsObject(item)) {
                smp_fail_arg_type(s, SMP_GO_MAP, item);
                rc = -EINVAL;
            } else if (!cJSON_GetObjectItemCaseSensitive(item, merge_key)) {
                smp_fail_no_merge_key(s, item, merge_key);
                rc = -EINVAL;
            }
        }
        if (rc) {
            cJSON_Delete(item);
            continue;
        }
        CK_AUTOFREE char *k = item_key(item, merge_key);
        size_t at;
        bool found = k && patch_keyidx_get(&idx, k, &at);
        if (merge_key && !found && first_non_map != SIZE_MAX) {
            smp_fail(s, SMP_INTERNAL, "value for key %zu is not a map.", first_non_map);
            rc = -EINVAL;
            cJSON_Delete(item);
            continue;
        }
        vec_push(found ? present : others, item);
    }
    vec_release(merged);
    patch_keyidx_free(&idx);
    if (rc) {
        vec_free(present);
        vec_free(others);
    }
    return rc;
}

/* ---- merging a list ---- */

/* Removes from the first n items of w every map whose merge key equals `key`, one at a time as
 * deleteMatchingEntries does: each removal shifts the rest left and leaves the slot past the
 * new end as it was. */
static void view_delete(cJSON **w, size_t *n, const char *merge_key, const char *key)
{
    for (;;) {
        size_t k;
        for (k = 0; k < *n; k++) {
            CK_AUTOFREE char *ik = item_key(w[k], merge_key);
            if (ik && !strcmp(ik, key))
                break;
        }
        if (k == *n)
            return;
        memmove(w + k, w + k + 1, (*n - 1 - k) * sizeof(*w));
        (*n)--;
    }
}

/* deleteMatchingEntries on the live items. */
static int delete_matching(struct smp *s, struct vec *a, const char *merge_key, const char *key)
{
    size_t w = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (!cJSON_IsObject(a->v[i])) {
            smp_fail(s, SMP_INTERNAL, "value for key %zu is not a map.", i);
            return -EINVAL;
        }
        CK_AUTOFREE char *k = item_key(a->v[i], merge_key);
        if (k && !strcmp(k, key)) {
            cJSON_Delete(a->v[i]);
            continue;
        }
        a->v[w++] = a->v[i];
    }
    a->n = w;
    return 0;
}

/* mergeSliceWithSpecialElements: applies the "$patch" elements of a merging list of maps to
 * orig (and the simulated view), leaving the other patch elements in pat. */
static int merge_special(struct smp *s, struct vec *orig, struct vec *pat, const char *merge_key,
                         struct live_view *view, size_t *view_n, bool *replaced)
{
    struct vec plain = {0};
    *replaced = false;
    int rc = 0;
    for (size_t i = 0; i < pat->n; i++) {
        cJSON *v = pat->v[i];
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, SMP_DIRECTIVE);
        if (!d) {
            vec_push(&plain, v);
            continue;
        }
        if (!rc) {
            const char *dv = cJSON_IsString(d) ? d->valuestring : NULL;
            if (dv && !strcmp(dv, "delete")) {
                const cJSON *mv = cJSON_GetObjectItemCaseSensitive(v, merge_key);
                if (mv) {
                    CK_AUTOFREE char *key = patch_value_key(mv);
                    rc = delete_matching(s, orig, merge_key, key);
                    if (!rc)
                        view_delete(view->v, view_n, merge_key, key);
                } else {
                    smp_fail_no_merge_key(s, v, merge_key);
                    rc = -EINVAL;
                }
            } else if (dv && !strcmp(dv, "replace")) {
                *replaced = true;
            } else if (dv && !strcmp(dv, "merge")) {
                smp_fail(s, SMP_INTERNAL, "merging lists cannot yet be specified in the patch");
                rc = -EINVAL;
            } else {
                struct ck_buf t = CK_BUF_INIT, m = CK_BUF_INIT;
                patch_gofmt_s(&t, d);
                patch_gofmt(&m, v);
                smp_fail(s, SMP_INTERNAL, "unknown patch type: %s in map: %s", ck_buf_str(&t),
                         ck_buf_str(&m));
                ck_buf_free(&t);
                ck_buf_free(&m);
                rc = -EINVAL;
            }
        }
        cJSON_Delete(v);
    }
    vec_release(pat);
    if (rc) {
        vec_free(&plain);
        return rc;
    }
    if (*replaced) {
        vec_free(orig);
        *orig = plain;
        return 0;
    }
    *pat = plain;
    return 0;
}

/* mergeSliceWithoutSpecialElements: merges each patch map into the live map with the same
 * merge key (the first one), or appends it; consumes pat's items. *appended lists (borrowed)
 * the items appended, in order. */
static int merge_plain(struct smp *s, struct vec *orig, struct vec *pat, const char *merge_key,
                       const cJSON *elem, int depth, struct vec *appended)
{
    struct patch_keyidx idx;
    index_items(orig->v, orig->n, merge_key, &idx);
    int rc = 0;
    for (size_t i = 0; i < pat->n; i++) {
        cJSON *v = pat->v[i];
        if (rc) {
            cJSON_Delete(v);
            continue;
        }
        const cJSON *mv = cJSON_GetObjectItemCaseSensitive(v, merge_key);
        if (!mv) {
            smp_fail_no_merge_key(s, v, merge_key);
            cJSON_Delete(v);
            rc = -EINVAL;
            continue;
        }
        CK_AUTOFREE char *k = patch_value_key(mv);
        size_t at;
        if (patch_keyidx_get(&idx, k, &at)) {
            cJSON *merged = smp_merge_map(s, orig->v[at], v, elem, depth + 1);
            orig->v[at] = merged ? merged : cJSON_CreateObject();
            if (!merged)
                rc = -EINVAL;
        } else {
            patch_keyidx_put(&idx, k, orig->n);
            vec_push(orig, v);
            vec_push(appended, v);
        }
    }
    vec_release(pat);
    patch_keyidx_free(&idx);
    return rc;
}

/* mergeSlice over lists of maps. Consumes orig and pat; *out gets the merged items; `view`
 * (prepared by the caller over copies of the live items) is updated as upstream's slice. */
static int merge_maps(struct smp *s, struct vec *orig, struct vec *pat, const char *merge_key,
                      const cJSON *elem, int depth, struct live_view *view, struct vec *out)
{
    size_t live_len = view->n, view_n = view->n;
    bool replaced;
    struct vec order = {0}, appended = {0}, present, others;
    int rc = merge_special(s, orig, pat, merge_key, view, &view_n, &replaced);
    if (rc)
        goto fail;
    /* the live order the merge sees: after deletions (or the replacement list) */
    struct vec inner_live = replaced ? dup_items(orig->v, orig->n) : dup_items(view->v, view_n);
    order = dup_items(pat->v, pat->n);
    rc = merge_plain(s, orig, pat, merge_key, elem, depth, &appended);
    if (!rc && !replaced) {
        /* appended items land in the slots the deletions freed */
        for (size_t i = 0; i < appended.n && view_n < live_len; i++) {
            cJSON *copy = ck_json_dup(appended.v[i]);
            vec_push(&view->pool, copy);
            view->v[view_n++] = copy;
        }
    }
    vec_release(&appended);
    if (!rc)
        rc = partition(s, orig, order.v, order.n, merge_key, &present, &others);
    else
        vec_free(orig);
    if (!rc)
        rc = normalize_order(s, &present, &others, order.v, order.n, inner_live.v, inner_live.n,
                             merge_key, out);
    vec_free(&inner_live);
    vec_free(&order);
    return rc;
fail:
    vec_free(orig);
    vec_free(pat);
    return rc;
}

/* mergeSlice over lists of scalars (not a deletion list). */
static int merge_scalars(struct smp *s, struct vec *orig, struct vec *pat, struct vec *out)
{
    struct vec live = dup_items(orig->v, orig->n), order = dup_items(pat->v, pat->n);
    /* the union without duplicates; the order is settled below, so which copy survives a
     * duplicate does not matter */
    struct vec merged = {0}, present, others;
    struct patch_keyidx seen;
    patch_keyidx_init(&seen, orig->n + pat->n);
    struct vec *lists[2] = {orig, pat};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < lists[l]->n; i++) {
            CK_AUTOFREE char *k = item_key(lists[l]->v[i], NULL);
            if (patch_keyidx_put(&seen, k, 0))
                vec_push(&merged, lists[l]->v[i]);
            else
                cJSON_Delete(lists[l]->v[i]);
        }
        vec_release(lists[l]);
    }
    patch_keyidx_free(&seen);
    int rc = partition(s, &merged, order.v, order.n, NULL, &present, &others);
    if (!rc)
        rc = normalize_order(s, &present, &others, order.v, order.n, live.v, live.n, NULL, out);
    vec_free(&live);
    vec_free(&order);
    return rc;
}

/* mergeSlice. Consumes original and patch (arrays); `view` (optional) gets what the caller's
 * slice of the live list holds afterwards. */
static cJSON *merge_slice(struct smp *s, cJSON *original, cJSON *patch, const cJSON *elem,
                          const char *merge_key, bool delete_list, int depth,
                          struct live_view *view)
{
    struct vec orig = vec_from_array(original), pat = vec_from_array(patch), out = {0};
    struct live_view local = {0};
    if (!view)
        view = &local;
    live_view_of(view, orig.v, orig.n);
    int rc = 0;
    if (depth > PATCH_MAX_DEPTH) {
        smp_fail(s, SMP_INTERNAL, "patch nesting too deep");
        rc = -EINVAL;
        goto done;
    }
    if (!orig.n && !pat.n) {
        vec_free(&pat);
        live_view_free(&local);
        return vec_to_array(&orig);
    }
    enum kind kind;
    rc = element_kind(s, orig.v, orig.n, pat.v, pat.n, &kind);
    if (rc)
        goto done;
    if (kind != K_OBJECT) {
        if (delete_list) {
            /* deleteFromSlice: drop every live value the patch lists */
            struct patch_keyidx del;
            index_items(pat.v, pat.n, NULL, &del);
            for (size_t i = 0; i < orig.n; i++) {
                CK_AUTOFREE char *k = item_key(orig.v[i], NULL);
                if (patch_keyidx_get(&del, k, NULL))
                    cJSON_Delete(orig.v[i]);
                else
                    vec_push(&out, orig.v[i]);
            }
            patch_keyidx_free(&del);
            vec_release(&orig);
            vec_free(&pat);
        } else {
            rc = merge_scalars(s, &orig, &pat, &out);
        }
    } else if (!merge_key) {
        smp_fail(s, SMP_INTERNAL, "cannot merge lists without merge key for struct");
        rc = -EINVAL;
    } else {
        rc = merge_maps(s, &orig, &pat, merge_key, elem, depth, view, &out);
    }
done:
    vec_free(&orig);
    vec_free(&pat);
    live_view_free(&local);
    if (rc) {
        vec_free(&out);
        if (view != &local)
            live_view_free(view);
        return NULL;
    }
    return vec_to_array(&out);
}

/* mergeSliceHandler: lists whose field says "merge" (and deletion lists) merge, any other is
 * replaced by the patch's. */
static cJSON *merge_list(struct smp *s, cJSON *original, cJSON *patch, const cJSON *elem,
                         const struct smp_meta *m, bool delete_list, int depth,
                         struct live_view *view)
{
    if ((m->strategy && !strcmp(m->strategy, "merge")) || delete_list)
        return merge_slice(s, original, patch, elem, m->merge_key, delete_list, depth, view);
    if (view) {
        struct vec items = borrow_items(original);
        live_view_of(view, items.v, items.n);
        vec_release(&items);
    }
    cJSON_Delete(original);
    return patch;
}

cJSON *smp_merge_list(struct smp *s, cJSON *original, cJSON *patch, const cJSON *elem,
                      const struct smp_meta *m, bool delete_list, int depth)
{
    return merge_list(s, original, patch, elem, m, delete_list, depth, NULL);
}

/* ---- $setElementOrder ---- */

static bool merge_key_equal(struct smp *s, const cJSON *a, const cJSON *b, const char *merge_key,
                            int *rc)
{
    if (merge_key) {
        const cJSON *pair[2] = {a, b};
        for (int i = 0; i < 2; i++) {
            if (!cJSON_IsObject(pair[i])) {
                smp_fail_arg_type(s, SMP_GO_MAP, pair[i]);
                *rc = -EINVAL;
                return false;
            }
            if (!cJSON_GetObjectItemCaseSensitive(pair[i], merge_key)) {
                smp_fail_no_merge_key(s, pair[i], merge_key);
                *rc = -EINVAL;
                return false;
            }
        }
    }
    CK_AUTOFREE char *ka = item_key(a, merge_key);
    CK_AUTOFREE char *kb = item_key(b, merge_key);
    return ka && kb && !strcmp(ka, kb);
}

/* validatePatchWithSetOrderList: the patch list's items appear in the $setElementOrder list in
 * the same relative order. */
static int validate_set_order(struct smp *s, const cJSON *patch_list, const cJSON *order,
                              const char *merge_key)
{
    if (!patch_list || !cJSON_GetArraySize(order) || !cJSON_GetArraySize(patch_list))
        return 0;
    struct vec nondelete = {0};
    const cJSON *e;
    cJSON_ArrayForEach(e, patch_list)
    {
        if (merge_key) {
            if (!cJSON_IsObject(e)) {
                vec_release(&nondelete);
                smp_fail_arg_type(s, SMP_GO_MAP, e);
                return -EINVAL;
            }
            if (is_delete_directive(e))
                continue;
        }
        vec_push(&nondelete, (cJSON *)e);
    }
    size_t pi = 0;
    const cJSON *o = order->child;
    int rc = 0;
    while (pi < nondelete.n && o) {
        if (cJSON_IsObject(nondelete.v[pi]) &&
            cJSON_GetObjectItemCaseSensitive(nondelete.v[pi], SMP_DIRECTIVE)) {
            pi++;
            continue;
        }
        if (merge_key_equal(s, nondelete.v[pi], o, merge_key, &rc))
            pi++;
        if (rc)
            break;
        o = o->next;
    }
    if (!rc && pi < nondelete.n && !o) {
        struct ck_buf pl = CK_BUF_INIT, ol = CK_BUF_INIT;
        patch_gofmt(&pl, patch_list);
        patch_gofmt(&ol, order);
        smp_fail(s, SMP_INTERNAL, "The order in patch list:\n%s\n doesn't match %s list:\n%s\n",
                 ck_buf_str(&pl), SMP_ORDER_PREFIX, ck_buf_str(&ol));
        ck_buf_free(&pl);
        ck_buf_free(&ol);
        rc = -EINVAL;
    }
    vec_release(&nondelete);
    return rc;
}

/* apimachinery's extractKey: "<prefix>/<key>" -> key; NULL when s is not of that form. */
static const char *extract_key(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) || s[n] != '/')
        return NULL;
    return s + n + 1;
}

static void obj_put(cJSON *obj, const char *key, cJSON *val)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
    else
        cJSON_AddItemToObject(obj, key, val);
}

/* mergePatchIntoOriginal for one "$setElementOrder/<key>" (detached from patch, consumed):
 * merges the patch's list `key` into the live one and orders the result. */
static int merge_ordered_list(struct smp *s, cJSON *original, cJSON *patch, cJSON *order,
                              const cJSON *schema, int depth)
{
    if (!cJSON_IsArray(order)) {
        smp_fail_arg_type(s, SMP_GO_SLICE, order);
        cJSON_Delete(order);
        return -EINVAL;
    }
    const char *key = extract_key(order->string, SMP_ORDER_PREFIX);
    if (!key) {
        cJSON_Delete(order);
        smp_fail(s, SMP_BAD_REQUEST, "invalid patch format of setElementOrder list");
        return -EINVAL;
    }
    CK_AUTOFREE char *k = ck_xstrdup(key);
    cJSON *ol = cJSON_GetObjectItemCaseSensitive(original, k);
    cJSON *pl = cJSON_GetObjectItemCaseSensitive(patch, k);
    const cJSON *elem = NULL;
    struct smp_meta meta = {0};
    int rc = 0;
    if (ol && !cJSON_IsArray(ol)) {
        smp_fail_arg_type(s, SMP_GO_SLICE, ol);
        rc = -EINVAL;
    } else if (pl && !cJSON_IsArray(pl)) {
        smp_fail_arg_type(s, SMP_GO_SLICE, pl);
        rc = -EINVAL;
    }
    if (!rc)
        rc = smp_lookup_field(s, schema, k, true, &elem, &meta);
    if (!rc)
        rc = validate_set_order(s, pl, order, meta.merge_key);
    enum kind kind = K_NULL;
    if (!rc && (ol || pl)) {
        struct vec ko = borrow_items(ol), kp = borrow_items(pl);
        rc = element_kind(s, ko.v, ko.n, kp.v, kp.n, &kind);
        vec_release(&ko);
        vec_release(&kp);
    }
    if (rc || (!ol && !pl)) {
        cJSON_Delete(order);
        return rc;
    }
    const char *mk = meta.merge_key;
    struct live_view live = {0};
    cJSON *merged_arr;
    if (ol && !pl) {
        struct vec items = borrow_items(ol);
        live_view_of(&live, items.v, items.n);
        vec_release(&items);
        merged_arr = cJSON_DetachItemViaPointer(original, ol);
    } else if (!ol) {
        bool keep;
        merged_arr = smp_remove_directives(cJSON_DetachItemViaPointer(patch, pl), &keep, depth);
        if (!keep)
            merged_arr = cJSON_CreateArray();
    } else {
        cJSON *o2 = cJSON_DetachItemViaPointer(original, ol);
        cJSON *p2 = cJSON_DetachItemViaPointer(patch, pl);
        merged_arr = merge_list(s, o2, p2, elem, &meta, false, depth + 1, &live);
        if (!merged_arr) {
            cJSON_Delete(order);
            return -EINVAL;
        }
    }
    const char *nkey = kind == K_OBJECT ? mk : NULL;
    struct vec merged = vec_from_array(merged_arr), ord = vec_from_array(order);
    struct vec present, others, out;
    rc = partition(s, &merged, ord.v, ord.n, mk, &present, &others);
    if (!rc)
        rc = normalize_order(s, &present, &others, ord.v, ord.n, live.v, live.n, nkey, &out);
    vec_free(&ord);
    live_view_free(&live);
    if (rc)
        return rc;
    obj_put(original, k, vec_to_array(&out));
    return 0;
}

int smp_merge_ordered_lists(struct smp *s, cJSON *original, cJSON *patch, const cJSON *schema,
                            int depth)
{
    struct vec orders = {0};
    cJSON *m = patch->child;
    while (m) {
        cJSON *next = m->next;
        if (!strncmp(m->string, SMP_ORDER_PREFIX, strlen(SMP_ORDER_PREFIX)))
            vec_push(&orders, cJSON_DetachItemViaPointer(patch, m));
        m = next;
    }
    int rc = 0;
    for (size_t i = 0; i < orders.n; i++) {
        if (!rc)
            rc = merge_ordered_list(s, original, patch, orders.v[i], schema, depth);
        else
            cJSON_Delete(orders.v[i]);
    }
    vec_release(&orders);
    return rc;
}
