/* serviceaccount.c - the serviceaccount-controller, as upstream's ServiceAccountsController:
 * every Active namespace gets a ServiceAccount named "default", created again when deleted.
 * Keys are namespace names; namespaces (add/update) and ServiceAccounts (delete of a managed
 * name) enqueue them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cm.h"
#include "controller.h"
#include "json.h"
#include "log.h"
#include "mem.h"

static const struct ck_gvr sa_ns_gvr = {"", "v1", "namespaces"};
static const struct ck_gvr sa_gvr = {"", "v1", "serviceaccounts"};

/* The ServiceAccounts every namespace gets (upstream's DefaultServiceAccountsControllerOptions). */
static const char *const sa_managed[] = {"default"};

/* One controller per process: the state lives for the whole run (informers are the factory's). */
static struct {
    struct ck_client *client;
    struct ck_informer *namespaces, *accounts;
} sa_state;

/* A ServiceAccount event concerns its namespace only when the account is a managed one. */
static void sa_account_key(void *ctx, const struct ck_obj *obj, struct ck_strlist *keys)
{
    (void)ctx;
    const char *name = ck_json_get_string(obj->json, "metadata.name", "");
    const char *ns = ck_json_get_string(obj->json, "metadata.namespace", "");
    for (size_t i = 0; i < sizeof(sa_managed) / sizeof(sa_managed[0]); i++)
        if (!strcmp(name, sa_managed[i]) && ns[0])
            ck_strlist_add(keys, ns);
}

static int sa_sync(void *ctx, const char *key)
{
    (void)ctx;
    struct ck_obj *ns = ck_store_get(ck_informer_store(sa_state.namespaces), key);
    if (!ns)
        return 0; /* gone: nothing to do */
    const char *phase = ck_json_get_string(ns->json, "status.phase", "Active");
    bool terminating = ck_json_get(ns->json, "metadata.deletionTimestamp") != NULL;
    ck_obj_unref(ns);
    if (strcmp(phase, "Active") != 0 || terminating)
        return 0;
    int rc = 0;
    for (size_t i = 0; i < sizeof(sa_managed) / sizeof(sa_managed[0]); i++) {
        char *skey = ck_xasprintf("%s/%s", key, sa_managed[i]);
        struct ck_obj *have = ck_store_get(ck_informer_store(sa_state.accounts), skey);
        free(skey);
        if (have) {
            ck_obj_unref(have);
            continue;
        }
        cJSON *sa = cJSON_CreateObject();
        ck_json_set_string(sa, "apiVersion", "v1");
        ck_json_set_string(sa, "kind", "ServiceAccount");
        ck_json_set_string(sa, "metadata.name", sa_managed[i]);
        struct ck_error err = CK_ERROR_INIT;
        int r = ck_client_create(sa_state.client, &sa_gvr, key, sa, NULL, &err);
        cJSON_Delete(sa);
        if (r < 0 && err.code == 409)
            r = 0; /* AlreadyExists: our cache is behind */
        if (r < 0 && err.code == 403 && strstr(err.message, "being terminated"))
            r = 0; /* the namespace began terminating meanwhile */
        if (r < 0) {
            ck_err("Failed to create ServiceAccount %s/%s: %s", key, sa_managed[i], err.message);
            rc = r;
        }
        ck_error_clear(&err);
    }
    return rc;
}

int cm_serviceaccount_start(struct ck_controller_context *cc, struct ck_error *err)
{
    (void)err;
    sa_state.client = cc->client;
    sa_state.namespaces = ck_informer_factory_get(cc->informers, &sa_ns_gvr);
    sa_state.accounts = ck_informer_factory_get(cc->informers, &sa_gvr);
    struct ck_controller_opts o = {.name = "serviceaccount", .sync = sa_sync};
    struct ck_controller *c = ck_controller_new(&o);
    ck_controller_watch(c, sa_state.namespaces, NULL);
    ck_controller_watch(c, sa_state.accounts, sa_account_key);
    return ck_controller_context_add(cc, c, 1);
}
