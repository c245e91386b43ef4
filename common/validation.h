/* validation.h - name and value validation as upstream (k8s.io/apimachinery/pkg/util/validation,
 * pkg/api/validation and pkg/api/validation/path, Kubernetes v1.32), with upstream's exact
 * error texts.
 *
 * The ck_is_* checks mirror upstream's IsXxx(value) []string: each appends zero or more
 * messages to an optional error list and returns how many it appended, so 0 means valid and
 * `out` may be NULL when only the verdict matters. Messages are the bare upstream strings
 * (e.g. "must be no more than 63 characters"); the ck_field_* helpers wrap them the way
 * upstream's field.Error prints ("metadata.name: Invalid value: \"x\": ...").
 *
 * Ownership: a struct ck_errlist owns its strings; ck_errlist_free releases them. Strings
 * returned by ck_errlist_join are owned by the caller. No function keeps a pointer to its
 * arguments. All functions accept any NUL-terminated input (NULL is treated as "").
 */
#ifndef CK_VALIDATION_H
#define CK_VALIDATION_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "gostrconv.h" /* ck_utf8_decode, ck_buf_put_go_quoted: Go quoting of values */

/* Maximum lengths, as upstream names them. */
#define CK_DNS1123_LABEL_MAX_LENGTH 63
#define CK_DNS1123_SUBDOMAIN_MAX_LENGTH 253
#define CK_DNS1035_LABEL_MAX_LENGTH 63
#define CK_LABEL_VALUE_MAX_LENGTH 63
#define CK_QUALIFIED_NAME_MAX_LENGTH 63
#define CK_TOTAL_ANNOTATION_SIZE_LIMIT (256 * 1024)

/* A growable list of error strings (upstream's []string / field.ErrorList rendered). */
struct ck_errlist {
    char **items;
    size_t n;
    size_t cap;
};

