/* store.h - the informers' local cache: a thread-safe indexed store of immutable,
 * reference-counted API objects (client-go's cache.Indexer with MetaNamespaceKeyFunc).
 *
 * Objects. A struct ck_obj wraps one cJSON tree that is NEVER modified once the object is
 * published (put into a store): every reader shares it without copying. Ownership rule:
 *   - ck_obj_new takes the tree; the object starts with one reference, owned by the caller.
 *   - Whoever holds a reference may read obj->json (and keep it as long as the reference),
 *     but must not change it; to change an object, ck_json_dup(obj->json) and edit the copy.
 *   - Every function returning a struct ck_obj* (or a list of them) hands the caller a new
 *     reference, released with ck_obj_unref (lists: ck_obj_list_free). Handlers receiving
 *     `const struct ck_obj *` borrow it for the call; ck_obj_ref it to keep it.
 *
 * Keys are upstream's: "<namespace>/<name>", or "<name>" for cluster-scoped objects.
 * Indexes map an object to zero or more values (index functions must be pure functions of the
 * object); lookups return every object with a given value, e.g. pods by spec.nodeName. The
 * "namespace" index (ck_index_namespace) is upstream's cache.NamespaceIndex.
 *
 * Thread-safety: a read-write lock per store guards its map and indexes; readers run in
 * parallel. Objects are immutable, so no lock is needed to read a referenced object.
 */
#ifndef CK_STORE_H
#define CK_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"

struct ck_obj {
    atomic_int refs;
    cJSON *json;  /* immutable after publication */
    char *key;    /* "ns/name" or "name" */
    char *rv;     /* metadata.resourceVersion ("" when absent) */
};

/* Wraps json (taken; freed with the object) with one reference. Never NULL. */
struct ck_obj *ck_obj_new(cJSON *json);
/* Adds a reference and returns o (NULL accepted). */
struct ck_obj *ck_obj_ref(const struct ck_obj *o);
/* Drops a reference; the last one frees the object and its tree. NULL accepted. */
void ck_obj_unref(const struct ck_obj *o);

/* upstream MetaNamespaceKeyFunc: "<ns>/<name>" or "<name>"; NULL when the object has no
 * metadata.name. Caller frees. */
char *ck_object_key(const cJSON *obj);
/* upstream SplitMetaNamespaceKey: "ns/name" -> (ns, name), "name" -> ("", name); -EINVAL for
 * more than one '/'. *ns and *name are the caller's (free). */
int ck_split_key(const char *key, char **ns, char **name);

/* A growable list of strings (index values, keys). */
struct ck_strlist {
    char **v;
    size_t n, cap;
};
#define CK_STRLIST_INIT {NULL, 0, 0}
void ck_strlist_add(struct ck_strlist *l, const char *s); /* copies s */
void ck_strlist_free(struct ck_strlist *l);

/* An index function: adds the object's index values to out (may add none). */
typedef void (*ck_index_fn)(const cJSON *obj, struct ck_strlist *out);
/* Built-in index functions: metadata.namespace ("namespace" index), spec.nodeName. */
void ck_index_namespace(const cJSON *obj, struct ck_strlist *out);
void ck_index_node_name(const cJSON *obj, struct ck_strlist *out);

/* A list of object references. */
struct ck_obj_list {
    struct ck_obj **items;
    size_t n;
};
#define CK_OBJ_LIST_INIT {NULL, 0}
/* Drops every reference and frees the array. */
void ck_obj_list_free(struct ck_obj_list *l);

struct ck_store;

struct ck_store *ck_store_new(void);
void ck_store_free(struct ck_store *s);

/* Adds an index named name (re-indexing what the store already holds). -EEXIST when an index
 * of that name exists. */
int ck_store_add_index(struct ck_store *s, const char *name, ck_index_fn fn);

/* Publishes o under o->key (the store takes its own reference; the caller keeps its own) and
 * returns the object it replaced (a reference the caller must drop) or NULL. */
struct ck_obj *ck_store_put(struct ck_store *s, struct ck_obj *o);
/* Removes key and returns the removed object (caller drops the reference) or NULL. */
struct ck_obj *ck_store_delete(struct ck_store *s, const char *key);

/* The object at key (a new reference) or NULL. */
struct ck_obj *ck_store_get(struct ck_store *s, const char *key);
/* A private deep copy of the object at key (caller frees with cJSON_Delete) or NULL. */
cJSON *ck_store_get_copy(struct ck_store *s, const char *key);
size_t ck_store_len(struct ck_store *s);
/* Every object (new references, in no particular order). */
void ck_store_list(struct ck_store *s, struct ck_obj_list *out);
/* The objects of one namespace (uses the "namespace" index when present). */
void ck_store_list_namespace(struct ck_store *s, const char *ns, struct ck_obj_list *out);
/* Every key. */
void ck_store_keys(struct ck_store *s, struct ck_strlist *out);
/* The objects whose index `index` has `value`; -ENOENT for an unknown index. */
int ck_store_by_index(struct ck_store *s, const char *index, const char *value,
                      struct ck_obj_list *out);
/* The keys of the objects whose index `index` has `value`; -ENOENT for an unknown index. */
int ck_store_index_keys(struct ck_store *s, const char *index, const char *value,
                        struct ck_strlist *out);

#endif
