/* fuzz_printers.c - printers_table_object / printers_table (apiserver/printers) on any JSON
 * object, printed as the kind it names and as a kind picked from the printer tables (so a
 * fuzzed object is printed as a Pod, a Node, a Service, ... in turn), as `kubectl get` asks
 * for a Table of whatever etcd holds.
 *
 * Properties (printers.h: "anything missing or of the wrong JSON type reads as upstream's
 * zero value, so any input prints without crashing"): never a crash, leak or UB; every
 * object gives a Table with one row whose cells are as many as the columns. */
#include "fuzz.h"
#include "json.h"
#include "apiserver/printers/printers.h"
#include "apiserver/printers/printers_internal.h"

static const struct printer_kind *const FAMILIES[] = {
    printers_pod_kinds,     printers_workload_kinds, printers_core_kinds,
    printers_storage_kinds, printers_cluster_kinds,
};
static const char *const INCLUDE[] = {"Object", "Metadata", "None"};
static const struct timespec NOW = {1732284000, 0};

static size_t kind_count(void)
{
    size_t n = 0;
    for (size_t f = 0; f < sizeof FAMILIES / sizeof FAMILIES[0]; f++)
        for (const struct printer_kind *k = FAMILIES[f]; k->kind; k++)
            n++;
    return n;
}

static const struct printer_kind *kind_at(size_t i)
{
    for (size_t f = 0; f < sizeof FAMILIES / sizeof FAMILIES[0]; f++)
        for (const struct printer_kind *k = FAMILIES[f]; k->kind; k++)
            if (i-- == 0)
                return k;
    return NULL;
}

static void print_as(const char *group, const char *version, const char *kind, const cJSON *obj,
                     const char *include)
{
    struct resource r = {.group = group, .version = version, .kind = kind, .plural = "things"};
    cJSON *t = printers_table_object(&r, obj, include, &NOW);
    FUZZ_CHECK(t != NULL, "no table for %s/%s", group, kind);
    const cJSON *cols = ck_json_get(t, "columnDefinitions");
    const cJSON *rows = ck_json_get(t, "rows");
    FUZZ_CHECK(cJSON_GetArraySize(rows) == 1, "%s: not one row", kind);
    const cJSON *cells = ck_json_get(cJSON_GetArrayItem(rows, 0), "cells");
    FUZZ_CHECK(cJSON_GetArraySize(cells) == cJSON_GetArraySize(cols), "%s: %d cells for %d columns",
               kind, cJSON_GetArraySize(cells), cJSON_GetArraySize(cols));
    char *s = ck_json_print(t, 0);
    FUZZ_CHECK(s != NULL, "%s: table does not print", kind);
    free(s);
    cJSON_Delete(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *obj = ck_json_parse((const char *)data, size, NULL);
    if (!obj)
        return 0;
    if (!cJSON_IsObject(obj)) {
        struct resource r = {.group = "", .version = "v1", .kind = "Pod", .plural = "pods"};
        FUZZ_CHECK(printers_table_object(&r, obj, NULL, &NOW) == NULL, "table of a non-object");
        cJSON_Delete(obj);
        return 0;
    }
    static size_t nkinds;
    if (!nkinds)
        nkinds = kind_count();

    /* the kind the object names */
    const char *av = ck_json_get_string(obj, "apiVersion", "v1");
    const char *slash = strrchr(av, '/');
    char *group = slash ? fuzz_cstr((const uint8_t *)av, (size_t)(slash - av)) : fuzz_cstr(0, 0);
    const char *version = slash ? slash + 1 : av;
    print_as(group, version, ck_json_get_string(obj, "kind", "Pod"), obj, INCLUDE[size % 3]);
    free(group);

    /* a kind picked by the input, and the three the node and service views print most */
    const struct printer_kind *k = kind_at(size % nkinds);
    print_as(k->group, "v1", k->kind, obj, "None");
    print_as("", "v1", "Pod", obj, "None");
    print_as("", "v1", "Node", obj, "None");
    print_as("", "v1", "Service", obj, "None");

    /* a list of two, with the list metadata */
    cJSON *items = cJSON_CreateArray();
    cJSON_AddItemToArray(items, ck_json_dup(obj));
    cJSON_AddItemToArray(items, ck_json_dup(obj));
    struct resource r = {.group = k->group, .version = "v1", .kind = k->kind, .plural = "x"};
    cJSON *t = printers_table(&r, items, "Object", "7", "tok", 3, &NOW);
    FUZZ_CHECK(t && cJSON_GetArraySize(ck_json_get(t, "rows")) == 2, "list table wrong");
    cJSON_Delete(t);
    cJSON_Delete(items);
    cJSON_Delete(obj);
    return 0;
}
