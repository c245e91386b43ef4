/* printers.h - server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, as upstream's
 * pkg/printers/internalversion (Kubernetes v1.32) builds it.
 *
 * Every built-in kind has a printer (columns + a row function), keyed by (group, kind); any
 * other kind gets upstream's DefaultTableConvertor (columns "Name" and "Created At"). As
 * upstream's TableConvertor, the table always holds every column (the `-o wide` ones carry
 * priority 1 and kubectl hides them by default) and every cell.
 *
 * The module is pure: no I/O, no clock unless `now` is NULL, no shared state (thread-safe).
 * Objects are read, never changed; anything missing or of the wrong JSON type reads as
 * upstream's zero value, so any input prints without crashing.
 *
 * Row "object" per includeObject, as upstream's asTable:
 *   "Metadata" (or "" / NULL, the default): a PartialObjectMetadata
 *       {"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{...}}
 *       with the metadata members in ObjectMeta field order ("creationTimestamp":null when
 *       unset, as Go marshals a zero metav1.Time);
 *   "Object": the whole object, "kind" and "apiVersion" first (set from the resource row);
 *   "None": "object": null (upstream's empty RawExtension marshals as null).
 */
#ifndef APISERVER_PRINTERS_H
#define APISERVER_PRINTERS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "apiserver/registry/resources.h"
#include "error.h"

/* Checks the includeObject query value as upstream's ValidateTableOptions: NULL, "",
 * "Metadata", "Object" and "None" are accepted (0); anything else is -EINVAL with err set to
 * 400 BadRequest "Unable to convert to Table as requested: includeObject: Invalid value:
 * \"x\": must be 'Metadata', 'Object', 'None', or empty". */
int printers_check_include_object(const char *include_object, struct ck_error *err);

/* The Table for a list: `items` is a JSON array of objects of resource `r` (in r's version;
 * NULL reads as an empty list). list_rv and continue_token go to metadata.resourceVersion and
 * metadata.continue (NULL or "" leaves them out), remaining to metadata.remainingItemCount
 * (negative leaves it out). `now` is the instant AGE columns count from (NULL: the clock).
 * Returns a new tree the caller frees with cJSON_Delete, or NULL for a NULL r or an invalid
 * include_object (see printers_check_include_object). */
cJSON *printers_table(const struct resource *r, const cJSON *items, const char *include_object,
                      const char *list_rv, const char *continue_token, int64_t remaining,
                      const struct timespec *now);

/* The Table for one object (a GET): one row, metadata.resourceVersion taken from the
 * object's. Same ownership as printers_table; NULL for a NULL r, an `obj` that is not a JSON
 * object, or an invalid include_object. */
cJSON *printers_table_object(const struct resource *r, const cJSON *obj, const char *include_object,
                             const struct timespec *now);

/* True when (group, kind) has its own printer; false when it gets the default columns. */
bool printers_has_kind(const char *group, const char *kind);

#endif
