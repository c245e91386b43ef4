/* bootstrap.c - system namespaces at start-up (see bootstrap.h). */
#include "bootstrap.h"

#include "json.h"
#include "log.h"
#include "objmeta.h"

static const char *const SYSTEM_NAMESPACES[] = {"default", "kube-system", "kube-public",
                                                "kube-node-lease", NULL};

int bootstrap_run(struct apiserver *s, struct ck_error *err)
{
    const struct resource *r = resource_find("", "v1", "namespaces");
    for (size_t i = 0; SYSTEM_NAMESPACES[i]; i++) {
        cJSON *obj = NULL;
        struct ck_error e = CK_ERROR_INIT;
        int rc = store_get(&s->store, r, "", SYSTEM_NAMESPACES[i], &obj, &e);
        cJSON_Delete(obj);
        if (rc == 0)
            continue;
        if (e.code != 404) {
            ck_error_set(err, e.code, e.reason, "%s", e.message);
            ck_error_clear(&e);
            return rc;
        }
        ck_error_clear(&e);
        obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "kind", "Namespace");
        cJSON_AddStringToObject(obj, "apiVersion", "v1");
        meta_set_str(obj, "name", SYSTEM_NAMESPACES[i]);
        meta_prepare_create(r, obj);
        rc = store_create(&s->store, r, obj, &e);
        cJSON_Delete(obj);
        if (rc < 0 && e.code != 409) {
            ck_error_set(err, e.code, e.reason, "%s", e.message);
            ck_error_clear(&e);
            return rc;
        }
        ck_error_clear(&e);
        ck_info("created namespace %s", SYSTEM_NAMESPACES[i]);
    }
    return 0;
}
