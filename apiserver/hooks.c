/* hooks.c - the table of per-resource storage hooks (see hooks.h). */
#include "hooks.h"

#include <string.h>

#include "admit_pods.h"
#include "service_alloc.h"

static const struct resource_hooks HOOKS[] = {
    {.group = "", .plural = "pods", .admit = admit_pod},
    {.group = "",
     .plural = "services",
     .create = service_alloc_create,
     .create_failed = service_alloc_create_failed,
     .update = service_alloc_update,
     .update_done = service_alloc_update_done,
     .deleted = service_alloc_deleted},
};

const struct resource_hooks *hooks_for(const struct resource *r)
{
    for (size_t i = 0; i < sizeof(HOOKS) / sizeof(HOOKS[0]); i++)
        if (!strcmp(HOOKS[i].group, r->group) && !strcmp(HOOKS[i].plural, r->plural))
            return &HOOKS[i];
    return NULL;
}
