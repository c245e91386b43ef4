/* managedfields_internal.h - what managedfields.c shares with patch/apply.c: the type of a
 * schema node as structured-merge-diff sees it, and a path stack. Not a public API. */
#ifndef APISERVER_MANAGEDFIELDS_INTERNAL_H
#define APISERVER_MANAGEDFIELDS_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "managedfields.h"
#include "patch/patch_internal.h"

enum mf_kind {
    MF_SCALAR,   /* a leaf */
    MF_ATOMIC,   /* a list or map that is one leaf */
    MF_STRUCT,   /* named fields (props) */
    MF_MAP,      /* string keys to elem */
    MF_LIST_SET, /* items named by value */
    MF_LIST_MAP, /* items named by their key fields */
    MF_DEDUCED,  /* no schema: decided by the value (internal to mf_type_of) */
};

/* The kind of a schema node; `value` decides for a node without schema ("deduced"). All
 * pointers borrowed from the schema document. */
struct mf_tinfo {
    enum mf_kind kind;
    bool deduced;
    const cJSON *props;    /* MF_STRUCT: the properties object */
    const cJSON *elem;     /* lists and maps: the element schema (NULL: deduced) */
    const cJSON *keys;     /* MF_LIST_MAP: x-kubernetes-list-map-keys */
    const char *merge_key; /* MF_LIST_MAP from a patch merge key */
};

void mf_type_of(const struct mf_type *t, const cJSON *node, const cJSON *value,
                struct mf_tinfo *ti);
/* Schema of member `key` of a struct or map (NULL: unknown, deduced). Borrowed. */
const cJSON *mf_member_schema(const struct mf_tinfo *ti, const char *key);
bool mf_is_container(const struct mf_tinfo *ti);
bool mf_value_fits(const struct mf_tinfo *ti, const cJSON *v);
/* The path element of a list item ("k:{...}", "v:...", "i:N"); caller frees. */
char *mf_item_elem(const struct mf_tinfo *ti, const cJSON *item, int index);

/* A stack of owned path element strings. */
struct mf_path {
    char *e[MF_MAX_DEPTH + 2];
    int n;
};
void mf_path_push(struct mf_path *p, char *elem); /* takes elem */
void mf_path_pop(struct mf_path *p);
void mf_path_insert(cJSON *set, const struct mf_path *p);

/* Drops entries whose set is empty. */
void mf_entries_drop_empty(struct mf_entries *e);
/* Limits a set to what a write of the subresource tracks (see mf_record_update). */
void mf_scope_sets(cJSON *set, const char *subresource, bool has_status);

#endif
