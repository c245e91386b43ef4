/* table.c - loads the embedded protobuf field table (see table.h). */
#include "table.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"

/* fields.txt, embedded at build time and followed by a NUL. .incbin resolves the path from the
 * directory the compiler runs in (the repository root, as the Makefile does). The object must
 * be rebuilt when the table changes; the Makefile rule for that is
 *     $(BUILD)/apiserver/proto/table.o: apiserver/proto/fields.txt */
__asm__(".pushsection .rodata\n"
        ".hidden ck_proto_fields_txt\n"
        "ck_proto_fields_txt:\n"
        ".incbin \"apiserver/proto/fields.txt\"\n"
        ".byte 0\n"
        ".popsection\n");
extern const char ck_proto_fields_txt[] __attribute__((visibility("hidden")));

struct pt_group {
    const char *api_version;
    const char *alias;
};

/* Filled once by load(); read-only afterwards. */
static struct {
    int rc;
    char *text; /* the heap copy the strings below point into */
    struct pt_message *msgs;
    size_t nmsgs;
    struct pt_group *groups;
    size_t ngroups;
} tab;
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static const struct {
    const char *name;
    enum pt_type type;
} scalars[] = {
    {"double", PT_DOUBLE}, {"float", PT_FLOAT},   {"int64", PT_INT64},   {"uint64", PT_UINT64},
    {"int32", PT_INT32},   {"uint32", PT_UINT32}, {"sint32", PT_SINT32}, {"sint64", PT_SINT64},
    {"bool", PT_BOOL},     {"string", PT_STRING}, {"bytes", PT_BYTES},
};

static const struct {
    const char *name;
    enum pt_special special;
} specials[] = {
    {"time", PS_TIME},
    {"microtime", PS_MICROTIME},
    {"duration", PS_DURATION},
    {"rawjson", PS_RAWJSON},
    {"quantity", PS_QUANTITY},
    {"intorstring", PS_INTORSTRING},
    {"items", PS_ITEMS},
    {"propsorarray", PS_PROPSORARRAY},
    {"propsorbool", PS_PROPSORBOOL},
    {"propsorstrings", PS_PROPSORSTRINGS},
};

static enum pt_type scalar_type(const char *s)
{
    for (size_t i = 0; i < CK_ARRAY_SIZE(scalars); i++)
        if (!strcmp(scalars[i].name, s))
            return scalars[i].type;
    return PT_NONE;
}

static int cmp_msg(const void *a, const void *b)
{
    return strcmp(((const struct pt_message *)a)->name, ((const struct pt_message *)b)->name);
}

static int cmp_field(const void *a, const void *b)
{
    uint32_t x = ((const struct pt_field *)a)->number, y = ((const struct pt_field *)b)->number;
    return x < y ? -1 : x > y;
}

static const struct pt_message *find_msg(const char *name)
{
    struct pt_message key = {.name = name};
    return tab.nmsgs ? bsearch(&key, tab.msgs, tab.nmsgs, sizeof(key), cmp_msg) : NULL;
}

/* Splits s at spaces in place into at most max tokens; returns the count. */
static size_t split(char *s, char **tok, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        while (*s == ' ')
            *s++ = '\0';
        if (!*s)
            break;
        tok[n++] = s;
        while (*s && *s != ' ')
            s++;
    }
    return n;
}

/* Parses one field line's type and flags into f; field types that name messages are kept in
 * *type_name for resolution once every message is known. */
static int parse_field(char **tok, size_t n, struct pt_field *f, const char **type_name)
{
    char *end;
    unsigned long num = strtoul(tok[0], &end, 10);
    if (*end || num == 0 || num > 536870911 || n < 3)
        return -EINVAL;
    f->number = (uint32_t)num;
    f->name = tok[1];
    f->json = tok[1];
    *type_name = NULL;
    char *t = tok[2];
    if (!strncmp(t, "map:", 4)) {
        char *k = t + 4, *v = strchr(k, ':');
        if (!v)
            return -EINVAL;
        *v++ = '\0';
        f->flags |= PTF_MAP;
        f->key_type = (uint8_t)scalar_type(k);
        if (f->key_type == PT_NONE || f->key_type == PT_MESSAGE || f->key_type == PT_BYTES)
            return -EINVAL;
        t = v;
    }
    f->type = (uint8_t)scalar_type(t);
    if (f->type == PT_NONE) {
        f->type = PT_MESSAGE;
        *type_name = t;
    }
    for (size_t i = 3; i < n; i++) {
        if (!strcmp(tok[i], "rep"))
            f->flags |= PTF_REPEATED;
        else if (!strcmp(tok[i], "ptr"))
            f->flags |= PTF_PTR;
        else if (!strcmp(tok[i], "inline"))
            f->flags |= PTF_INLINE;
        else if (!strncmp(tok[i], "json=", 5) && tok[i][5])
            f->json = tok[i] + 5;
        else
            return -EINVAL;
    }
    if ((f->flags & PTF_INLINE) && (f->type != PT_MESSAGE || (f->flags & (PTF_REPEATED | PTF_MAP))))
        return -EINVAL;
    return 0;
}