#define CK_ERRLIST_INIT                                                                            \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Appends a printf-formatted message (copied). */
void ck_errlist_add(struct ck_errlist *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Releases every message and resets the list to empty. */
void ck_errlist_free(struct ck_errlist *l);
/* Joins the messages with `sep` (as Go's strings.Join); the caller frees the result. */
char *ck_errlist_join(const struct ck_errlist *l, const char *sep);
/* Renders the list as upstream's utilerrors.Aggregate does: "" for none, the message for
 * one, "[m1, m2]" for several (duplicates dropped). The caller frees the result. */
char *ck_errlist_aggregate(const struct ck_errlist *l);
/* `CK_AUTOERRLIST struct ck_errlist e = CK_ERRLIST_INIT;` frees e at the end of the scope. */
void ck_errlist_freep(struct ck_errlist *l);
#define CK_AUTOERRLIST __attribute__((cleanup(ck_errlist_freep)))

/* ---- upstream pkg/util/validation ---- */

/* Label/annotation key: optional DNS-1123 subdomain prefix and '/', then a name of at most 63
 * characters matching ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]. (IsQualifiedName) */
int ck_is_qualified_name(const char *value, struct ck_errlist *out);
/* Empty, or at most 63 characters matching the qualified-name pattern. (IsValidLabelValue) */
int ck_is_valid_label_value(const char *value, struct ck_errlist *out);
/* [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters. (IsDNS1123Label) */
int ck_is_dns1123_label(const char *value, struct ck_errlist *out);
/* Dot-separated DNS-1123 labels, at most 253 characters. (IsDNS1123Subdomain) */
int ck_is_dns1123_subdomain(const char *value, struct ck_errlist *out);
/* [a-z]([-a-z0-9]*[a-z0-9])?, at most 63 characters. (IsDNS1035Label) */
int ck_is_dns1035_label(const char *value, struct ck_errlist *out);
/* "*." followed by a DNS-1123 subdomain. (IsWildcardDNS1123Subdomain) */
int ck_is_wildcard_dns1123_subdomain(const char *value, struct ck_errlist *out);
/* [A-Za-z_][A-Za-z0-9_]* (IsCIdentifier) */
int ck_is_c_identifier(const char *value, struct ck_errlist *out);
/* [-._a-zA-Z][-._a-zA-Z0-9]*, and not ".", ".." or starting with "..". (IsEnvVarName) */
int ck_is_env_var_name(const char *value, struct ck_errlist *out);
/* [-._a-zA-Z0-9]+, at most 253, and not ".", ".." or starting with "..". (IsConfigMapKey) */
int ck_is_config_map_key(const char *value, struct ck_errlist *out);
/* 1..65535 (IsValidPortNum) */
int ck_is_valid_port_num(long long port, struct ck_errlist *out);
/* lo..hi inclusive (IsInRange) */
int ck_is_in_range(long long value, long long lo, long long hi, struct ck_errlist *out);
/* IANA service name: at most 15 of [-a-z0-9], at least one letter, no "--", no leading or
 * trailing '-'. (IsValidPortName) */
int ck_is_valid_port_name(const char *port, struct ck_errlist *out);
/* IPv4 or IPv6 as upstream's netutils.ParseIPSloppy accepts (IPv4 octets may carry leading
 * zeros, read as decimal). (IsValidIP, message without the field prefix) */
int ck_is_valid_ip(const char *value, struct ck_errlist *out);
/* Parses like ParseIPSloppy into 16 bytes (IPv4 as ::ffff:a.b.c.d). Returns 4 or 6 for the
 * textual family, or 0 when the string is not an IP address. `ip16` may be NULL. */
int ck_parse_ip(const char *value, unsigned char ip16[16]);
/* [0-9]+% (IsValidPercent) */
int ck_is_valid_percent(const char *value, struct ck_errlist *out);
/* [-A-Za-z0-9]+ (IsHTTPHeaderName) */
int ck_is_http_header_name(const char *value, struct ck_errlist *out);

/* Upstream's message helpers, for callers composing their own checks. */
void ck_errlist_add_max_len(struct ck_errlist *out, int length); /* MaxLenError */
void ck_errlist_add_empty(struct ck_errlist *out);               /* EmptyError */

/* ---- upstream pkg/api/validation/path ---- */

/* Not "." or "..", and no '/' or '%'. (IsValidPathSegmentName) */
int ck_is_valid_path_segment_name(const char *name, struct ck_errlist *out);
/* No '/' or '%'. (IsValidPathSegmentPrefix) */
int ck_is_valid_path_segment_prefix(const char *name, struct ck_errlist *out);

/* ---- upstream pkg/api/validation name functions ----
 * A name validator checks `name`; when `prefix` is true the name is a generateName that will
 * get a suffix appended, so (as upstream's maskTrailingDash) a trailing '-' is tolerated. */
typedef int (*ck_name_validator)(const char *name, bool prefix, struct ck_errlist *out);

int ck_name_is_dns_subdomain(const char *name, bool prefix, struct ck_errlist *out);
int ck_name_is_dns_label(const char *name, bool prefix, struct ck_errlist *out);
int ck_name_is_dns1035_label(const char *name, bool prefix, struct ck_errlist *out);
/* ValidateNamespaceName: a DNS-1123 label. */
int ck_validate_namespace_name(const char *name, bool prefix, struct ck_errlist *out);
/* ValidatePathSegmentName: the rule every object name must pass in the generic registry. */
int ck_validate_path_segment_name(const char *name, bool prefix, struct ck_errlist *out);

/* ---- field errors (upstream field.Error printing) ----
 * `path` is the field path as upstream prints it ("metadata.name", "spec.ports[0].name"). */

/* "<path>: Invalid value: \"<value>\": <detail>" */
void ck_field_invalid(struct ck_errlist *out, const char *path, const char *value,
                      const char *detail);
/* "<path>: Required value" or "<path>: Required value: <detail>" */
void ck_field_required(struct ck_errlist *out, const char *path, const char *detail);
/* "<path>: Forbidden: <detail>" */
void ck_field_forbidden(struct ck_errlist *out, const char *path, const char *detail);
/* "<path>: Too long: must have at most <max> bytes" */
void ck_field_too_long(struct ck_errlist *out, const char *path, int max_bytes);

/* Validates metadata.name / metadata.generateName as upstream's ValidateObjectMetaAccessor:
 * generateName (when set) through fn(generateName, true), then name through fn(name, false)
 * or "name or generateName is required". `path` is the metadata path ("metadata").
 * Appends field errors; returns how many. */
int ck_validate_object_meta_name(const char *name, const char *generate_name, ck_name_validator fn,
                                 const char *path, struct ck_errlist *out);
/* metav1 ValidateLabels over a labels object (string -> string): keys as qualified names,
 * values as label values; non-string values are reported invalid. Returns how many errors. */
int ck_validate_labels(const cJSON *labels, const char *path, struct ck_errlist *out);
/* ValidateAnnotations: lower-cased keys as qualified names, total size at most 256 KiB. */
int ck_validate_annotations(const cJSON *annotations, const char *path, struct ck_errlist *out);

#endif
