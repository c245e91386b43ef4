/* yaml.h - YAML <-> JSON (cJSON trees) the way kubectl and the apiserver do it.
 *
 * Upstream decodes YAML with sigs.k8s.io/yaml on top of go-yaml v2: YAML 1.1 scalar resolution
 * (`yes`/`on`/`n` are booleans, `017` is octal, `1e3` a number, `~` null), anchors, aliases and
 * `<<` merge keys, then a conversion to JSON in which non-string map keys become strings
 * (`1: a` -> "1", `true: x` -> "true"). This module follows those rules on top of libyaml and
 * produces cJSON trees; see yaml_resolve.c and yaml_parse.c for the details of each rule.
 *
 * Parsing:
 *  - ck_yaml_parse: the first document of `data`, like sigs.k8s.io/yaml.YAMLToJSON (an empty
 *    document gives a JSON null).
 *  - ck_yaml_parse_stream: every document, split as kubectl's YAMLReader splits a file (a line
 *    starting with `---` ends a document; only spaces or a comment may follow it), documents
 *    that decode to null (empty, only comments, `null`) skipped as kubectl's builder skips
 *    them. A stream whose first non-space byte is `{` is read as concatenated JSON values, as
 *    kubectl's YAMLOrJSONDecoder does.
 *  Errors read like upstream's, e.g. "error converting YAML to JSON: yaml: line 3: mapping
 *  values are not allowed in this context" (line numbers count within the document, as go-yaml
 *  reports them; go-yaml gives no column and neither do we), and are reported as 400
 *  BadRequest in the ck_error with -EINVAL returned.
 *
 *  Numbers: integers that fit in a double exactly (|n| <= 2^53) become cJSON numbers; larger
 *  integers (int64, uint64, and go-yaml's big integers written in hex/octal/binary) become
 *  cJSON raw items (cJSON_IsRaw) holding the exact decimal text, so no precision is lost
 *  silently; floats become cJSON numbers. `.inf` and `.nan` are rejected as upstream's JSON
 *  encoder rejects them ("json: unsupported value: +Inf").
 *
 *  Keys keep document order (upstream's Go maps have none; its json.Marshal sorts them). A
 *  key given twice keeps its first place and its last value. Known gaps: a `\0` escape ends
 *  the string (cJSON strings are C strings); libyaml 0.2.5 accepts `?` inside flow plain
 *  scalars and `,` ends a tag in flow context where go-yaml v2 differs (both rare).
 *
 *  Limits: nesting deeper than CK_YAML_MAX_DEPTH fails ("exceeded max depth of 1000"); alias
 *  expansion is capped with go-yaml's ratio rule ("document contains excessive aliasing"), so
 *  "billion laughs" inputs fail fast; invalid UTF-8 fails with libyaml's reader error.
 *
 * Emitting (JSON -> YAML, `kubectl get -o yaml` style, i.e. go-yaml v2's Marshal): block
 * style, 2-space indentation, sequences under a mapping key not indented, strings that would
 * read back as another type double-quoted ("true", "1", "0x10", ""), strings that cannot be
 * plain single-quoted (' lead', '*'), multi-line strings as `|`/`|-`/`|+` literal blocks,
 * `{}` and `[]` for empty collections, lines folded at 80 columns as go-yaml does, numbers
 * printed as Go prints them (integers without `.0`, 1e+06 style exponents for large
 * non-integers). Keys are written in the cJSON order unless CK_YAML_SORT_KEYS asks for
 * go-yaml's map order, which is what kubectl prints (kubectl marshals maps, so its output is
 * always sorted: pass CK_YAML_SORT_KEYS for a faithful `-o yaml`). As go-yaml, a string key
 * "<<" is written plain and so reads back as a merge key.
 *
 * Ownership: every cJSON tree returned through an out-parameter belongs to the caller
 * (cJSON_Delete); strings returned are malloc'd and belong to the caller (free). Input cJSON
 * trees are only borrowed.
 */
/* This header shares its name with libyaml's <yaml.h>. yaml_internal.h defines
 * CK_YAML_WANT_LIBYAML before `#include <yaml.h>`; when -Icommon makes that include land here,
 * forward it. */
#if defined(CK_YAML_WANT_LIBYAML) && !defined(CK_YAML_LIBYAML_FORWARDED)
#define CK_YAML_LIBYAML_FORWARDED
#include_next <yaml.h>
#endif

#ifndef CK_YAML_H
#define CK_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"

/* Deepest nesting of mappings/sequences accepted in either direction. */
#define CK_YAML_MAX_DEPTH 1000

enum ck_yaml_flags {
    /* Parse: a key given twice in one mapping is an error, as YAMLToJSONStrict (and the
     * apiserver's strict field validation) reports it:
     * "yaml: unmarshal errors:\n  line 2: key \"a\" already set in map". Without it the last
     * value wins, as YAMLToJSON does. */
    CK_YAML_STRICT = 1 << 0,
    /* Emit: keys in go-yaml's map order (natural order: letters before other characters,
     * digit runs compared as numbers), as kubectl prints them. */
    CK_YAML_SORT_KEYS = 1 << 1,
};

/* Parses the first YAML document of data[0..len) into *out (caller owns; a cJSON null for an
 * empty document). Returns 0, or -EINVAL with err filled; *out is NULL on error. */
int ck_yaml_parse(const char *data, size_t len, unsigned flags, cJSON **out, struct ck_error *err);

/* Parses a stream of documents into *out, a cJSON array holding one item per non-null
 * document in input order (caller owns the array). Returns 0, or -EINVAL with err filled
 * (the message of a YAML error in document N says so only through its text, as kubectl's);
 * *out is NULL on error. */
int ck_yaml_parse_stream(const char *data, size_t len, unsigned flags, cJSON **out,
                         struct ck_error *err);

/* True when the first non-whitespace byte of data is `{` or `[`, i.e. the caller may treat the
 * bytes as JSON rather than YAML (kubectl sniffs a leading `{` the same way). */
bool ck_yaml_looks_like_json(const char *data, size_t len);

/* Appends the YAML form of doc to out (one document, no `---`, ending in a newline). Returns 0,
 * or -EINVAL with err filled when doc cannot be written (nesting deeper than
 * CK_YAML_MAX_DEPTH); out may then hold a partial document. */
int ck_yaml_emit(const cJSON *doc, unsigned flags, struct ck_buf *out, struct ck_error *err);

/* Appends every item of the cJSON array docs as YAML documents separated by `---` lines, as
 * go-yaml's Encoder writes a stream. Returns as ck_yaml_emit. */
int ck_yaml_emit_stream(const cJSON *docs, unsigned flags, struct ck_buf *out,
                        struct ck_error *err);

/* Convenience: the YAML text of doc as a malloc'd string (caller frees), or NULL on error. */
char *ck_yaml_dump(const cJSON *doc, unsigned flags);

#endif
