/* fields.h - field selectors per kind: which field labels a resource supports and the value
 * an object has for each (upstream's per-kind GetAttrs / field label conversion). */
#ifndef APISERVER_FIELDS_H
#define APISERVER_FIELDS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "error.h"
#include "registry/resources.h"
#include "selector.h"

/* 0 when every requirement of sel names a field label r supports; else 400 BadRequest
 * `field label not supported: <label>`. */
int fields_check(const struct resource *r, const struct ck_field_selector *sel,
                 struct ck_error *err);
/* True when obj matches sel (labels resolved as r defines them). */
bool fields_match(const struct resource *r, const struct ck_field_selector *sel,
                  const cJSON *obj);

#endif
