/* services.c - the Service strategy: DNS-1035 names, field selectors, defaults, validation.
 * ClusterIP and NodePort allocation live in the apiserver's allocator, not here. */
#include "kinds.h"

static const char *const SERVICE_FIELDS[] = {"spec.clusterIP", "spec.type", NULL};

const struct strategy strategy_service = {
    .flags = STRAT_STATUS,
    .name_rule = NAME_DNS1035_LABEL,
    .field_labels = SERVICE_FIELDS,
};
