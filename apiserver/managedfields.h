/* managedfields.h - metadata.managedFields as upstream's fieldmanager keeps it
 * (k8s.io/apiserver fieldmanager over sigs.k8s.io/structured-merge-diff v4):
 *
 *   field sets   a set of paths into an object, kept as a cJSON tree in the FieldsV1 shape
 *                ("f:name" struct/map members, "k:{...}" list items by their map keys, "v:..."
 *                set items, "i:N" items of lists without keys); a node is itself in the set
 *                when it has a "." child (mf_set_* below). mf_set_to_fieldsv1 prints the
 *                serialized form upstream stores (leaves as {}, "." only next to children,
 *                members in upstream's path order).
 *   types        how a path walks an object comes from the OpenAPI schema: structs, maps
 *                (x-kubernetes-map-type atomic = one leaf), lists by x-kubernetes-list-type /
 *                list-map-keys or the patch strategy and merge key, else atomic.
 *   entries      one ManagedFieldsEntry per (manager, operation, apiVersion for Update,
 *                subresource), as upstream's manager identifier; mf_record_update is the
 *                Update operation (create/update/patch), patch/apply.c the Apply operation.
 *
 * Ownership: every cJSON * returned is new and owned by the caller (cJSON_Delete) unless said
 * otherwise; inputs are never modified unless the parameter is named as output.
 */
#ifndef APISERVER_MANAGEDFIELDS_H
#define APISERVER_MANAGEDFIELDS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"

struct schema_doc;

/* Deepest object nesting walked (deeper parts are treated as one leaf). */
#define MF_MAX_DEPTH 100
/* Longest manager name kept (upstream truncates the User-Agent prefix at 128 bytes). */
#define MF_MAX_MANAGER 128

/* ---- field sets ---- */

/* A new empty set. */
cJSON *mf_set_new(void);
/* Parses a stored fieldsV1 value into a set; -EINVAL for anything not an object tree. */
int mf_set_from_fieldsv1(const cJSON *fv1, cJSON **out);
/* The FieldsV1 form of a set (sorted as upstream serializes it). */
cJSON *mf_set_to_fieldsv1(const cJSON *set);
bool mf_set_empty(const cJSON *set);
bool mf_set_equal(const cJSON *a, const cJSON *b);
/* dst |= src. */
void mf_set_union(cJSON *dst, const cJSON *src);
/* dst -= src (members of src leave dst; children stay unless they are in src too). */
void mf_set_subtract(cJSON *dst, const cJSON *src);
/* a & b, new. */
cJSON *mf_set_intersect(const cJSON *a, const cJSON *b);
/* Inserts the path given as n element strings ("f:spec", "k:{\"name\":\"c\"}", ...). */
void mf_set_insert(cJSON *set, const char *const *elems, int n);
/* Calls fn for every member path, in upstream's order, with the path printed as upstream's
 * fieldpath.Path.String(): ".spec.replicas", ".spec.containers[name=\"c\"].image",
 * ".spec.finalizers[=\"x\"]", ".spec.args[0]". */
void mf_set_foreach(const cJSON *set, void (*fn)(const char *path, void *ctx), void *ctx);

/* ---- typed walks ---- */

/* The walk's type context: a schema document and the root definition of the kind (NULL root:
 * every field is "deduced": objects are maps, lists are atomic). Borrowed. */
struct mf_type {
    const struct schema_doc *doc;
    const cJSON *root;
};

/* Every path of obj as upstream's ToFieldSet (leaves, list items, empty maps, atomic
 * values), with the fields upstream never tracks removed (apiVersion, kind and metadata's
 * name, namespace, uid, resourceVersion, generation, creationTimestamp, selfLink,
 * managedFields). */
cJSON *mf_fieldset_of(const struct mf_type *t, const cJSON *obj);

/* upstream's typed Compare(lhs, rhs): *added = paths only in rhs (containers included),
 * *modified = leaves in both whose values differ, *removed = paths only in lhs. A container
 * that is null on one side counts as empty. Outputs are new sets (untracked fields removed). */
void mf_compare(const struct mf_type *t, const cJSON *lhs, const cJSON *rhs, cJSON **added,
                cJSON **modified, cJSON **removed);

