/* apply.c - server-side apply (application/apply-patch+yaml), as structured-merge-diff's
 * Updater.Apply: merge the applied configuration into the live object by the schema, detect
 * conflicts with other managers, take ownership of the applied fields, and prune what this
 * manager applied before and no one owns any more. See managedfields.h (mf_apply). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/managedfields.h"
#include "apiserver/managedfields_internal.h"
#include "buf.h"
#include "json.h"
#include "mem.h"

/* ---- merge ---- */

static cJSON *merge_rec(const struct mf_type *t, const cJSON *schema, const cJSON *l,
                        const cJSON *r, int depth);

static cJSON *merge_lists(const struct mf_type *t, const struct mf_tinfo *ti, const cJSON *l,
                          const cJSON *r, int depth)
{
    int nr = cJSON_GetArraySize(r);
    const cJSON **ri = ck_xmalloc(sizeof(cJSON *) * (size_t)(nr + 1));
    bool *used = ck_xcalloc((size_t)nr + 1, sizeof(bool));
    struct patch_keyidx idx;
    patch_keyidx_init(&idx, (size_t)nr);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, r)
    {
        CK_AUTOFREE char *e = mf_item_elem(ti, it, i);
        ri[i] = it;
        if (!patch_keyidx_put(&idx, e, (size_t)i))
            used[i] = true; /* a duplicate key: the first item wins */
        i++;
    }
    cJSON *out = cJSON_CreateArray();
    i = 0;
    cJSON_ArrayForEach(it, l)
    {
        CK_AUTOFREE char *e = mf_item_elem(ti, it, i++);
        size_t at;
        if (patch_keyidx_get(&idx, e, &at) && !used[at]) {
            used[at] = true;
            cJSON_AddItemToArray(out, merge_rec(t, ti->elem, it, ri[at], depth + 1));
        } else if (!patch_keyidx_get(&idx, e, &at)) {
            cJSON_AddItemToArray(out, ck_json_dup(it));
        }
    }
    for (i = 0; i < nr; i++)
        if (!used[i])
            cJSON_AddItemToArray(out, ck_json_dup(ri[i]));
    patch_keyidx_free(&idx);
    free(ri);
    free(used);
    return out;
}

static cJSON *merge_rec(const struct mf_type *t, const cJSON *schema, const cJSON *l,
                        const cJSON *r, int depth)
{
    if (!l)
        return ck_json_dup(r);
    if (!r)
        return ck_json_dup(l);
    struct mf_tinfo ti;
    mf_type_of(t, schema, r, &ti);
    if (depth > MF_MAX_DEPTH || !mf_is_container(&ti) || !mf_value_fits(&ti, l) ||
        !mf_value_fits(&ti, r))
        return ck_json_dup(r);
    if (ti.kind == MF_LIST_MAP || ti.kind == MF_LIST_SET)
        return merge_lists(t, &ti, l, r, depth);
    cJSON *out = ck_json_dup(l);
    const cJSON *c;
    cJSON_ArrayForEach(c, r)
    {
        cJSON *lc = cJSON_GetObjectItemCaseSensitive(out, c->string);
        cJSON *m = merge_rec(t, mf_member_schema(&ti, c->string), lc, c, depth + 1);
        if (lc)
            cJSON_ReplaceItemInObjectCaseSensitive(out, c->string, m);
        else
            cJSON_AddItemToObject(out, c->string, m);
    }
    return out;
}

cJSON *mf_merge(const struct mf_type *t, const cJSON *lhs, const cJSON *rhs)
{
    return merge_rec(t, t ? t->root : NULL, lhs, rhs, 0);
}

/* ---- pruning ---- */

/* The child of container v named by path element e (borrowed), or NULL. */
static cJSON *locate(const struct mf_tinfo *ti, cJSON *v, const char *e)
{
    if (e[0] == 'f')
        return cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, e + 2) : NULL;
    if (!cJSON_IsArray(v))
        return NULL;
    int i = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        CK_AUTOFREE char *x = mf_item_elem(ti, it, i++);
        if (!strcmp(x, e))
            return it;
    }
    return NULL;
}

/* Removes from v the members of `last` that `owned` does not hold (subtrees with an owned part
 * stay and are pruned inside). */
