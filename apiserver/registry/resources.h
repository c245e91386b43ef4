/* resources.h - the resource table: one row per built-in resource the apiserver serves.
 *
 * Everything that is the same for every resource (routing, storage keys, discovery, OpenAPI,
 * verbs allowed, subresources, short names, printing) is driven by this table; what differs per
 * kind lives in the row's strategy (defaulting, validation, update rules), written in one file
 * per kind family. The rows are static and read-only after start-up; no lock guards them.
 * CustomResourceDefinitions will add rows at run time through a separate, locked list.
 */
#ifndef APISERVER_RESOURCES_H
#define APISERVER_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

/* Verbs, as discovery names them. */
enum {
    VERB_CREATE = 1 << 0,
    VERB_GET = 1 << 1,
    VERB_LIST = 1 << 2,
    VERB_WATCH = 1 << 3,
    VERB_UPDATE = 1 << 4,
    VERB_PATCH = 1 << 5,
    VERB_DELETE = 1 << 6,
    VERB_DELETECOLLECTION = 1 << 7,
};
#define VERBS_CRUD                                                                                 \
    (VERB_CREATE | VERB_GET | VERB_LIST | VERB_WATCH | VERB_UPDATE | VERB_PATCH | VERB_DELETE |    \
     VERB_DELETECOLLECTION)
#define VERBS_CREATE_ONLY VERB_CREATE

/* Subresources. */
enum {
    SUB_STATUS = 1 << 0,
    SUB_SCALE = 1 << 1,
    SUB_BINDING = 1 << 2,
    SUB_LOG = 1 << 3,
    SUB_EXEC = 1 << 4,
    SUB_ATTACH = 1 << 5,
    SUB_PORTFORWARD = 1 << 6,
    SUB_PROXY = 1 << 7,
    SUB_EVICTION = 1 << 8,
    SUB_EPHEMERAL = 1 << 9,
    SUB_RESIZE = 1 << 10,
    SUB_TOKEN = 1 << 11,
    SUB_FINALIZE = 1 << 12,
    SUB_APPROVAL = 1 << 13,
};

struct strategy; /* per-kind behaviour, see strategy.h */

struct resource {
    const char *group;   /* "" for the core group */
    const char *version; /* "v1", "v2" */
    const char *plural;  /* URL segment: "pods" */
    const char *singular;
    const char *kind;
    bool namespaced;
    unsigned verbs;
    unsigned subresources;
    const char *short_names[4]; /* NULL-terminated */
    const char *categories[3];  /* NULL-terminated */
    /* etcd key segment under --etcd-prefix, as upstream lays keys out ("services/specs",
     * "minions", ...); NULL for resources that are never stored (reviews). */
    const char *storage;
    const struct strategy *strategy; /* never NULL */
};

/* The rows, and how many. */
extern const struct resource ck_resources[];
extern const size_t ck_resources_count;

/* Looks up by group, version and plural ("" group = core). Returns a borrowed row or NULL. */
const struct resource *resource_find(const char *group, const char *version, const char *plural);
/* Looks up by group and kind in any served version (first row wins). */
const struct resource *resource_find_kind(const char *group, const char *version,
                                          const char *kind);
/* "apps/v1", or "v1" for the core group, into dst. */
void resource_api_version(const struct resource *r, char *dst, size_t size);
/* The subresource bit for a URL segment ("status" -> SUB_STATUS), or 0. */
unsigned resource_subresource_bit(const char *name);
/* Discovery's name of one subresource bit. */
const char *resource_subresource_name(unsigned bit);
/* Discovery's verb name for one verb bit. */
const char *resource_verb_name(unsigned bit);

#endif