static int parse(void)
{
    tab.text = ck_xstrdup(ck_proto_fields_txt);
    /* pass 1: count, to size the arrays */
    size_t nmsgs = 0, nfields = 0, ngroups = 0;
    for (const char *p = tab.text; *p;) {
        if (*p == 'M')
            nmsgs++;
        else if (*p == 'G')
            ngroups++;
        else if (*p >= '0' && *p <= '9')
            nfields++;
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : p + strlen(p);
    }
    tab.msgs = ck_xcalloc(nmsgs ? nmsgs : 1, sizeof(*tab.msgs));
    tab.groups = ck_xcalloc(ngroups ? ngroups : 1, sizeof(*tab.groups));
    struct pt_field *fields = ck_xcalloc(nfields ? nfields : 1, sizeof(*fields));
    const char **type_names = ck_xcalloc(nfields ? nfields : 1, sizeof(*type_names));
    size_t fi = 0;
    int lineno = 0;
    struct pt_message *cur = NULL;
    char *save = NULL;
    for (char *line = strtok_r(tab.text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *tok[8];
        if (line[0] == '#')
            continue;
        size_t n = split(line, tok, CK_ARRAY_SIZE(tok));
        if (n == 0)
            continue;
        if (!strcmp(tok[0], "G") && n == 3) {
            tab.groups[tab.ngroups++] = (struct pt_group){tok[1], tok[2]};
        } else if (!strcmp(tok[0], "P") && n == 3) {
            /* package names document the aliases; nothing to keep */
        } else if (!strcmp(tok[0], "M") && (n == 2 || n == 3)) {
            cur = &tab.msgs[tab.nmsgs++];
            cur->name = tok[1];
            cur->fields = &fields[fi];
            if (n == 3) {
                for (size_t i = 0; i < CK_ARRAY_SIZE(specials); i++)
                    if (!strcmp(specials[i].name, tok[2]))
                        cur->special = specials[i].special;
                if (!cur->special)
                    goto bad;
            }
        } else if (tok[0][0] >= '0' && tok[0][0] <= '9' && cur && fi < nfields) {
            if (parse_field(tok, n, &fields[fi], &type_names[fi]) < 0)
                goto bad;
            fi++;
            cur->nfields++;
        } else {
            goto bad;
        }
        continue;
    bad:
        ck_err("protobuf field table: line %d is malformed", lineno);
        free(type_names);
        return -EINVAL;
    }
    /* resolve message types by name, then order messages by name and fields by number; the
     * field arrays are per message, so sorting messages keeps each message's slice intact */
    qsort(tab.msgs, tab.nmsgs, sizeof(*tab.msgs), cmp_msg);
    for (size_t i = 0; i < fi; i++) {
        if (!type_names[i])
            continue;
        fields[i].msg = find_msg(type_names[i]);
        if (!fields[i].msg) {
            ck_err("protobuf field table: unknown message %s", type_names[i]);
            free(type_names);
            return -EINVAL;
        }
    }
    free(type_names);
    for (size_t i = 0; i < tab.nmsgs; i++) {
        struct pt_message *m = &tab.msgs[i];
        qsort(m->fields, m->nfields, sizeof(*m->fields), cmp_field);
        for (size_t j = 1; j < m->nfields; j++)
            if (m->fields[j].number == m->fields[j - 1].number) {
                ck_err("protobuf field table: %s has field %u twice", m->name, m->fields[j].number);
                return -EINVAL;
            }
        if (i && !strcmp(tab.msgs[i - 1].name, m->name)) {
            ck_err("protobuf field table: message %s twice", m->name);
            return -EINVAL;
        }
    }
    return 0;
}

static void load(void)
{
    tab.rc = parse();
}

int pt_load(void)
{
    pthread_once(&tab_once, load);
    return tab.rc;
}

const struct pt_message *pt_message(const char *name)
{
    if (pt_load() < 0 || !name)
        return NULL;
    return find_msg(name);
}

const struct pt_message *pt_kind(const char *api_version, const char *kind)
{
    if (pt_load() < 0 || !api_version || !kind || !kind[0])
        return NULL;
    for (size_t i = 0; i < tab.ngroups; i++) {
        if (strcmp(tab.groups[i].api_version, api_version))
            continue;
        char name[256];
        snprintf(name, sizeof(name), "%s.%s", tab.groups[i].alias, kind);
        const struct pt_message *m = find_msg(name);
        if (!m) { /* DeleteOptions, Status, ... are registered in every group-version */
            snprintf(name, sizeof(name), "meta.%s", kind);
            m = find_msg(name);
        }
        return m;
    }
    return NULL;
}

const struct pt_field *pt_field(const struct pt_message *m, uint32_t number)
{
    size_t lo = 0, hi = m->nfields;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->fields[mid].number == number)
            return &m->fields[mid];
        if (m->fields[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t pt_count(void)
{
    return pt_load() < 0 ? 0 : tab.nmsgs;
}

const struct pt_message *pt_message_at(size_t i)
{
    return pt_load() < 0 || i >= tab.nmsgs ? NULL : &tab.msgs[i];
}