static void prune_rec(const struct mf_type *t, const cJSON *schema, cJSON *v, const cJSON *last,
                      const cJSON *owned, int depth)
{
    if (depth > MF_MAX_DEPTH)
        return;
    struct mf_tinfo ti;
    mf_type_of(t, schema, v, &ti);
    if (!mf_is_container(&ti) || !mf_value_fits(&ti, v))
        return;
    const cJSON *c;
    cJSON_ArrayForEach(c, last)
    {
        if (!strcmp(c->string, "."))
            continue;
        cJSON *child = locate(&ti, v, c->string);
        if (!child)
            continue;
        const cJSON *oc = owned ? cJSON_GetObjectItemCaseSensitive(owned, c->string) : NULL;
        if (cJSON_GetObjectItemCaseSensitive(c, ".") && !oc) {
            cJSON_Delete(cJSON_DetachItemViaPointer(v, child));
            continue;
        }
        const cJSON *cs = (ti.kind == MF_LIST_MAP || ti.kind == MF_LIST_SET)
                              ? ti.elem
                              : mf_member_schema(&ti, c->string + 2);
        prune_rec(t, cs, child, c, oc, depth + 1);
    }
}

void mf_remove_paths(const struct mf_type *t, cJSON *obj, const cJSON *remove)
{
    prune_rec(t, t ? t->root : NULL, obj, remove, NULL, 0);
}

/* ---- conflicts ---- */

struct conflict_list {
    struct ck_buf msg;
    cJSON *causes;
    int n;
    const char *who; /* the manager as upstream prints it, for the current entry */
};

static void add_conflict(const char *path, void *vctx)
{
    struct conflict_list *c = vctx;
    cJSON *cause = cJSON_CreateObject();
    cJSON_AddStringToObject(cause, "reason", "FieldManagerConflict");
    CK_AUTOFREE char *m = ck_xasprintf("conflict with %s", c->who);
    cJSON_AddStringToObject(cause, "message", m);
    cJSON_AddStringToObject(cause, "field", path);
    cJSON_AddItemToArray(c->causes, cause);
    ck_buf_printf(&c->msg, "\n- %s", path);
    c->n++;
}

static void count_one(const char *path, void *vctx)
{
    (void)path;
    ++*(int *)vctx;
}

static void first_path(const char *path, void *vctx)
{
    char **p = vctx;
    if (!*p)
        *p = ck_xstrdup(path);
}

/* upstream's printManager of a manager identifier. */
static char *print_manager(const struct mf_entry *e)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_printf(&b, "\"%s\"", e->manager);
    if (e->subresource[0])
        ck_buf_printf(&b, " with subresource \"%s\"", e->subresource);
    if (!strcmp(e->operation, "Update"))
        ck_buf_printf(&b, " using %s", e->api_version);
    return ck_buf_detach(&b);
}

/* The manager identifier upstream sorts conflicting managers by (its JSON form). */
static char *identifier(const struct mf_entry *e)
{
    if (!strcmp(e->operation, "Apply"))
        return ck_xasprintf("{\"manager\":\"%s\",\"operation\":\"Apply\"%s%s%s}", e->manager,
                            e->subresource[0] ? ",\"subresource\":\"" : "", e->subresource,
                            e->subresource[0] ? "\"" : "");
    return ck_xasprintf("{\"manager\":\"%s\",\"operation\":\"%s\",\"apiVersion\":\"%s\"%s%s%s}",
                        e->manager, e->operation, e->api_version,
                        e->subresource[0] ? ",\"subresource\":\"" : "", e->subresource,
                        e->subresource[0] ? "\"" : "");
}

struct conflicting {
    const struct mf_entry *e;
    cJSON *set;
    char *id;
};

static int conflicting_cmp(const void *a, const void *b)
{
    return strcmp(((const struct conflicting *)a)->id, ((const struct conflicting *)b)->id);
}

/* upstream's 409 for conflicts (fieldmanager's NewConflictError). */
static int conflict_error(struct conflicting *v, int nv, struct ck_error *err)
{
    qsort(v, (size_t)nv, sizeof(*v), conflicting_cmp);
    int total = 0;
    for (int i = 0; i < nv; i++)
        mf_set_foreach(v[i].set, count_one, &total);
    struct conflict_list c = {.msg = CK_BUF_INIT, .causes = cJSON_CreateArray()};
    if (total == 1) {
        CK_AUTOFREE char *who = print_manager(v[0].e);
        char *path = NULL;
        mf_set_foreach(v[0].set, first_path, &path);
        c.who = who;
        add_conflict(path, &c);
        ck_error_set(err, 409, CK_REASON_CONFLICT,
                     "Apply failed with 1 conflict: conflict with %s: %s", who, path);
        free(path);
    } else {
        for (int i = 0; i < nv; i++) {
            CK_AUTOFREE char *who = print_manager(v[i].e);
            c.who = who;
            ck_buf_printf(&c.msg, "%sconflicts with %s:", i ? "\n" : "", who);
            mf_set_foreach(v[i].set, add_conflict, &c);
        }
        ck_error_set(err, 409, CK_REASON_CONFLICT, "Apply failed with %d conflicts: %s", total,
                     c.msg.data ? c.msg.data : "");
    }
    ck_buf_free(&c.msg);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddItemToObject(d, "causes", c.causes);
    ck_error_set_details(err, d);
    return -EBUSY;
}

