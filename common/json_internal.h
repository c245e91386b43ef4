/* json_internal.h - what json.c (paths, equality, printing) and json_parse.c (the parser)
 * share; other modules use json.h. */
#ifndef CK_JSON_INTERNAL_H
#define CK_JSON_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* j itself; aborts when j is NULL, which cJSON constructors return only when out of memory
 * (fatal for us, as in mem.h). */
cJSON *ck_json_must(cJSON *j);
/* cJSON_AddItemToObject that aborts when out of memory. */
void ck_json_must_add(cJSON *obj, const char *key, cJSON *item);

/* An object member with its position, for sorting members by key (then by position). */
struct ck_json_member {
    const char *key;
    size_t idx;
    cJSON *item;
};
/* qsort comparison of struct ck_json_member: bytewise by key, then by idx. */
int ck_json_member_cmp(const void *a, const void *b);

static inline int ck_json_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

#endif
