/* selector_internal.h - what selector.c, selector_parse.c and selector_field.c share; other
 * modules use selector.h. */
#ifndef CK_SELECTOR_INTERNAL_H
#define CK_SELECTOR_INTERNAL_H

#include <stddef.h>
#include <string.h>

#include "error.h"
#include "selector.h"

/* ck_error_set with upstream's 400 BadRequest and msg as the message. */
static inline int ck_sel_bad_request(struct ck_error *err, const char *msg)
{
    return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", msg);
}

/* qsort comparison of char * strings, bytewise. */
static inline int ck_sel_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* labels.NewRequirement's checks (with a nil field path). Returns NULL when valid, else the
 * aggregated message (caller frees). */
char *ck_sel_validate_requirement(const char *key, enum ck_selector_op op, const char *const *vals,
                                  size_t n);

#endif
