/* yaml_tree.c - the node tree of one YAML document, built from libyaml's events without
 * recursion in an arena freed at once, with anchors resolved to nodes and nesting capped (see
 * yaml_internal.h). */
#include "yaml_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* ------------------------------------------------------------------------------------------
 * Arena: the node tree of one document lives here and is freed at once.
 */

#define ARENA_HDR ((sizeof(struct arena_block) + 15) & ~(size_t)15)

static void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        struct arena_block *b = ck_xmalloc(ARENA_HDR + cap);
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = (char *)a->head + ARENA_HDR + a->head->used;
    a->head->used += n;
    return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void arena_free(struct arena *a)
{
    while (a->head) {
        struct arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* ------------------------------------------------------------------------------------------
 * Node tree of one document, built from libyaml events without recursion.
 */

/* Records an anchor; a later anchor of the same name replaces it, as in go-yaml. */
static void anchor_set(struct tree *t, const char *name, struct ynode *n)
{
    ck_strmap_put(&t->anchors, name, n);
}

static struct ynode *anchor_get(struct tree *t, const char *name)
{
    return ck_strmap_get(&t->anchors, name);
}

void ck_yaml_tree_free(struct tree *t)
{
    arena_free(&t->arena);
    ck_strmap_free(&t->anchors, NULL);
    memset(t, 0, sizeof(*t));
}

/* go-yaml's parser.fail(): "line N: " from the problem mark (scanner errors count from 1,
 * the others as go-yaml reports them), else from the context mark, then the problem. */
static void parser_error(const yaml_parser_t *p, char *msg, size_t size)
{
    size_t line = 0;
    if (p->problem_mark.line != 0) {
        line = p->problem_mark.line;
        if (p->error == YAML_SCANNER_ERROR)
            line++;
    } else if (p->context_mark.line != 0) {
        line = p->context_mark.line;
    }
    const char *problem =
        p->problem && *p->problem ? p->problem : "unknown problem parsing YAML content";
    if (line)
        snprintf(msg, size, "yaml: line %zu: %s", line, problem);
    else
        snprintf(msg, size, "yaml: %s", problem);
}

/* go-yaml v2's scanner knows no `\/` escape, which libyaml 0.2.5 accepts: look for one in
 * the source of a double-quoted scalar. Sets *lines to the line breaks before it. */
static bool find_slash_escape(const char *src, size_t n, size_t *lines)
{
    *lines = 0;
    for (size_t i = 1; i < n; i++) {
        bool esc = src[i] == '\\' && i + 1 < n;
        if (esc && src[i + 1] == '/')
            return true;
        if (esc)
            i++;
        if (src[i] == '\n' || (src[i] == '\r' && !(i + 1 < n && src[i + 1] == '\n')))
            (*lines)++;
    }
    return false;
}

/* Byte offset of libyaml's character index `target` in UTF-8 input (marks count characters);
 * the cursor only moves forward, as events do. */
struct src_cursor {
    size_t chars, bytes;
};

static size_t src_offset(struct src_cursor *c, const char *data, size_t len, size_t target)
{
    while (c->chars < target && c->bytes < len) {
        size_t l = ck_yaml_utf8_len((const unsigned char *)data + c->bytes, len - c->bytes);
        c->bytes += l ? l : 1;
        c->chars++;
    }
    return c->bytes;
}

struct open_coll {
    struct ynode *node;
    size_t first; /* index of its first kid in the pending stack */
};

/* Builds the tree of the first document of data. Returns 0, or -EINVAL with msg set. */
int ck_yaml_tree_build(const char *data, size_t len, struct tree *t, char *msg, size_t msgsize)
{
    memset(t, 0, sizeof(*t));
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(msg, msgsize, "yaml: cannot initialize the YAML parser");
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)(len ? data : "\n"),
                                 len ? len : 1);
    struct ynode **pending = NULL;
    size_t npending = 0, cappending = 0;
    /* the `\/` check needs byte offsets, which it can find in UTF-8 input only */
    bool utf16 = len >= 2 && ((unsigned char)data[0] == 0xFE || (unsigned char)data[0] == 0xFF);
    struct src_cursor cur = {0, len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0};
    struct open_coll *open = NULL;
    size_t nopen = 0, capopen = 0;
    int rc = 0;
    bool done = false;

    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            parser_error(&parser, msg, msgsize);
            rc = -EINVAL;
            break;
        }
        struct ynode *node = NULL;
        const yaml_char_t *anchor = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            done = true;
            break;
        case YAML_ALIAS_EVENT: {
            const char *name = (const char *)ev.data.alias.anchor;
            struct ynode *target = anchor_get(t, name);
            if (!target) {
                snprintf(msg, msgsize, "yaml: unknown anchor '%.*s' referenced", ERR_VALUE_MAX,
                         name);
                rc = -EINVAL;
                done = true;
                break;
            }
            node = arena_alloc(&t->arena, sizeof(*node));
            memset(node, 0, sizeof(*node));
            node->kind = YK_ALIAS;
            node->value = arena_strndup(&t->arena, name, strlen(name));
            node->target = target;
            break;
        }
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && !utf16 &&
                memchr(ev.data.scalar.value, '/', ev.data.scalar.length)) {
                size_t a = src_offset(&cur, data, len, ev.start_mark.index);
                size_t b = src_offset(&cur, data, len, ev.end_mark.index);
                size_t lines;
                if (a < b && find_slash_escape(data + a, b - a, &lines)) {
                    size_t line0 = ev.start_mark.line + lines;
                    if (line0)
                        snprintf(msg, msgsize, "yaml: line %zu: found unknown escape character",
                                 line0 + 1);
                    else
                        snprintf(msg, msgsize, "yaml: found unknown escape character");
                    rc = -EINVAL;
                    done = true;
                    break;
                }
            }
            node = arena_alloc(&t->arena, sizeof(*node));
            memset(node, 0, sizeof(*node));
            node->kind = YK_SCALAR;
            node->value =
                arena_strndup(&t->arena, (const char *)ev.data.scalar.value, ev.data.scalar.length);
            node->len = ev.data.scalar.length;
            if (ev.data.scalar.tag)
                node->tag = arena_strndup(&t->arena, (const char *)ev.data.scalar.tag,
                                          strlen((const char *)ev.data.scalar.tag));
            node->implicit = ev.data.scalar.plain_implicit;
            anchor = ev.data.scalar.anchor;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            struct ynode *c = arena_alloc(&t->arena, sizeof(*c));
            memset(c, 0, sizeof(*c));
            c->kind = ev.type == YAML_MAPPING_START_EVENT ? YK_MAPPING : YK_SEQUENCE;
            c->line = (int)ev.start_mark.line;
            anchor = ev.type == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor
                                                         : ev.data.sequence_start.anchor;
            if (anchor)
                anchor_set(t, (const char *)anchor, c);
            anchor = NULL;
            if (nopen >= CK_YAML_MAX_DEPTH) {
                /* worded as go-yaml's scanner limit, which has no line on the first one */
                if (ev.start_mark.line)
                    snprintf(msg, msgsize, "yaml: line %zu: exceeded max depth of %d",
                             (size_t)ev.start_mark.line + 1, CK_YAML_MAX_DEPTH);
                else
                    snprintf(msg, msgsize, "yaml: exceeded max depth of %d", CK_YAML_MAX_DEPTH);
                rc = -EINVAL;
                done = true;
                break;
            }
            if (nopen == capopen) {
                capopen = capopen ? capopen * 2 : 16;
                open = ck_xrealloc(open, capopen * sizeof(*open));
            }
            open[nopen].node = c;
            open[nopen].first = npending;
            nopen++;
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            struct open_coll *oc = &open[--nopen];
            node = oc->node;
            node->nkids = npending - oc->first;
            node->kids =
                arena_alloc(&t->arena, (node->nkids ? node->nkids : 1) * sizeof(*node->kids));
            if (node->nkids)
                memcpy(node->kids, pending + oc->first, node->nkids * sizeof(*node->kids));
            npending = oc->first;
            break;
        }
        default:
            break;
        }
        if (node) {
            if (node->kind == YK_SCALAR || node->kind == YK_ALIAS)
                node->line = (int)ev.start_mark.line;
            if (anchor)
                anchor_set(t, (const char *)anchor, node);
            if (nopen == 0) {
                t->root = node;
            } else {
                if (npending == cappending) {
                    cappending = cappending ? cappending * 2 : 64;
                    pending = ck_xrealloc(pending, cappending * sizeof(*pending));
                }
                pending[npending++] = node;
            }
        }
        yaml_event_delete(&ev);
    }
    free(pending);
    free(open);
    yaml_parser_delete(&parser);
    if (rc < 0)
        ck_yaml_tree_free(t);
    return rc;
}