/* ---- apply ---- */

/* The applied configuration without what apply never takes from it. */
static cJSON *clean_applied(const cJSON *applied)
{
    cJSON *a = ck_json_dup(applied);
    cJSON *m = cJSON_GetObjectItemCaseSensitive(a, "metadata");
    static const char *const DROP[] = {"managedFields",     "resourceVersion", "uid",
                                       "creationTimestamp", "generation",      "selfLink"};
    for (size_t i = 0; i < CK_ARRAY_SIZE(DROP); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(m, DROP[i]);
    return a;
}

int mf_apply(const struct mf_type *t, const cJSON *live, const cJSON *applied,
             const struct mf_apply_opts *opts, cJSON **out, struct ck_error *err)
{
    *out = NULL;
    if (!cJSON_IsObject(applied))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "error decoding YAML: the applied configuration is not an object");
    const char *av = ck_json_get_string(applied, "apiVersion", "");
    if (opts->api_version && strcmp(av, opts->api_version))
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "Incorrect version specified in apply patch. Specified patch version: "
                            "%s, expected: %s",
                            av, opts->api_version);
    const char *sub = opts->subresource ? opts->subresource : "";
    cJSON *zero = live ? NULL : mf_zero_object(t);
    const cJSON *base = live ? live : zero;
    cJSON *cfg = clean_applied(applied);
    cJSON *applied_set = mf_fieldset_of(t, cfg);
    mf_scope_sets(applied_set, sub, opts->has_status);
    cJSON *merged = mf_merge(t, base, cfg);
    cJSON *added, *modified, *removed;
    mf_compare(t, base, merged, &added, &modified, &removed);
    mf_scope_sets(added, sub, opts->has_status);
    mf_scope_sets(modified, sub, opts->has_status);
    mf_scope_sets(removed, sub, opts->has_status);
    mf_set_union(added, modified);
    struct mf_entries e;
    mf_entries_read(live, &e);
    struct mf_entry *self = mf_entries_find(&e, opts->manager, "Apply", NULL, sub);
    int rc = 0;
    struct conflicting *cv = ck_xcalloc((size_t)e.n + 1, sizeof(*cv));
    int nc = 0;
    for (int i = 0; i < e.n; i++) {
        if (&e.v[i] == self)
            continue;
        cJSON *x = mf_set_intersect(e.v[i].set, added);
        if (mf_set_empty(x)) {
            cJSON_Delete(x);
            continue;
        }
        cv[nc].e = &e.v[i];
        cv[nc].set = x;
        cv[nc].id = identifier(&e.v[i]);
        nc++;
    }
    if (nc && !opts->force) {
        rc = conflict_error(cv, nc, err);
        goto out;
    }
    for (int i = 0; i < nc; i++)
        mf_set_subtract(((struct mf_entry *)cv[i].e)->set, cv[i].set);
    for (int i = 0; i < e.n; i++)
        mf_set_subtract(e.v[i].set, removed);
    cJSON *last = NULL;
    if (self) {
        last = self->set;
        self->set = ck_json_dup(applied_set);
        free(self->api_version);
        self->api_version = ck_xstrdup(opts->api_version);
    } else {
        self = mf_entries_add(&e, opts->manager, "Apply", opts->api_version, sub);
        cJSON_Delete(self->set);
        self->set = ck_json_dup(applied_set);
    }
    if (last) {
        cJSON *owned = mf_set_new();
        for (int i = 0; i < e.n; i++)
            mf_set_union(owned, e.v[i].set);
        prune_rec(t, t ? t->root : NULL, merged, last, owned, 0);
        cJSON_Delete(owned);
    }
    bool set_changed = !last || !mf_set_equal(last, applied_set);
    cJSON_Delete(last);
    /* a no-op apply keeps the entry's time, so the stored object stays as it is */
    bool changed = !live || set_changed || !mf_set_empty(added) || !mf_set_empty(removed);
    if (changed || !self->time) {
        free(self->time);
        self->time = ck_xstrdup(opts->now);
    }
    mf_entries_drop_empty(&e);
    if (live && !changed) {
        cJSON_Delete(merged);
        merged = ck_json_dup(live);
    } else {
        mf_entries_write(&e, merged);
    }
    *out = merged;
    merged = NULL;
out:
    for (int i = 0; i < nc; i++) {
        cJSON_Delete(cv[i].set);
        free(cv[i].id);
    }
    free(cv);
    mf_entries_free(&e);
    cJSON_Delete(merged);
    cJSON_Delete(added);
    cJSON_Delete(modified);
    cJSON_Delete(removed);
    cJSON_Delete(applied_set);
    cJSON_Delete(cfg);
    cJSON_Delete(zero);
    return rc;
}
