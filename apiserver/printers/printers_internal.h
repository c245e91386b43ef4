/* printers_internal.h - what the per-kind printer files share: the printer row type (columns +
 * a row function, keyed by group and kind), the row being built, and cell helpers that follow
 * upstream's formatting (translateTimestampSince, labels.FormatLabels, FormatLabelSelector,
 * layoutContainerCells, "<none>"/"<unset>" placeholders...). Not part of the public API.
 */
#ifndef APISERVER_PRINTERS_INTERNAL_H
#define APISERVER_PRINTERS_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "json.h"
#include "timeutil.h"

/* One metav1.TableColumnDefinition. Arrays of them end with a {NULL} entry. */
struct printer_column {
    const char *name;
    const char *type; /* "string", "integer", "boolean", "date" */
    const char *format;
    const char *description;
    int priority; /* 0: default columns; 1: shown by `-o wide` */
};

/* The row a row function fills. */
struct prow {
    const struct timespec *now; /* never NULL */
    const char *version;        /* the resource's version ("v1", "v2"): some kinds differ */
    cJSON *cells;               /* append one cell per column, in column order */
    cJSON *conditions;          /* optional metav1.TableRowCondition array (owned by the row) */
};

typedef void (*printer_row_fn)(struct prow *row, const cJSON *obj);

/* One printer: a (group, kind) row of a family table. Family tables end with {NULL}. */
struct printer_kind {
    const char *group;
    const char *kind;
    const struct printer_column *columns;
    printer_row_fn row;
};

/* The family tables, one per file. */
extern const struct printer_kind printers_pod_kinds[];      /* print_pods.c */
extern const struct printer_kind printers_workload_kinds[]; /* print_workloads.c */
extern const struct printer_kind printers_core_kinds[];     /* print_core.c */
extern const struct printer_kind printers_storage_kinds[];  /* print_storage.c */
extern const struct printer_kind printers_cluster_kinds[];  /* print_cluster.c */

/* Column descriptions shared by many kinds (upstream's ObjectMeta swagger docs, and its
 * wording for the template's containers and images). */
extern const char PRINTERS_DESC_NAME[];
extern const char PRINTERS_DESC_AGE[];
extern const char PRINTERS_DESC_CONTAINERS[];
extern const char PRINTERS_DESC_IMAGES[];

/* Column shorthands (kept on one line each: clang-format mangles braces in macros). */
// clang-format off
#define COL(n, t, d) {n, t, "", d, 0}
#define COL_WIDE(n, t, d) {n, t, "", d, 1}
#define COL_NAME {"Name", "string", "name", PRINTERS_DESC_NAME, 0}
#define COL_AGE {"Age", "string", "", PRINTERS_DESC_AGE, 0}
#define COL_CONTAINERS_WIDE {"Containers", "string", "", PRINTERS_DESC_CONTAINERS, 1}
#define COL_IMAGES_WIDE {"Images", "string", "", PRINTERS_DESC_IMAGES, 1}
#define COL_END {NULL, NULL, NULL, NULL, 0}
// clang-format on

/* ---- reading objects (all borrow; missing or mistyped values read as the zero value) ---- */

/* The string at a dot path, "" when absent. */
const char *pj_str(const cJSON *obj, const char *path);
/* The integer at a dot path, 0 when absent. */
int64_t pj_int(const cJSON *obj, const char *path);
/* The boolean at a dot path, def when absent. */
bool pj_bool(const cJSON *obj, const char *path, bool def);
/* True when the value at the path is present and not JSON null (a set Go pointer). */
bool pj_set(const cJSON *obj, const char *path);
/* The number of members of the array or object at the path (0 otherwise). */
int64_t pj_count(const cJSON *obj, const char *path);
/* The array at a path, or NULL. */
const cJSON *pj_array(const cJSON *obj, const char *path);

/* ---- time ---- */

/* Parses a metav1.Time / MicroTime; false when absent, invalid, or Go's zero time. */
bool pt_parse(const char *ts, struct timespec *out);
/* Upstream's translateTimestampSince: HumanDuration(now - ts), "<unknown>" for a zero or
 * unparsable time. */
void pt_since(const struct prow *row, const char *ts, char out[CK_HUMAN_BUFSZ]);

/* ---- cells ---- */

void cell_str(struct prow *row, const char *s); /* NULL adds "" */
void cell_fmt(struct prow *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cell_take(struct prow *row, char *s); /* adds s and frees it */
void cell_int(struct prow *row, int64_t v);
void cell_bool(struct prow *row, bool v);
/* metadata.name */
void cell_name(struct prow *row, const cJSON *obj);
/* translateTimestampSince(metadata.creationTimestamp) */
void cell_age(struct prow *row, const cJSON *obj);
/* layoutContainerCells: two cells, the names and the images joined by ','. */
void cell_containers(struct prow *row, const cJSON *containers);

/* ---- formatting (returned strings are owned by the caller) ---- */

/* labels.FormatLabels: "k=v,..." sorted by key, "<none>" when empty. */
char *fmt_labels(const cJSON *map);
/* metav1.FormatLabelSelector: the selector's String(), "<none>" when empty, "<error>" when it
 * does not convert. */
char *fmt_label_selector(const cJSON *sel);
/* LabelSelectorAsSelector(sel).String(), "" for nil/empty, `invalid` when it does not
 * convert (the Deployment printer's variant). */
char *fmt_selector_string(const cJSON *sel, const char *invalid);
/* resource.Quantity String() of a JSON quantity; "0" when absent (a zero Quantity). */
char *fmt_quantity(const cJSON *q);
/* IntOrString String(). */
char *fmt_intstr(const cJSON *v);
/* Go's strings.TrimSpace (Unicode white space). */
char *fmt_trim_space(const char *s);

/* ---- a small sorted set of strings, as upstream's sets.String ---- */

struct strset {
    char **v;
    size_t n, cap;
};
void strset_add(struct strset *s, const char *str); /* copies */
/* Sorts the members bytewise and drops duplicates. */
void strset_sort(struct strset *s);
/* The distinct members sorted bytewise, joined by sep; caller frees. */
char *strset_join(struct strset *s, const char *sep);
void strset_free(struct strset *s);

/* Joins the string members of an array with sep, skipping non-strings; caller frees. */
char *join_strings(const cJSON *arr, const char *sep);

#endif
