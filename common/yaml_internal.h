/* yaml_internal.h - what the yaml_*.c files share (other modules use yaml.h):
 *   yaml_resolve.c  scalar resolution and UTF-8 helpers, used by both directions
 *   yaml_tree.c     libyaml events -> node tree of one document
 *   yaml_parse.c    node tree -> cJSON, the public parsing API
 *   yaml_emit.c     cJSON -> YAML text
 */
#ifndef CK_YAML_INTERNAL_H
#define CK_YAML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strmap.h"
#include "yaml.h"

#define CK_YAML_WANT_LIBYAML /* libyaml's <yaml.h>, even with -Icommon first (see yaml.h) */
#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"
#define TAG_STR TAG_PREFIX "str"
#define TAG_BOOL TAG_PREFIX "bool"
#define TAG_INT TAG_PREFIX "int"
#define TAG_FLOAT TAG_PREFIX "float"
#define TAG_NULL TAG_PREFIX "null"
#define TAG_TIMESTAMP TAG_PREFIX "timestamp"
#define TAG_BINARY TAG_PREFIX "binary"
#define TAG_MERGE TAG_PREFIX "merge"

/* Integers beyond this magnitude do not fit a double exactly and are kept as raw text. */
#define EXACT_DOUBLE_INT 9007199254740992.0 /* 2^53 */
/* go-yaml's big-integer fallback; we convert at most this many digits to decimal. */
#define MAX_BIG_DIGITS 2048
/* Longest scalar quoted back in an error message. */
#define ERR_VALUE_MAX 200
/* kubectl's YAMLOrJSONDecoder sniffs this many bytes for a leading `{`. */
#define JSON_SNIFF_BYTES 4096

/* ---- scalar resolution (yaml_resolve.c) ---- */

enum rkind {
    RK_NULL,
    RK_BOOL,
    RK_INT,  /* fits int64 */
    RK_UINT, /* above int64, fits uint64 */
    RK_BIG,  /* beyond 64 bits, written with a base prefix: decimal text in `own` */
    RK_FLOAT,
    RK_TIMESTAMP, /* decoded as the string itself */
    RK_STR,
    RK_BINARY, /* !!binary: decoded bytes in `own` */
};

struct rval {
    enum rkind kind;
    bool b;
    int64_t i;
    uint64_t u;
    double f;
    const char *s; /* RK_STR/RK_TIMESTAMP: borrowed text */
    size_t slen;
    char *own; /* RK_BIG/RK_BINARY: malloc'd text */
    size_t ownlen;
};

void ck_yaml_rval_free(struct rval *r);
/* The long tag of a resolved kind (TAG_STR for strings). */
const char *ck_yaml_rkind_tag(enum rkind k);
/* What go-yaml v2's resolve() makes of `in` when no tag forces a string. `with_ts` asks for
 * the timestamp check (done for untagged and !!timestamp scalars only). */
void ck_yaml_resolve_plain(const char *in, size_t len, bool with_ts, struct rval *r);
/* go-yaml's isBase60Float: strings like 1:20 are quoted on output for YAML 1.1 readers. */
bool ck_yaml_is_base60_float(const char *s, size_t n);
/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is invalid. */
size_t ck_yaml_utf8_len(const unsigned char *s, size_t n);
/* Copies s with every invalid UTF-8 byte replaced by U+FFFD, as Go's JSON encoding does.
 * Returns NULL when s is already valid (no copy needed); otherwise a malloc'd string. */
char *ck_yaml_utf8_sanitize(const char *s, size_t n);

/* ---- node tree (yaml_tree.c) ---- */

/* The node tree of one document lives in an arena and is freed at once. */
struct arena_block {
    struct arena_block *next;
    size_t used, cap;
};

struct arena {
    struct arena_block *head;
};

enum ykind { YK_SCALAR, YK_MAPPING, YK_SEQUENCE, YK_ALIAS };

struct ynode {
    enum ykind kind;
    bool implicit;     /* scalar: plain and untagged, so resolved */
    bool busy;         /* alias: being expanded (go-yaml's "contains itself" check) */
    int line;          /* 0-based line of the start mark */
    const char *tag;   /* scalar tag (long form) or NULL */
    const char *value; /* scalar text, or the alias's anchor name */
    size_t len;
    struct ynode *target; /* alias: the anchored node */
    struct ynode **kids;  /* mapping: key, value, key, value...; sequence: items */
    size_t nkids;
};

struct tree {
    struct arena arena;
    struct ynode *root;       /* NULL for a stream without documents */
    struct ck_strmap anchors; /* anchor name -> struct ynode * (borrowed from the arena) */
};

/* Builds the tree of the first document of data[0..len) into t (zeroed by the caller); returns
 * 0 (the caller frees t with ck_yaml_tree_free), or -EINVAL with a go-yaml style message in
 * msg (-ENOMEM when libyaml cannot start) and nothing left to free. */
int ck_yaml_tree_build(const char *data, size_t len, struct tree *t, char *msg, size_t msgsize);
void ck_yaml_tree_free(struct tree *t);

#endif