/* What upstream's decoder makes of an empty Go struct of the kind (metadata with a null
 * creationTimestamp, spec/template/strategy structs, null containers): the "old object" a
 * create compares against. */
cJSON *mf_zero_object(const struct mf_type *t);

/* The path elements of a child: for an object member "f:<key>"; for a list item by its map
 * keys "k:{...}", by value "v:<json>" or by index "i:<n>". Returns a new string. */
char *mf_list_item_elem(const struct mf_type *t, const cJSON *list_schema, const cJSON *item,
                        int index);

/* ---- entries ---- */

struct mf_entry {
    char *manager, *operation, *api_version, *time, *subresource; /* owned; subresource "" */
    cJSON *set;                                                   /* owned */
};

struct mf_entries {
    struct mf_entry *v;
    int n, cap;
};

/* Reads metadata.managedFields of obj (entries that do not parse are dropped, as upstream
 * resets managed fields it cannot decode). */
void mf_entries_read(const cJSON *obj, struct mf_entries *out);
/* Writes the entries, sorted as upstream (operation, time, manager, apiVersion, subresource),
 * into obj's metadata.managedFields (removed when there are none). */
void mf_entries_write(const struct mf_entries *e, cJSON *obj);
void mf_entries_free(struct mf_entries *e);
/* The entry with this identity, or NULL (api_version is ignored for Apply). Borrowed. */
struct mf_entry *mf_entries_find(struct mf_entries *e, const char *manager, const char *operation,
                                 const char *api_version, const char *subresource);
/* Adds an empty entry and returns it (borrowed). */
struct mf_entry *mf_entries_add(struct mf_entries *e, const char *manager, const char *operation,
                                const char *api_version, const char *subresource);

/* The manager of a request: ?fieldManager= when set, else the User-Agent up to its first '/'
 * (upstream's prefixFromUserAgent), truncated to 128 bytes. Returns a new string. */
char *mf_manager_name(const char *field_manager, const char *user_agent);

/* Upstream's Update operation: records in new_obj's metadata.managedFields what `manager`
 * changed going from old_obj (NULL for a create: the kind's zero object) to new_obj, starting
 * from the entries new_obj carries (a client may rewrite them; not on a subresource) or else
 * old_obj's. Other managers lose fields this write changed or removed; a /status write
 * (subresource "status") tracks only status, a main-resource write of a kind with a status
 * split (has_status) all but status. `now` is the RFC 3339 time to stamp. */
void mf_record_update(const struct mf_type *t, const cJSON *old_obj, cJSON *new_obj,
                      const char *manager, const char *api_version, const char *subresource,
                      bool has_status, const char *now);

/* ---- server-side apply (patch/apply.c) ---- */

struct mf_apply_opts {
    const char *manager;     /* fieldManager, required */
    const char *api_version; /* "apps/v1" */
    const char *subresource; /* "" or "status" */
    bool force;
    bool has_status; /* the kind splits status off its main resource */
    const char *now;
};

/* Applies the configuration `applied` to `live` (NULL: the object does not exist yet) as
 * upstream's server-side apply: merges by the schema, takes ownership of every applied field,
 * removes fields this manager applied before and no one owns any more, and records the Apply
 * entry in the result's managedFields. Conflicts with other managers' fields (values that
 * would change) fail with upstream's 409 Conflict Status unless opts->force, which takes them
 * over. Returns 0 and *out (new), or a negative errno with err filled. */
int mf_apply(const struct mf_type *t, const cJSON *live, const cJSON *applied,
             const struct mf_apply_opts *opts, cJSON **out, struct ck_error *err);

/* The list-aware merge apply uses (exposed for tests): rhs over lhs, maps recursively, list
 * maps by key, sets by value, atomic values replaced. New tree. */
cJSON *mf_merge(const struct mf_type *t, const cJSON *lhs, const cJSON *rhs);

/* Removes from obj (in place) every path of `remove` (a set) that names a member; a member
 * path's whole subtree goes. */
void mf_remove_paths(const struct mf_type *t, cJSON *obj, const cJSON *remove);

#endif
